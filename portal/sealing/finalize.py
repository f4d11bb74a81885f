"""The final PDF of a completed document: fields burned in, certificate pages, the seal, sent.

Runs as a job on the "sealing" queue (retried); a document whose sealing keeps failing stays
"completed" without a final PDF and is listed on the admin sealing page with the last error.
"""

import logging
import re
from collections.abc import Sequence
from contextlib import contextmanager
from urllib.parse import urlencode

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from portal.audit.service import events_for
from portal.auth.services import staff_language
from portal.delivery.services import InvalidRecipient, dispatch, queue_email, queue_sms
from portal.documents.models import Document, Field
from portal.documents.progress import document_url, format_moment, lock_document, responsible_of
from portal.documents.services.common import audit
from portal.extensions import db
from portal.jobs import app_job
from portal.models_base import utcnow
from portal.sealing.burn import Mark
from portal.sealing.pades import TimestampUnavailable, seal_pdf
from portal.sealing.store import portal_certificates
from portal.storage import BlobMissing, read, store

log = logging.getLogger(__name__)

IMAGE_TYPES = ("signature", "initials", "stamp")
TEXT_TYPES = ("text", "number", "date", "requisites")
FALSE_WORDS = ("", "0", "false", "no", "off")
DOWNLOAD_SALT = "final-pdf"
DOWNLOAD_DAYS = 30
UNSAFE_FILENAME = re.compile(r"[^\w.\-]+", re.UNICODE)


@app_job
def finalize_document(document_id: int) -> str | None:
    """Burn in the fields, add the certificate pages, seal, keep and send the final PDF.

    Idempotent: a document that already has its final PDF is left alone. A failure is kept on
    the document (the admin sealing page lists it) and raised again, so the queue retries.
    """
    document = db.session.get(Document, document_id)
    if document is None or document.final_sha256 or document.stage != "completed":
        return None
    try:
        pdf = seal(document, read(document.source_sha256), marks_for(document))
    except Exception as error:
        db.session.rollback()
        _remember_failure(document_id, error)
        raise
    # Locked and re-checked only now: the slow part above must not hold the lock.
    document = lock_document(document_id)
    if document is None or document.final_sha256:
        db.session.rollback()
        return None
    blob = store(pdf, "application/pdf")
    document.final_sha256 = blob.sha256
    document.seal_error = ""
    audit("document.finalized", document, None, None, sha256=blob.sha256, size=blob.size,
          attempts=document.seal_attempts + 1)
    message_ids = queue_final_delivery(document, blob.size)
    db.session.commit()
    dispatch(message_ids)
    log.info("Document %s finalized: %s", document_id, blob.sha256)
    return blob.sha256


def seal(document: Document, pdf: bytes, marks: Sequence[Mark] = ()) -> bytes:
    """`marks` burned in, certificate pages and footers added, then the PAdES seal over it all.

    Everything read from the database is read first: composing and sealing take a while and
    hold no transaction.
    """
    from portal.sealing.certificate import assemble_final

    config = current_app.config
    with force_locale(document.language):
        reason = _("All parties signed document %(number)s", number=document.number)
    events = events_for(document.id)
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
    )


def verify_url(code: str) -> str:
    """The public verify page with the code filled in (what the QR code opens)."""
    return f"{current_app.config['SIGNET_BASE_URL']}/verify?{urlencode({'code': code})}"


def _remember_failure(document_id: int, error: Exception) -> None:
    log.error("Sealing document %s failed: %s", document_id, error, exc_info=error)
    document = lock_document(document_id)
    if document is None or document.final_sha256:
        db.session.rollback()
        return
    document.seal_attempts += 1
    document.seal_error = _failure_text(error)
    document.seal_failed_at = utcnow()
    db.session.commit()


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


def seal_again(document_ids) -> int:
    """Queue sealing again for these completed, unsealed documents; how many were queued."""
    from portal.jobs import enqueue

    queued = 0
    for document in unsealed_documents():
        if document_ids is None or document.id in document_ids:
            enqueue(finalize_document, document.id, queue="sealing")
            queued += 1
    return queued


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
