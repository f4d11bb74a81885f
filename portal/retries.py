"""Work retried from the database (outbox messages, rule runs, webhook deliveries).

The database is the source of truth. A row is claimed by one conditional update: from waiting
("queued", or "retrying" and due) to its running status, with the attempt counted and the time
of the claim. Only the claimant does the work, so a scheduled retry, the sweep catching up and
a second dispatch of the same row never do it twice at once. A claim lasts a lease (the claim
time plus a length): a row still running after it belongs to a worker that died, and the next
claim takes it over. The claimant settles the row with the claim it holds, so a claimant that
outlived its lease cannot overwrite the row's newer outcome.

A failed attempt leaves the row "retrying" with the time of its next try. With Redis that try
is also booked on RQ's schedule, but the row decides: the sweep runs whatever is due, even
after Redis lost everything. In the embedded default (no Redis) the sweep timer runs it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from portal import unit
from portal.extensions import db
from portal.jobs import enqueue, queue_for
from portal.models_base import utcnow

log = logging.getLogger(__name__)

ERROR_LIMIT = 2000
RESULT_LIMIT = 2000
WAITING = ("queued", "retrying")
# A row "running" for longer than this belongs to a worker that died mid-way.
STALE_RUNNING = timedelta(minutes=15)
# A queued row younger than this may still have its first job on the way.
QUEUED_GRACE = timedelta(minutes=2)


class PermanentFailure(Exception):
    """Trying again cannot help (the thing to act on is gone or refuses): fail at once."""


@dataclass(frozen=True)
class Claim:
    """What a claimant holds: which attempt it is and when it was claimed (the lease's start)."""

    row_id: int
    attempt: int
    at: datetime


def retry_delays() -> list[int]:
    """The waits between the tries of rule runs and webhook deliveries (SIGNET_RETRY_SECONDS)."""
    return list(current_app.config.get("SIGNET_RETRY_SECONDS") or [])


def max_attempts() -> int:
    return len(retry_delays()) + 1


def claimable(model, now: datetime, *, running: str = "running",
              lease: timedelta = STALE_RUNNING, waiting: tuple[str, ...] = WAITING):
    """The condition `claim` takes a row on: waiting and due, or its last claim's lease ran
    out. A caller picking rows to claim selects with it."""
    table = model.__table__
    waiting_and_due = table.c.status.in_(waiting)
    if "next_attempt_at" in table.c:  # rows retried on a clock; others wait without one
        waiting_and_due &= or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now)
    lapsed = (table.c.status == running) & (table.c.started_at <= now - lease)
    return or_(waiting_and_due, lapsed)


def claim(model, row_id: int, now: datetime | None = None, *, running: str = "running",
          lease: timedelta = STALE_RUNNING, commit: bool = True,
          waiting: tuple[str, ...] = WAITING) -> Claim | None:
    """Take the row if it is waiting and due, or its last claim's lease ran out; None if not.

    One conditional update, so of two claimants at once exactly one gets the row. With
    `commit=False` a successful claim stays in the open transaction, for the caller to read
    the row in it and commit (one write transaction instead of two: SQLite commits are dear).
    """
    now = now or utcnow()
    table = model.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id == row_id, claimable(model, now, running=running, lease=lease,
                                                waiting=waiting))
        .values(status=running, attempts=table.c.attempts + 1, started_at=now)
    )
    if result.rowcount != 1:
        unit.commit()
        return None
    attempt = db.session.execute(select(table.c.attempts).where(table.c.id == row_id)).scalar_one()
    if commit:
        unit.commit()
    return Claim(row_id=row_id, attempt=attempt, at=now)


def settle(model, row_id: int, held: Claim | None = None, keep_session: bool = False,
           running: str = "running", **values) -> bool:
    """Write the outcome of an attempt; with `held`, only while that claim is still the row's.

    `keep_session` commits it with what the caller added (one transaction); otherwise whatever
    a failed attempt left half-done is rolled back first. Whether the row was written.
    """
    if not keep_session:
        unit.rollback()
    table = model.__table__
    condition = table.c.id == row_id
    if held is not None:
        condition &= ((table.c.status == running) & (table.c.attempts == held.attempt)
                      & (table.c.started_at == held.at))
    result = db.session.execute(update(table).where(condition).values(**values))
    unit.commit()
    if result.rowcount != 1 and held is not None:
        log.warning("%s %s: the claim of attempt %s lapsed and was taken over; its outcome is "
                    "not recorded", table.name, row_id, held.attempt)
    return result.rowcount == 1


def settle_failure(model, row_id: int, error: str, delay: int | None,
                   held: Claim | None = None, running: str = "running",
                   **values) -> int | None:
    """Record a failed attempt: "retrying" with its next try in `delay` seconds, or "failed"
    when `delay` is None. Returns `delay` (None when the row is failed, or the claim was lost).
    """
    error = (error or "")[:ERROR_LIMIT]
    if delay is None:
        settle(model, row_id, held, running=running, status="failed", last_error=error,
               next_attempt_at=None, **values)
        return None
    delay = max(0, delay)
    written = settle(model, row_id, held, running=running, status="retrying", last_error=error,
                     next_attempt_at=utcnow() + timedelta(seconds=delay), **values)
    return delay if written else None


def succeed(model, row_id: int, result: str = "", keep_session: bool = False,
            **values) -> None:
    """Mark a rule run or webhook delivery done (see `settle` for `keep_session`)."""
    settle(model, row_id, keep_session=keep_session, status="succeeded",
           result=(result or "")[:RESULT_LIMIT], last_error="", next_attempt_at=None,
           finished_at=utcnow(), **values)


def fail(model, row_id: int, error: str, permanent: bool = False, **values) -> int | None:
    """Record a failed rule run or webhook delivery after SIGNET_RETRY_SECONDS; the seconds
    until the next try, or None when it was the last."""
    attempts = db.session.execute(
        select(model.attempts).where(model.id == row_id)).scalar_one_or_none() or 0
    delays = retry_delays()
    if permanent or attempts > len(delays):
        return settle_failure(model, row_id, error, None, finished_at=utcnow(), **values)
    delay = delays[attempts - 1] if attempts >= 1 else 0
    return settle_failure(model, row_id, error, delay, **values)


def book(job, row_id: int, delay: int, queue: str, job_prefix: str) -> None:
    """The next try on RQ's schedule (nothing in the embedded default: the sweep retries)."""
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        return

    if delay <= 0:
        enqueue(job, row_id, queue=queue)
        return
    try:
        queue_for(queue, app).enqueue_in(
            timedelta(seconds=delay), job, args=(row_id,),
            job_id=f"{job_prefix}-{row_id}-{int(utcnow().timestamp())}")
    except Exception:  # the sweep still finds it due
        log.exception("Could not book the next try of %s %s", job_prefix, row_id)


def due(model, now: datetime, limit: int = 200, *, running: str = "running",
        lease: timedelta = STALE_RUNNING, queued_grace: timedelta = QUEUED_GRACE,
        queued_since: str = "created_at", after: int = 0) -> list[int]:
    """Rows whose next try is due, queued rows nobody took within the grace, and rows whose
    claim's lease ran out (their worker died), by id from `after` on; `claim` takes each."""
    table = model.__table__
    rows = db.session.scalars(
        select(table.c.id).where(table.c.id > after, or_(
            (table.c.status == "retrying") & (table.c.next_attempt_at <= now),
            (table.c.status == "queued") & (table.c[queued_since] <= now - queued_grace),
            (table.c.status == running) & (table.c.started_at <= now - lease),
        )).order_by(table.c.id).limit(limit)
    ).all()
    unit.commit()
    return list(rows)
