"""The unit of work: one place that commits, rolls back, and hands work over after a commit.

A service changes rows, then calls `commit()`; what must only happen once the change is durable
(enqueue a job, dispatch queued messages, tell automation) is handed to `after_commit` and runs
right after that commit, never for a transaction that rolled back. `unit_of_work()` wraps a
block: commit at its end, roll back when anything raises (a domain refusal included).

`lock_document` and friends start a fresh transaction to decide on current data; they call
`require_nothing_written()` first, so they can never commit (or drop) a caller's open changes.
"""

import logging
from collections.abc import Callable
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

log = logging.getLogger(__name__)

_PENDING = "signet_after_commit"  # handed over in the open transaction
_WROTE = "signet_wrote"  # the open transaction flushed something


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the current transaction commits; forget it if it rolls back."""
    db.session.info.setdefault(_PENDING, []).append(callback)


def commit() -> None:
    """Commit the current transaction, then run what was handed over to its commit."""
    session = db.session
    session.commit()
    _run_handed_over(session)


def rollback() -> None:
    """Roll back, and forget what was handed over (also when no transaction had begun)."""
    session = db.session
    session.rollback()
    session.info.pop(_PENDING, None)
    session.info.pop(_WROTE, None)


@contextmanager
def unit_of_work():
    """Commit at the end of the block; roll back when it raises (and re-raise)."""
    try:
        yield
    except BaseException:
        rollback()
        raise
    commit()


def require_nothing_written() -> None:
    """Refuse to end a transaction that holds changes: the caller must commit them itself."""
    session = db.session
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
        raise RuntimeError("a fresh transaction was asked for while this one holds changes; "
                           "commit them first")


def fresh_transaction() -> None:
    """End the caller's read-only transaction so the next statement sees the newest data."""
    require_nothing_written()
    db.session.rollback()


def _run_handed_over(session) -> None:
    # A direct session.commit() elsewhere moves the callbacks to `ready` (see below): they run
    # at the next commit() here rather than being lost.
    ready = session.info.pop(_READY, [])
    for callback in ready:
        try:
            callback()
        except Exception:  # the change is committed; a failed hand-over is caught up later
            log.exception("after-commit work %r failed", callback)


_READY = "signet_committed_work"


@event.listens_for(Session, "after_flush")
def _note_write(session, _context):
    session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _committed(session):
    session.info.pop(_WROTE, None)
    pending = session.info.pop(_PENDING, [])
    if pending:
        session.info.setdefault(_READY, []).extend(pending)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session, previous_transaction):
    if previous_transaction.parent is None:  # the outer transaction, not a savepoint
        session.info.pop(_WROTE, None)
        session.info.pop(_PENDING, None)
