"""The outbox: every message is a row first, written with the event that causes it."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import TimestampMixin

CHANNELS = ("email", "sms")
STATUSES = ("queued", "sent", "failed")


class Message(TimestampMixin, db.Model):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Why it was sent, e.g. "invite" or "signing-invitation", for the outbox viewer.
    kind: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(8), default="queued", index=True)
    backend: Mapped[str] = mapped_column(String(16), default="")
    # The id the provider gave the message (SMTP Message-ID, the SMS gateway's "id").
    provider_id: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Files sent with an email: [{"filename", "sha256" (a stored blob), "content_type"}].
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    # The secret parts (link tokens, codes) the bodies carry as markers, sealed; dropped once a
    # real server delivered the message (see portal.delivery.redaction).
    secrets: Mapped[str | None] = mapped_column(Text)
