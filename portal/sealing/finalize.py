"""The final PDF of a completed document: fields burned in, certificate pages, the seal, sent.

Runs as a job on the "sealing" queue. The document's row is the source of truth, not Redis:
a try claims the sealing by one conditional update that counts the attempt and takes a lease
(SEAL_LEASE), so two workers never seal the same document at once, and a worker killed
mid-seal leaves a lease that ends and is taken over. A failed try sets the next one's due
time in the row (`seal_next_at`, the waits of SIGNET_RETRY_SECONDS); the sweep seals whatever
is due, or was never tried, even after Redis lost every job. After the last wait (with the
defaults 6 tries over about 2 h 40 min) the document waits, with its last error, on the admin
sealing page, whose "Seal again now" (or `flask signet seal-pending`) tries once more.
"""

import logging
import re
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import or_, select, update

from portal import retries, unit
from portal.audit.catalogue import DOCUMENT_FINALIZED
from portal.audit.service import events_for
from portal.auth.services import staff_language
from portal.delivery.services import InvalidRecipient, dispatch, queue_email, queue_sms
from portal.documents.display import document_url, format_moment
from portal.documents.models import Document, Field
from portal.documents.recipients import responsible_of
from portal.documents.trail import audit
from portal.extensions import db
from portal.jobs import app_job, enqueue
from portal.models_base import utcnow
from portal.sealing.burn import Mark
from portal.sealing.certificate import assemble_final
from portal.sealing.pades import TimestampUnavailable, seal_pdf
from portal.sealing.store import long_term, portal_certificates
from portal.storage import BlobMissing, read, store
from portal.workflow.lock import lock_document

log = logging.getLogger(__name__)

IMAGE_TYPES = ("signature", "initials", "stamp")
TEXT_TYPES = ("text", "number", "date", "requisites")
FALSE_WORDS = ("", "0", "false", "no", "off")
DOWNLOAD_SALT = "final-pdf"
DOWNLOAD_DAYS = 30
UNSAFE_FILENAME = re.compile(r"[^\w.\-]+", re.UNICODE)

SEAL_QUEUE = "sealing"
# Longer than any seal takes (two time-stamping authorities that time out take under a
# minute): a lease still running belongs to a live worker, an ended one to a dead one.
SEAL_LEASE = timedelta(minutes=10)
# The job queued on completion normally claims the document within seconds; one never tried
# this long after completion had its job lost (Redis emptied, no worker) and is queued again.
FIRST_TRY_GRACE = timedelta(minutes=5)
DUE_BATCH = 200


@app_job
def finalize_document(document_id: int) -> str | None:
    """Burn in the fields, add the certificate pages, seal, keep and send the final PDF.

    Idempotent: a document already sealed, being sealed by another worker, or whose next try
    is not due yet is left alone. A failure is kept on the document with its next try's due
    time (the admin sealing page lists it) and booked on RQ's schedule; it is not raised, so
    RQ's own retries never try out of turn.
    """
    attempt = claim_sealing(document_id)
    if attempt is None:
        return None
    try:
        sealed = _seal_and_keep(document_id, attempt)
    except Exception as error:
        unit.rollback()
        delay = _remember_failure(document_id, attempt, error)
        if delay is not None:
            _book_retry(document_id, delay)
        return None
    if sealed is None:
        return None
    sha256, message_ids = sealed
    dispatch(message_ids)
    log.info("Document %s finalized: %s", document_id, sha256)
    return sha256


