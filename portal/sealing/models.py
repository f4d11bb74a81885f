"""What re-stamping keeps: every earlier final PDF of a document, and when its time runs out."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow


class EarlierFinal(db.Model):
    """A final PDF a document had before an archive time stamp was added: still authentic."""

    __tablename__ = "earlier_finals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ArchiveClock(db.Model):
    """When the last time stamp of a document's final PDF stops being checkable: its
    time-stamping certificate's end (None: the file has no time stamp). Read once per file."""

    __tablename__ = "archive_clocks"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    final_sha256: Mapped[str] = mapped_column(String(64))
    timestamp_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
