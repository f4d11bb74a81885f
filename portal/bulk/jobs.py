"""Running a confirmed batch: each pending row's document created and sent, once.

`run_batch` works through the batch a chunk of rows at a time for a slice of time, then
queues itself again, so one long batch never holds a worker for long and a restart loses at
most a chunk's progress. Each row is claimed by one conditional update (portal.retries, the
outbox's claim): "pending" -> "working" with its attempt counted and the claim's time, so two
runs never do one row twice, and a row whose worker died is taken over once its lease ended.
The row notes its document in the very transaction that creates it, so a taken-over row
sends the document already made instead of making a second one.
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from portal import retries, unit
from portal.audit.service import RequestMeta
from portal.auth.models import User
from portal.auth.services import staff_language
from portal.bulk.models import QUEUED_OR_RUNNING, WORKING, BulkBatch, BulkRow
from portal.doctemplates.models import DocumentTemplate
from portal.documents.errors import AlreadySent
from portal.documents.services import create_from_template
from portal.documents.services import send as send_document
from portal.errors import DomainError
from portal.extensions import db
from portal.jobs import app_job, enqueue
from portal.models_base import utcnow

log = logging.getLogger(__name__)

QUEUE = "default"
CHUNK = 10
# A run gives its worker back after this long and queues the rest as a new job.
SLICE_SECONDS = 20.0
ROW_WAITING = ("pending",)  # what a run takes (a lapsed "working" row too, after its lease)
META = RequestMeta(ip="", user_agent="Signet bulk send")
CLIENT_KEYS = ("kind", "name", "email", "phone", "representative_name", "representative_position")


# Told when a batch's run has ended (the company signer's one invitation for the batch,
# portal/signing/bundles.py); registered when the app is built (portal/reactions.py).
_when_finished: list[Callable[[int], object]] = []


def when_finished(callback: Callable[[int], object]) -> None:
    if callback not in _when_finished:
        _when_finished.append(callback)


def tell_finished(batch_id: int) -> None:
    """After the commit that ended the batch's run (done or cancelled)."""
    for callback in list(_when_finished):
        try:
            callback(batch_id)
        except Exception:  # the batch is ended either way; the sweep is not the place to retry
            unit.rollback()
            log.exception("Telling that batch %s finished failed", batch_id)


def row_lease() -> timedelta:
    """A row "working" for longer belongs to a worker that died mid-row: claimable again."""
    return timedelta(seconds=int(current_app.config.get("SIGNET_BULK_ROW_LEASE_SECONDS") or 300))


def stalled_after() -> timedelta:
    """A running batch no run touched for this long lost its job: the sweep queues it again."""
    return timedelta(seconds=int(current_app.config.get("SIGNET_BULK_STALLED_SECONDS") or 120))


class ClaimLost(Exception):
    """The row's lease ended and another run took it over: this run must not record anything."""


@app_job
def run_batch(batch_id: int) -> None:
    """Create and send the batch's pending rows for a time slice; then queue the rest."""
    until = time.monotonic() + SLICE_SECONDS
    while time.monotonic() < until:
        if not _start(batch_id):
            return
        row_ids = _claimable_rows(batch_id, utcnow(), CHUNK)
        if not row_ids:
            _finish_if_settled(batch_id)
            return
        for row_id in row_ids:
            run_row(row_id)
        _note_progress(batch_id)
    enqueue(run_batch, batch_id, queue=QUEUE)


def start_runs(batch_id: int) -> None:
    """Queue SIGNET_BULK_RUNS runs of the batch: as many workers share it, each claiming the
    next row the others have not (the claims keep a row to one of them)."""
    for _run in range(max(1, int(current_app.config.get("SIGNET_BULK_RUNS") or 1))):
        enqueue(run_batch, batch_id, queue=QUEUE)


def _start(batch_id: int) -> bool:
    """Whether the batch is running, once a confirmed one was started; False: nothing to do."""
    db.session.execute(update(BulkBatch).where(
        BulkBatch.id == batch_id, BulkBatch.status == "confirmed").values(status="running"))
    status = db.session.scalar(select(BulkBatch.status).where(BulkBatch.id == batch_id))
    unit.commit()
    return status == "running"


def _claimable_rows(batch_id: int, now: datetime, limit: int) -> list[int]:
    ids = db.session.scalars(
        select(BulkRow.id).where(BulkRow.batch_id == batch_id, retries.claimable(
            BulkRow, now, running=WORKING, lease=row_lease(), waiting=ROW_WAITING))
        .order_by(BulkRow.row_number).limit(limit)).all()
    unit.commit()
    return list(ids)


def _note_progress(batch_id: int) -> None:
    db.session.execute(update(BulkBatch).where(BulkBatch.id == batch_id)
                       .values(progressed_at=utcnow()))
    unit.commit()