def _seal_and_keep(document_id: int, attempt: int) -> tuple[str, list[int]] | None:
    """Seal, then store the PDF and queue its mail in one transaction, once per document."""
    document = db.session.get(Document, document_id)
    events = events_for(document.id)
    pdf = seal(document, read(document.source_sha256), marks_for(document), events)
    # Locked and re-checked only now: the slow part above must not hold the lock. A worker
    # whose lease ended and was taken over may get here second: it stores and mails nothing.
    document = lock_document(document_id)
    if document is None or document.final_sha256:
        unit.rollback()
        return None
    blob = store(pdf, "application/pdf")
    document.final_sha256 = blob.sha256
    document.seal_error = ""
    document.seal_next_at = None
    document.seal_lease_until = None
    # The head the certificate prints: /verify shows it beside the events recorded since.
    audit(DOCUMENT_FINALIZED, document, None, None, sha256=blob.sha256, size=blob.size,
          attempts=attempt, certificate_chain_head=events[-1].hash if events else "")
    # The final PDF's messages are rows of this very commit: sealing tried again later finds
    # the final PDF and queues nothing, so each completion mails once.
    message_ids = queue_final_delivery(document, blob.size)
    unit.commit()
    return blob.sha256, message_ids


def claim_sealing(document_id: int, now: datetime | None = None) -> int | None:
    """Take the sealing of a completed, unsealed document that nobody holds and that is due;
    the attempt's number, or None when it is not ours to seal now.

    One conditional update decides: of two workers, the second finds the lease taken (on
    PostgreSQL it waits for the first's commit and re-checks; SQLite writes one at a time).
    """
    now = now or utcnow()
    table = Document.__table__
    claimed = db.session.execute(
        update(table)
        .where(table.c.id == document_id, table.c.stage == "completed",
               table.c.final_sha256.is_(None),
               or_(table.c.seal_lease_until.is_(None), table.c.seal_lease_until <= now),
               or_(table.c.seal_next_at.is_(None), table.c.seal_next_at <= now))
        .values(seal_attempts=table.c.seal_attempts + 1, seal_lease_until=now + SEAL_LEASE,
                seal_next_at=None)
    ).rowcount == 1
    attempt = db.session.scalar(select(table.c.seal_attempts).where(table.c.id == document_id)) \
        if claimed else None
    unit.commit()
    return attempt


def sealing_due(now: datetime | None = None, limit: int = DUE_BATCH) -> list[int]:
    """Documents to seal now: a retry due, a first try whose job was lost, a lease ended."""
    now = now or utcnow()
    free = Document.seal_lease_until.is_(None)
    ids = db.session.scalars(
        select(Document.id).where(
            Document.stage == "completed", Document.final_sha256.is_(None),
            or_(free & (Document.seal_next_at <= now),
                free & Document.seal_next_at.is_(None) & (Document.seal_attempts == 0)
                & (Document.completed_at <= now - FIRST_TRY_GRACE),
                Document.seal_lease_until <= now))
        .order_by(Document.id).limit(limit)).all()
    unit.rollback()
    return list(ids)


def seal_due(now: datetime | None = None) -> int:
    """Queue sealing for every document due (the sweep's step); how many were queued."""
    document_ids = sealing_due(now)
    for document_id in document_ids:
        enqueue(finalize_document, document_id, queue=SEAL_QUEUE)
    return len(document_ids)


def _book_retry(document_id: int, delay: int) -> None:
    # On RQ's schedule for punctuality; without Redis, or if this booking is lost, the sweep
    # finds the row due all the same.
    retries.book(finalize_document, document_id, delay, SEAL_QUEUE, "signet-seal")


def seal(document: Document, pdf: bytes, marks: Sequence[Mark] = (),
         events: list | None = None) -> bytes:
    """`marks` burned in, certificate pages and footers added, then the PAdES seal over it all.

    Everything read from the database is read first: composing and sealing take a while and
    hold no transaction.
    """

    config = current_app.config
    with force_locale(document.language):
        reason = _("All parties signed document %(number)s", number=document.number)
    events = events_for(document.id) if events is None else events
    assembled = assemble_final(
        pdf, document,
        marks=marks,
        original_sha256=document.source_sha256,
        events=events,
        chain_head=events[-1].hash if events else "",
        verify_url=verify_url(document.verification_code),
    )
    return seal_pdf(
        assembled, portal_certificates(),
        reason=reason,
        location=config["SIGNET_SEAL_LOCATION"] or config["SIGNET_BASE_URL"],
        timestamp_urls=config["SIGNET_TSA_URLS"],
        long_term=long_term(),
    )


