"""A card's side panel (a full page without htmx) and the manager's controls on it."""

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.service import events_for, request_meta
from portal.auth.permissions import can, get_or_404, require
from portal.documents import services as documents
from portal.documents.errors import DocumentRefused
from portal.documents.models import OPEN_STAGES, Document
from portal.documents.views.common import reassign_form
from portal.errors import DomainError
from portal.htmx import is_htmx, trigger, vary_on_htmx
from portal.pipeline import bp, controls
from portal.pipeline.cards import current_signers
from portal.pipeline.forms import deadline_form, resend_form, stop_form

# The board listens for this to refresh its cards at once instead of at the next poll.
CHANGED_EVENT = "pipeline-changed"


def _actor():
    return current_user._get_current_object()


def _document(document_id: int, action: str = "view") -> Document:
    return get_or_404(Document, document_id, current_user, action, "documents")


def panel_context(document: Document, **forms) -> dict:
    """Everything the panel shows; `forms` carry what was posted (with its errors)."""
    signers = current_signers(document)
    manage = document.stage in OPEN_STAGES
    return {
        "document": document,
        "events": events_for(document.id),
        "signers": signers,
        "next_reminder": {party.id: controls.next_reminder_at(document.id, party.id)
                          for party in signers},
        "may_send": manage and can(current_user, "send", "documents", document),
        "may_edit": manage and can(current_user, "edit", "documents", document),
        "may_see_final": bool(document.final_sha256)
        and can(current_user, "view", "vault", document),
        "deadline_form": forms.get("deadline_form") or deadline_form(document),
        "resend_forms": {party.id: (forms.get("resend_forms") or {}).get(party.id)
                         or resend_form(party) for party in signers},
        "stop_form": forms.get("stop_form") or stop_form(),
        # Handing over is the document page's form (documents.reassign); the panel shows it too.
        "reassign_form": reassign_form(document),
    }


def _panel(document: Document, notice: tuple[str, str] | None = None, status: int = 200,
           changed: bool = False, **forms):
    """The panel fragment for htmx, else the page (after a change: back to it, with a flash)."""
    if is_htmx():
        response = make_response(render_template(
            "pipeline/_panel.html", notice=notice, **panel_context(document, **forms)), status)
        if changed:
            trigger(response, CHANGED_EVENT)
        return vary_on_htmx(response)
    if notice is not None and status < 400:
        flash(notice[1], notice[0])
        return redirect(url_for("pipeline.panel", document_id=document.id), 303)
    return vary_on_htmx(make_response(render_template(
        "pipeline/document.html", notice=notice, **panel_context(document, **forms)), status))


@bp.get("/pipeline/documents/<int:document_id>")
@require("view", "documents")
def panel(document_id: int):
    """A document's parties, history, PDFs and the controls the user may use."""
    return _panel(_document(document_id))


@bp.post("/pipeline/documents/<int:document_id>/parties/<int:party_id>/remind")
@require("send", "documents")
def remind(document_id: int, party_id: int):
    """Remind the current signer now (once an hour at most)."""
    document = _document(document_id, "send")
    try:
        party = controls.remind(_actor(), request_meta(), document.id, party_id)
    except DomainError as refused:
        return _panel(_document(document_id), refused.notice)
    return _panel(_document(document_id), ("success", _("%(name)s was reminded.",
                                                      name=party.name)), changed=True)


@bp.post("/pipeline/documents/<int:document_id>/parties/<int:party_id>/resend")
@require("send", "documents")
def resend(document_id: int, party_id: int):
    """Send the invitation again to a corrected email or phone (the old link stops working)."""
    document = _document(document_id, "send")
    party = next((p for p in document.parties if p.id == party_id), None)
    if party is None:
        abort(404)
    form = resend_form(party, submitted=True)
    try:
        party = controls.resend_invitation(_actor(), request_meta(), document.id, party_id,
                                           form.channel.data, form.contact.data)
    except DocumentRefused as refused:
        form.show_errors(refused.errors)
        return _panel(_document(document_id), ("error", refused.message), status=_status(422),
                      resend_forms={party_id: form})
    except DomainError as refused:
        return _panel(_document(document_id), refused.notice)
    return _panel(_document(document_id), ("success", _(
        "A new invitation went to %(name)s; the previous link no longer works.",
        name=party.name)), changed=True)


def _status(code: int) -> int:
    # htmx leaves 4xx answers unswapped: a form with errors comes back as 200 to it.
    return 200 if is_htmx() else code


@bp.post("/pipeline/documents/<int:document_id>/deadline")
@require("edit", "documents")
def deadline(document_id: int):
    """Move the deadline (it must stay in the future)."""
    document = _document(document_id, "edit")
    form = deadline_form(document, submitted=True)
    try:
        if not form.validate_on_submit() or form.deadline_utc() is None:
            raise DocumentRefused({"deadline": _("Enter a date and time for the deadline.")})
        documents.set_deadline(_actor(), request_meta(), document.id, form.deadline_utc())
    except DocumentRefused as refused:
        form.show_errors(refused.errors)
        return _panel(_document(document_id), ("error", refused.message), status=_status(422),
                      deadline_form=form)
    except DomainError as refused:
        return _panel(_document(document_id), refused.notice)
    return _panel(_document(document_id), ("success", _("The deadline was changed.")),
                  changed=True)


@bp.post("/pipeline/documents/<int:document_id>/stop")
@require("edit", "documents")
def stop(document_id: int):
    """Stop the signing with a reason; the invited parties are told."""
    document = _document(document_id, "edit")
    form = stop_form(submitted=True)
    try:
        form.validate_on_submit()
        documents.stop(_actor(), request_meta(), document.id, form.reason.data)
    except DocumentRefused as refused:
        form.show_errors(refused.errors)
        return _panel(_document(document_id), ("error", refused.message), status=_status(422),
                      stop_form=form)
    except DomainError as refused:
        return _panel(_document(document_id), refused.notice)
    return _panel(_document(document_id), ("success", _("The document was stopped.")),
                  changed=True)