def _finish_if_settled(batch_id: int) -> None:
    """Done once no row waits or is being worked on (a live lease is another run's to end)."""
    unsettled = db.session.scalar(select(func.count(BulkRow.id)).where(
        BulkRow.batch_id == batch_id, BulkRow.status.in_(("pending", WORKING))))
    if unsettled == 0:
        now = utcnow()
        ended = db.session.execute(update(BulkBatch).where(
            BulkBatch.id == batch_id, BulkBatch.status == "running")
            .values(status="done", finished_at=now, progressed_at=now)).rowcount
        unit.commit()
        if ended:
            tell_finished(batch_id)
        return
    unit.commit()


def run_row(row_id: int) -> str | None:
    """Create and send one row's document if the row is ours to do now; its new status."""
    held = retries.claim(BulkRow, row_id, running=WORKING, lease=row_lease(),
                         waiting=ROW_WAITING)
    if held is None:  # done, or another run's
        return None
    row = db.session.get(BulkRow, row_id)
    batch = db.session.get(BulkBatch, row.batch_id)
    actor = db.session.get(User, batch.created_by_id)
    # The row's message is read by its sender, in their language.
    with force_locale(staff_language(actor)):
        return _do_row(row, batch, actor, held)


def _do_row(row: BulkRow, batch: BulkBatch, actor, held: retries.Claim) -> str | None:
    try:
        document_id = row.document_id or _create(row, batch, actor, held)
        _send(actor, document_id)
    except ClaimLost:
        unit.rollback()
        log.warning("Bulk row %s was taken over by another run; this one stops", row.id)
        return None
    except DomainError as refused:
        return _settle(held, "failed", refused.message)
    except Exception:  # logged with its details; the row asks for a retry
        log.exception("Bulk row %s failed", held.row_id)
        return _settle(held, "failed", _(
            "Something went wrong with this row; it was logged. Retry it in a moment."))
    return _settle(held, "sent", "")


def _settle(held: retries.Claim, status: str, message: str) -> str | None:
    written = retries.settle(BulkRow, held.row_id, held, running=WORKING, status=status,
                             last_error=message[:retries.ERROR_LIMIT])
    return status if written else None


def _create(row: BulkRow, batch: BulkBatch, actor, held: retries.Claim) -> int:
    values = row.values
    document = create_from_template(
        actor, META, company_id=batch.company_id, template_id=batch.template_id,
        counterparty_id=row.counterparty_id,
        client=None if row.counterparty_id else {key: values.get(key, "") for key in CLIENT_KEYS},
        before_commit=lambda created: _note_document(created, values, held),
        **document_arguments(values, db.session.get(DocumentTemplate, batch.template_id).name))
    return document.id


def document_arguments(values: dict, template_name: str) -> dict:
    """The row's document variables as create_from_template takes them (only those given).

    A row with an amount and no title has one item named as the document: the template's name.
    """
    title = values.get("title") or template_name
    items = [{**item, "name": item.get("name") or title} for item in values.get("items") or ()]
    arguments = {"title": title, "place": values.get("place", ""), "items": items}
    if values.get("date"):
        arguments["date"] = datetime.fromisoformat(values["date"]).date()
    for key in ("currency", "vat_rate"):
        if values.get(key) not in (None, ""):
            arguments[key] = values[key]
    return arguments


def _note_document(document, values: dict, held: retries.Claim) -> None:
    """In the creating transaction: the client is reached as the row says, and the row holds
    the document while the claim is still ours (else nothing of it is committed)."""
    for party in document.parties_with_role("client"):
        party.channel = values.get("channel") or party.channel
    noted = db.session.execute(update(BulkRow).where(
        BulkRow.id == held.row_id, BulkRow.status == WORKING, BulkRow.attempts == held.attempt,
        BulkRow.started_at == held.at, BulkRow.document_id.is_(None))
        .values(document_id=document.id))
    if noted.rowcount != 1:
        raise ClaimLost()


def _send(actor, document_id: int) -> None:
    try:
        send_document(actor, META, document_id)
    except AlreadySent:  # an earlier try sent it and died before noting so
        unit.rollback()


def resume_stalled_batches(now: datetime) -> int:
    """Queue again the confirmed or running batches no run touched lately (their job was
    lost); the count."""
    ids = db.session.scalars(select(BulkBatch.id).where(
        BulkBatch.status.in_(QUEUED_OR_RUNNING),
        or_(BulkBatch.progressed_at.is_(None), BulkBatch.progressed_at <= now - stalled_after()))
        .order_by(BulkBatch.id)).all()
    if ids:
        db.session.execute(update(BulkBatch).where(BulkBatch.id.in_(ids))
                           .values(progressed_at=now))
    unit.commit()
    for batch_id in ids:
        start_runs(batch_id)
    return len(ids)