def verify_url(code: str) -> str:
    """The public verify page with the code filled in (what the QR code opens)."""
    return f"{current_app.config['SIGNET_BASE_URL']}/verify?{urlencode({'code': code})}"


def _remember_failure(document_id: int, attempt: int, error: Exception) -> int | None:
    """Keep the failure and when the next try is due; the seconds until then, None if none."""
    log.error("Sealing document %s failed (attempt %s): %s", document_id, attempt, error,
              exc_info=error)
    document = lock_document(document_id)
    if document is None or document.final_sha256 or document.seal_attempts != attempt:
        # Sealed meanwhile, or our lease ended and another try took over: not ours to settle.
        unit.rollback()
        return None
    now = utcnow()
    delays = retries.retry_delays()
    delay = delays[attempt - 1] if attempt <= len(delays) else None
    document.seal_error = _failure_text(error)
    document.seal_failed_at = now
    document.seal_lease_until = None
    document.seal_next_at = now + timedelta(seconds=delay) if delay is not None else None
    unit.commit()
    if delay is None:
        log.error("Sealing document %s gave up after %s attempts", document_id, attempt)
    return delay


# A failure is kept as "[kind] technical detail" and put into words when shown: the job that
# failed speaks whatever language set it off, the admin reading the page speaks their own.
SEAL_FAILURES = {
    "timestamp_unavailable": _l("No time-stamping authority answered; the PDF was not sealed."),
    "file_missing": _l("A stored file is missing: %(detail)s"),
    "error": _l("Sealing failed: %(detail)s"),
}
STORED_FAILURE = re.compile(r"\[([a-z_]+)\] (.*)", re.DOTALL)


def _failure_text(error: Exception) -> str:
    if isinstance(error, TimestampUnavailable):
        return f"[timestamp_unavailable] {error}"[:1000]
    if isinstance(error, BlobMissing):
        return f"[file_missing] {error}"[:1000]
    return f"[error] {type(error).__name__}: {error}"[:1000]


def seal_failure_text(stored: str) -> str:
    """A kept failure in the current language (rows from before kinds show as they were)."""
    match = STORED_FAILURE.fullmatch(stored or "")
    if match is None or match.group(1) not in SEAL_FAILURES:
        return stored or ""
    return str(SEAL_FAILURES[match.group(1)]) % {"detail": match.group(2)}


def unsealed_documents(visible_to=None) -> list[Document]:
    """Completed documents that have no final PDF yet (the admin sealing page lists them).

    `visible_to`: a where-clause (permissions.visible) keeping the documents a user may see.
    """
    query = select(Document).where(Document.stage == "completed", Document.final_sha256.is_(None))
    if visible_to is not None:
        query = query.where(visible_to)
    return list(db.session.execute(query.order_by(Document.completed_at)).scalars())


def seal_state(document: Document, now: datetime | None = None) -> str:
    """Where an unsealed document stands: "sealing" (a live lease), "retrying" (its next try
    has a due time), "waiting" (for its first try, or to be taken over from a dead worker), or
    "given_up" (after the last try: only "Seal again now" tries once more)."""
    now = now or utcnow()
    lease = document.seal_lease_until if document.seal_lease_until else None
    if lease is not None and lease > now:
        return "sealing"
    if document.seal_next_at is not None:
        return "retrying"
    if lease is not None or document.seal_attempts == 0:
        return "waiting"
    return "given_up"


def seal_again(document_ids) -> int:
    """Try these completed, unsealed documents again now (all when None), given up or
    waiting for their next try; how many were queued. One being sealed is left to its try."""
    wanted = [document.id for document in unsealed_documents()
              if document_ids is None or document.id in document_ids]
    if wanted:
        db.session.execute(update(Document).where(Document.id.in_(wanted))
                           .values(seal_next_at=utcnow()))
    unit.commit()
    for document_id in wanted:
        enqueue(finalize_document, document_id, queue=SEAL_QUEUE)
    return len(wanted)


