"""The legal hold on a document's page: set or lift it, with a reason."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.service import request_meta
from portal.auth.permissions import get_or_404, require
from portal.documents.models import Document
from portal.errors import DomainError
from portal.retention import hold

bp = Blueprint("retention", __name__)


def _back(document_id: int):
    return redirect(url_for("documents.show", document_id=document_id) + "#legal-hold", 303)


def _apply(document_id: int, change, done: str):
    get_or_404(Document, document_id, current_user, "edit", "documents")
    try:
        change(current_user._get_current_object(), request_meta(), document_id,
               request.form.get("reason", ""))
    except DomainError as refused:
        flash(refused.message, refused.notice[0])
    else:
        flash(done, "success")
    return _back(document_id)


@bp.post("/documents/<int:document_id>/legal-hold")
@require("edit", "documents")
def set_hold(document_id: int):
    """Put the document under legal hold: retention leaves it whole."""
    return _apply(document_id, hold.set_hold, _("The document is under legal hold."))


@bp.post("/documents/<int:document_id>/legal-hold/lift")
@require("edit", "documents")
def lift_hold(document_id: int):
    """Lift the legal hold: the company's retention periods apply again."""
    return _apply(document_id, hold.lift_hold, _("The legal hold was lifted."))
