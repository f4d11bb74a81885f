"""One sweep over everything that waits on the clock, and its place on RQ's schedule."""

import logging
from datetime import UTC, datetime

from flask import Flask, current_app
from rq import get_current_job
from rq.job import Job

from portal import unit
from portal.auth.sessions import forget_old_sessions
from portal.automation.engine import (
    forget_old_logs,
    forget_old_marks,
    replay_lost_events,
    retry_due,
    run_stuck_rules,
)
from portal.bulk.jobs import resume_stalled_batches
from portal.delivery.services import deliver_due_messages
from portal.jobs import app_job, enqueue, queue_for
from portal.models_base import utcnow
from portal.retention.jobs import purge_job
from portal.retention.policy import everything_due
from portal.retention.purge import batch_size
from portal.sealing.archive import restamp_documents
from portal.sealing.finalize import seal_due
from portal.signing.bundle_reminders import send_due_bundle_reminders
from portal.sweep.reminders import send_due_reminders
from portal.vault.bundles import purge_expired_bundles, replay_lost_bundles
from portal.workflow.order import expire_overdue

log = logging.getLogger(__name__)

SWEEP_QUEUE = "default"
SWEEP_JOB_PREFIX = "signet-sweep-"


def run_sweep(now: datetime | None = None) -> dict[str, int]:
    """Expire, remind, re-queue stuck sealing, mail and bulk batches, drop old bundles, run
    "stuck" rules and due automation retries, close lapsed staff sessions; counts per step.

    Idempotent: every step decides from stored times, so running it again sends nothing twice.
    One step failing does not keep the others from running.
    """
    now = now or utcnow()
    steps = {"expired": lambda: expire_overdue(now),
             # a party's own reminders, and a batch ceremony's one reminder for its documents
             "reminded": lambda: send_due_reminders(now) + send_due_bundle_reminders(now),
             "sealing": lambda: reseal_stuck(now),
             # final PDFs whose last time stamp runs out soon: a fresh archive time stamp
             "restamped": lambda: restamp_documents(now),
             "messages": lambda: deliver_due_messages(now),
             "bulk_batches": lambda: resume_stalled_batches(now),
             "bundles": lambda: _purge_bundles(now),
             "stuck_rules": lambda: _stuck_rules(now),
             "automation_retries": lambda: _automation_retries(now),
             "lost_events": lambda: _lost_events(now),
             "automation_logs": lambda: _old_automation_logs(now),
             "retention": lambda: _queue_retention(now),
             # On the clock sessions are checked against at each request, never a `now` given
             # to try the sweep at another time: that would end live sessions.
             "sessions": forget_old_sessions}
    return {name: _step(name, work) for name, work in steps.items()}


def _step(name: str, work) -> int:
    try:
        return work()
    except Exception:
        unit.rollback()
        log.exception("Sweep step %s failed", name)
        return 0


def reseal_stuck(now: datetime) -> int:
    """Queue sealing for documents due by their rows: a retry's time came, the first try's job
    was lost, or a worker died holding the lease (whatever Redis forgot)."""

    return seal_due(now)


def _purge_bundles(now: datetime) -> int:
    """Drop the bundles older than a day and build again those whose job was lost."""

    return purge_expired_bundles(now) + replay_lost_bundles(now)


def _stuck_rules(now: datetime) -> int:

    return run_stuck_rules(now)


def _automation_retries(now: datetime) -> int:

    return retry_due(now)


def _lost_events(now: datetime) -> int:

    forget_old_marks(now)
    return replay_lost_events(now)


def _old_automation_logs(now: datetime) -> int:

    return forget_old_logs(now)


def _queue_retention(now: datetime) -> int:
    """Queue the purge job when some document's retention period has passed; how many are due
    (each action counted up to one run's batch)."""

    count = len(everything_due(now, batch_size()))
    if count:
        enqueue(purge_job, now.isoformat(), queue=SWEEP_QUEUE)
    return count


# --- on RQ's schedule ------------------------------------------------------------------------

@app_job
def sweep_job() -> dict[str, int]:
    """The scheduled sweep; it books the next one before it returns."""
    try:
        return run_sweep()
    finally:
        schedule_next_sweep(after_slot=_slot_of_current_job())


def _slot_of_current_job() -> int | None:
    job = get_current_job()
    job_id = job.id if job is not None else ""
    suffix = job_id[len(SWEEP_JOB_PREFIX):] if job_id.startswith(SWEEP_JOB_PREFIX) else ""
    return int(suffix) if suffix.isdigit() else None


def schedule_next_sweep(app: Flask | None = None, now: datetime | None = None,
                        after_slot: int | None = None) -> str | None:
    """Book the sweep of the next time slot on RQ's schedule; its job id, None when off.

    The job id names the slot, so workers booking the same slot at once keep one job, and the
    slot's job already there (scheduled, queued, running or just done) is left alone. Every
    worker's scheduler calls this each minute, so a chain broken by a lost job or a Redis that
    restarted empty is mended within a minute (or a sweep period, if shorter).
    """
    app = app or current_app._get_current_object()
    period = app.config.get("SIGNET_SWEEP_SECONDS") or 0
    if period <= 0 or not app.config.get("REDIS_URL"):
        return None
    slot = int((now or utcnow()).timestamp() // period) + 1
    if after_slot is not None:  # a sweep run early (by hand) still books a later slot
        slot = max(slot, after_slot + 1)
    job_id = f"{SWEEP_JOB_PREFIX}{slot}"
    queue = queue_for(SWEEP_QUEUE, app)
    if Job.exists(job_id, connection=queue.connection):
        return job_id  # booked already (by another worker, or by this one before a restart)
    queue.enqueue_at(
        datetime.fromtimestamp(slot * period, UTC), sweep_job, job_id=job_id,
        result_ttl=period, failure_ttl=24 * 3600)
    return job_id
