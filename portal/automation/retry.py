"""Retried work (rule runs, webhook deliveries): claim, settle, and the next try.

The database is the source of truth. A row is claimed by one conditional update, so a
scheduled retry and the sweep that catches up after a worker was down never both run it.
With Redis the next try is booked on RQ's schedule; in the embedded default the sweep timer
picks it up when it is due.
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from portal.extensions import db
from portal.models_base import utcnow

log = logging.getLogger(__name__)

ERROR_LIMIT = 2000
RESULT_LIMIT = 2000
# A row "running" for longer than this belongs to a worker that died mid-way.
STALE_RUNNING = timedelta(minutes=15)
QUEUED_GRACE = timedelta(minutes=2)


class PermanentFailure(Exception):
    """Trying again cannot help (the thing to act on is gone or refuses): fail at once."""


def retry_delays() -> list[int]:
    return list(current_app.config.get("SIGNET_RETRY_SECONDS") or [])


def max_attempts() -> int:
    return len(retry_delays()) + 1


def claim(model, row_id: int, now: datetime | None = None) -> bool:
    """Mark the row running and count the attempt, if it is waiting and due; did we get it?"""
    now = now or utcnow()
    table = model.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id == row_id, table.c.status.in_(("queued", "retrying")),
               or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now))
        .values(status="running", attempts=table.c.attempts + 1, started_at=now)
    )
    db.session.commit()
    return result.rowcount == 1


def succeed(model, row_id: int, result: str = "", keep_session: bool = False,
            **values) -> None:
    """Mark it done; `keep_session` commits it with what the caller added (one transaction)."""
    _settle(model, row_id, keep_session, status="succeeded",
            result=(result or "")[:RESULT_LIMIT], last_error="", next_attempt_at=None,
            finished_at=utcnow(), **values)


def fail(model, row_id: int, error: str, permanent: bool = False, **values) -> int | None:
    """Record a failed attempt; the seconds until the next one, or None when it is the last."""
    attempts = db.session.execute(
        select(model.attempts).where(model.id == row_id)).scalar_one_or_none() or 0
    delays = retry_delays()
    if permanent or attempts > len(delays):
        _settle(model, row_id, status="failed", last_error=error[:ERROR_LIMIT],
                next_attempt_at=None, finished_at=utcnow(), **values)
        return None
    delay = max(0, delays[attempts - 1]) if attempts >= 1 else 0
    _settle(model, row_id, status="retrying", last_error=error[:ERROR_LIMIT],
            next_attempt_at=utcnow() + timedelta(seconds=delay), **values)
    return delay


def _settle(model, row_id: int, keep_session: bool = False, **values) -> None:
    if not keep_session:
        db.session.rollback()  # whatever a failed attempt left half-done is not ours to keep
    db.session.execute(update(model.__table__).where(model.__table__.c.id == row_id)
                       .values(**values))
    db.session.commit()


def book(job, row_id: int, delay: int, queue: str, job_prefix: str) -> None:
    """The next try on RQ's schedule (nothing in the embedded default: the sweep retries)."""
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        return
    from portal.jobs import enqueue, queue_for

    if delay <= 0:
        enqueue(job, row_id, queue=queue)
        return
    try:
        queue_for(queue, app).enqueue_in(
            timedelta(seconds=delay), job, args=(row_id,),
            job_id=f"{job_prefix}-{row_id}-{int(utcnow().timestamp())}")
    except Exception:  # the sweep still finds it due
        log.exception("Could not book the next try of %s %s", job_prefix, row_id)


def due(model, now: datetime, limit: int = 200) -> list[int]:
    """Rows whose next try is due, queued rows nobody took, and rows a dead worker held."""
    table = model.__table__
    rows = db.session.execute(
        select(table.c.id, table.c.status).where(or_(
            (table.c.status == "retrying") & (table.c.next_attempt_at <= now),
            (table.c.status == "queued") & (table.c.created_at <= now - QUEUED_GRACE),
            (table.c.status == "running") & (table.c.started_at <= now - STALE_RUNNING),
        )).order_by(table.c.id).limit(limit)
    ).all()
    stale = [row_id for row_id, status in rows if status == "running"]
    if stale:
        db.session.execute(update(table).where(table.c.id.in_(stale))
                           .values(status="retrying", next_attempt_at=now))
    db.session.commit()
    return [row_id for row_id, _status in rows]