# --- the marks -------------------------------------------------------------------------------

def marks_for(document: Document) -> list[Mark]:
    """One mark per filled field, in the field's own box."""
    return [mark for field in document.fields if (mark := mark_for(field)) is not None]


def mark_for(field: Field) -> Mark | None:
    box = {"page": field.page, "x": field.x, "y": field.y, "w": field.w, "h": field.h}
    value = (field.value or "").strip()
    if field.type in IMAGE_TYPES:
        if not field.value_sha256:
            return None
        return Mark(kind="image", image=read(field.value_sha256), **box)
    if field.type == "checkbox":
        return Mark(kind="check", **box) if value.lower() not in FALSE_WORDS else None
    if field.type in TEXT_TYPES and value:
        return Mark(kind="text", text=field.value, **box)
    return None


# --- delivery --------------------------------------------------------------------------------

def final_filename(document: Document) -> str:
    """The document's number as a file name ("ACT-2026-00001.pdf")."""
    stem = UNSAFE_FILENAME.sub("-", document.number or "").strip("-.") or f"document-{document.id}"
    return f"{stem}.pdf"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DOWNLOAD_SALT)


def download_link(document: Document) -> str:
    """A signed link to the final PDF, valid DOWNLOAD_DAYS days, no login needed."""
    token = _serializer().dumps({"d": document.id, "h": document.final_sha256[:16]})
    return f"{current_app.config['SIGNET_BASE_URL']}/d/{token}"


def load_download(token: str) -> dict:
    """The payload of a download link (itsdangerous raises when forged or too old)."""
    return _serializer().loads(token, max_age=DOWNLOAD_DAYS * 24 * 3600)


def queue_final_delivery(document: Document, size: int) -> list[int]:
    """The final PDF to every party, copy recipient and the responsible employee (no commit)."""
    attach = size <= current_app.config["SIGNET_ATTACH_MAX_BYTES"]
    link = None if attach else download_link(document)
    attachments = [(final_filename(document), document.final_sha256, "application/pdf")]
    seen: set[str] = set()
    message_ids = []

    def mail(address, locale, employee):
        if not address or address.lower() in seen:
            return
        seen.add(address.lower())
        with force_locale(locale), _skipping_bad_contacts(address):
            message = queue_email(
                address, _("Signed: %(number)s %(title)s", number=document.number,
                           title=document.title),
                "completed", "document-completed",
                attachments=attachments if attach else None,
                document=document, company=document.company, attached=attach, link=link,
                days=DOWNLOAD_DAYS, completed=format_moment(document.completed_at),
                employee=employee,
                action_url=link or (document_url(document) if employee else None),
                action_label=_("Download the signed PDF") if link else _("Open the document"))
            db.session.flush()
            message_ids.append(message.id)

    for party in document.parties:
        if party.email:
            mail(party.email, party.speaks, False)
        elif party.phone and party.phone not in seen:
            seen.add(party.phone)
            sms_id = _final_sms(document, party.phone, party.speaks)
            if sms_id is not None:
                message_ids.append(sms_id)
    for user in responsible_of(document):
        mail(user.email, staff_language(user), True)
    return message_ids


def _final_sms(document: Document, phone: str, language: str) -> int | None:
    with force_locale(language), _skipping_bad_contacts(phone):
        message = queue_sms(phone, _(
            "Document %(number)s is signed by everyone. Download it: %(link)s",
            number=document.number, link=download_link(document)), "document-completed")
        db.session.flush()
        return message.id
    return None


@contextmanager
def _skipping_bad_contacts(contact: str):
    # Typed and checked long ago: one unusable address must not keep the others from their copy.
    try:
        yield
    except InvalidRecipient:
        log.warning("Final PDF of a document not sent to %s: not a valid contact", contact)
