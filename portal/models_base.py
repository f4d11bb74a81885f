"""Column helpers shared by every domain's models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column

DATABASE_INT_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


def end_read_before_slow_work() -> None:
    """End the transaction so far (it only read) before work that takes seconds.

    On SQLite every write request holds the database's one write lock from its first query
    (BEGIN IMMEDIATE, see portal/sqlite.py): checking an upload or sealing while holding it
    would keep every other writer waiting. The next query begins a fresh transaction; loaded
    objects are read again when next touched.
    """
    from portal.extensions import db

    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_read_before_slow_work: the session has unsaved changes")
    session.rollback()
