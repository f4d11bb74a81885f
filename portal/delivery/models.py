"""The outbox: every message is a row first, written with the event that causes it."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import TimestampMixin, UTCDateTime

CHANNELS = ("email", "sms")
# queued: waiting for its first try; sending: a delivery claimed it (until its lease ends);
# retrying: a try failed, the next one is due at next_attempt_at; sent: a server (or the
# outbox) took it; failed: final, the tries and hours of the window are used up (or its
# link or code can no longer be read). See portal.delivery.jobs.
STATUSES = ("queued", "sending", "retrying", "sent", "failed")


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
    # The document a signer's message (invitation, reminder, code) is about: the outbox links
    # to its card from here.
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="queued", index=True)
    backend: Mapped[str] = mapped_column(String(16), default="")
    # The id the provider gave the message (SMTP Message-ID, the SMS gateway's "id").
    provider_id: Mapped[str] = mapped_column(String(200), default="")
    # The Message-ID header of this message, made when it was queued and the same for every
    # try, so a receiver can drop a copy; the SMS gateway's Idempotency-Key is made from it.
    message_id_header: Mapped[str] = mapped_column(String(300), default="")
    # The tries of the current sending (since it was queued, or sent again from the outbox).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the current sending began: the window of tries (SIGNET_MESSAGE_GIVE_UP_HOURS) runs
    # from here.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the last claim was taken: with the lease length it says when the claim lapses.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a "retrying" message is tried next.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Files sent with an email: [{"filename", "sha256" (a stored blob), "content_type"}].
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    # The secret parts (link tokens, codes) the bodies carry as markers, sealed; dropped once a
    # real server delivered the message (see portal.delivery.redaction).
    secrets: Mapped[str | None] = mapped_column(Text)
