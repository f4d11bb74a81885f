"""Column helpers shared by every domain's models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from portal.extensions import db

DATABASE_INT_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment from outside the database (ISO text, a form, a computed SQL value) as aware
    UTC, a naive one being UTC already. Columns need none of it: UTCDateTime does it."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """A moment in UTC, aware on the way in and out on every database.

    PostgreSQL keeps the offset; SQLite keeps text without one and hands back naive values.
    Values are stored as UTC (a naive value is taken to be UTC already) and always come
    back aware, so code compares and formats them without asking which database it runs on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return as_utc(value)

    def process_result_value(self, value, dialect):
        return as_utc(value)


class Record:
    """One row's values as attributes named as its model names them.

    A read-only stand-in for a model instance where loading instances would cost more than
    the page's own work (the signing page, the board's cards). Nothing writes through it.
    """

    def __init__(self, values: dict):
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__dict__.get('id')}>"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def end_read_before_slow_work() -> None:
    """End the transaction so far (it only read) before work that takes seconds.

    On SQLite every write request holds the database's one write lock from its first query
    (BEGIN IMMEDIATE, see portal/sqlite.py): checking an upload or sealing while holding it
    would keep every other writer waiting. The next query begins a fresh transaction; loaded
    objects are read again when next touched.
    """

    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_read_before_slow_work: the session has unsaved changes")
    session.rollback()
