"""AuditEvent: one row per thing that happened."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow

ACTOR_TYPES = ("user", "party", "system", "api")


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_document_id_id", "document_id", "id"),
        # The automation sweep looks for recent events whose job was lost.
        Index("ix_audit_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    type: Mapped[str] = mapped_column(String(40))  # e.g. document.created, document.sent
    actor_type: Mapped[str] = mapped_column(String(8))  # ACTOR_TYPES
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(300), default="")  # name <email>
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64))
    # When retention replaced ip and user_agent with a mask: the hash can no longer be
    # recomputed, so the chain check holds such an event to its links only (service.py).
    masked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
