"""The legal hold: while it is on, retention neither deletes a document's PDFs nor masks its
contacts. Setting and lifting it need a reason, and both go into the document's trail."""

from flask_babel import gettext as _
from sqlalchemy import select

from portal import unit
from portal.audit.catalogue import DOCUMENT_LEGAL_HOLD_LIFTED, DOCUMENT_LEGAL_HOLD_SET
from portal.audit.service import record
from portal.documents.errors import DocumentRefused
from portal.documents.models import Document
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow

MAX_REASON = 500


def clean_reason(reason: str | None) -> str:
    """The reason as stored, or DocumentRefused naming the `reason` field."""
    text = " ".join((reason or "").split())
    if not text:
        raise DocumentRefused({"reason": _("Say why: the reason goes into the history.")})
    if len(text) > MAX_REASON:
        raise DocumentRefused({"reason": _(
            "Too long: at most %(max)d characters, this has %(length)d.",
            max=MAX_REASON, length=len(text))})
    return text


def _locked(document_id: int) -> Document:
    document = db.session.execute(
        select(Document).where(Document.id == document_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return document


def set_hold(actor, meta, document_id: int, reason: str) -> Document:
    """Put the document under legal hold (refused when it already is)."""
    text = clean_reason(reason)
    document = _locked(document_id)
    if document.legal_hold:
        unit.rollback()
        raise DomainError(_("This document is already under legal hold."))
    document.legal_hold = True
    document.legal_hold_reason = text
    document.legal_hold_at = utcnow()
    record(DOCUMENT_LEGAL_HOLD_SET, document.id, actor=actor, meta=meta, reason=text)
    unit.commit()
    return document


def lift_hold(actor, meta, document_id: int, reason: str) -> Document:
    """End the legal hold: the company's retention periods apply again from the next run."""
    text = clean_reason(reason)
    document = _locked(document_id)
    if not document.legal_hold:
        unit.rollback()
        raise DomainError(_("This document is not under legal hold."))
    document.legal_hold = False
    document.legal_hold_reason = ""
    document.legal_hold_at = None
    record(DOCUMENT_LEGAL_HOLD_LIFTED, document.id, actor=actor, meta=meta, reason=text)
    unit.commit()
    return document
