"""The one way to lock a document: a fresh transaction, the row locked, the row read again."""

from sqlalchemy import select, update

from portal.documents.models import Document
from portal.extensions import db
from portal.unit import fresh_transaction


def lock_document(document_id: int) -> Document | None:
    """The document, re-read under its row lock in a fresh transaction (None when gone).

    The caller's transaction must hold no changes (it is ended, never committed, here): the
    decision is then taken on current data, and two callers at once take turns.
    """
    fresh_transaction()
    return lock_current(document_id)


def lock_current(document_id) -> Document | None:
    """Lock the document's row in the caller's own transaction and read it again.

    `document_id` may be a scalar subquery (the signing link's owner, found in the same
    statement, so that on SQLite the write comes first)."""
    table = Document.__table__
    if db.engine.dialect.name == "sqlite":
        # No row locks in SQLite: a write takes the database's write lock (a no-op when this
        # transaction began IMMEDIATE), so a second caller waits and then sees our commit.
        db.session.execute(update(table).where(table.c.id == document_id)
                           .values(stage=table.c.stage))
    return db.session.execute(
        select(Document).where(Document.id == document_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
