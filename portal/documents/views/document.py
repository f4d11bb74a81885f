"""One document: its page, PDF and page images, details, send, stop, delete."""

from datetime import UTC
from urllib.parse import quote

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.audit.service import events_for, request_meta
from portal.auth.permissions import can, require
from portal.documents import services
from portal.documents.access import signed_pdf_document
from portal.documents.errors import DocumentLocked, DocumentRefused, require_files_kept
from portal.documents.forms import DetailsForm, SelectChoice, StopForm
from portal.documents.models import OPEN_STAGES
from portal.documents.services.queries import responsible_choices
from portal.documents.views import bp
from portal.documents.views.common import document_for, page_after_handover, reassign_form
from portal.errors import DomainError
from portal.htmx import is_htmx, redirect_to, vary_on_htmx
from portal.pdfs import PdfRejected, page_unavailable, preview_mimetype, render_preview
from portal.pdfs.findings import describe
from portal.pipeline import controls
from portal.pipeline.status import current_turns, decliner, warnings
from portal.sealing.download import final_pdf_response
from portal.storage import BlobMissing, read

PREVIEW_WIDTHS = (400, 600, 800, 1000, 1200, 1600, 2000)


def _actor():
    return current_user._get_current_object()


def document_page(document, **context):
    """The full document page (the reassign and stop forms may carry what was posted)."""
    context.setdefault("stop_form", StopForm(formdata=None))
    context.setdefault("reassign_form", reassign_form(document))
    return render_template(
        "documents/document.html", document=document, events=events_for(document.id),
        removed_content=describe(document.removed_content),
        problems=services.sending_problems(document) if document.is_draft else [],
        **status_context(document), **context)


def status_context(document) -> dict:
    """The status block at the top of a sent document's page: whose turn, since when, remind."""
    return {"turns": current_turns(document), "decliner": decliner(document),
            "warnings": warnings(document),
            "may_remind": document.stage in OPEN_STAGES
            and can(current_user, "send", "documents", document)}


def url_for_document(document) -> str:
    return url_for("documents.show", document_id=document.id)


@bp.get("/documents/<int:document_id>")
@require("view", "documents")
def show(document_id: int):
    """The document page: status, parties, fields, audit trail and the actions its stage allows."""
    return document_page(document_for(document_id))


def _pdf_response(data: bytes, filename: str):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = _attachment(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _attachment(filename: str) -> str:

    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def source_filename(document) -> str:
    safe_number = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in document.number)
    return f"{safe_number}.pdf"


@bp.get("/documents/<int:document_id>/source.pdf")
@require("view", "documents")
def source_pdf(document_id: int):
    """Download the PDF as it was (or will be) sent for signing."""
    document = document_for(document_id)
    require_files_kept(document)
    try:
        data = read(document.source_sha256 or "")
    except BlobMissing:
        current_app.logger.error("Source PDF of document %s is missing", document.id)
        abort(404)
    return _pdf_response(data, source_filename(document))


@bp.get("/documents/<int:document_id>/final.pdf")
@login_required
def final_pdf(document_id: int):
    """Download the signed and sealed PDF (the vault's scope decides, not the documents')."""
    document = signed_pdf_document(document_id, current_user)
    if not document.final_sha256:
        abort(404)
    try:
        return final_pdf_response(document)
    except BlobMissing:
        current_app.logger.error("Final PDF of document %s is missing", document.id)
        abort(404)


@bp.get("/documents/<int:document_id>/pages/<int:page>.img")
@require("view", "documents")
def page_image(document_id: int, page: int):
    """One page as an image for the placement editor (cached privately by the browser)."""

    document = document_for(document_id)
    require_files_kept(document)
    if not document.source_sha256 or not 1 <= page <= document.page_count:
        abort(404)
    wanted = request.args.get("w", 1000, type=int) or 1000
    width = min(PREVIEW_WIDTHS, key=lambda w: (w < wanted, abs(w - wanted)))
    etag = f"{document.source_sha256[:20]}-{page}-{width}"
    if request.if_none_match.contains(etag):
        return "", 304
    try:
        image = render_preview(document.source_sha256, page, width)
    except (BlobMissing, ValueError):
        abort(404)
    except PdfRejected as refused:
        return page_unavailable(refused.message, width)
    response = make_response(image)
    response.headers["Content-Type"] = preview_mimetype()
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.set_etag(etag)
    return response


# --- details -----------------------------------------------------------------------------------

def _details_form(document) -> DetailsForm:
    if request.method == "POST":
        form = DetailsForm()
    else:
        deadline = document.deadline_at
        if deadline is not None and deadline.tzinfo is not None:
            deadline = deadline.astimezone(UTC).replace(tzinfo=None)
        form = DetailsForm(formdata=None, data={
            "title": document.title, "responsible_id": str(document.responsible_id),
            "language": document.language, "deadline": deadline})
    form.responsible_id.choices = [SelectChoice(str(u.id), u.name) for u in responsible_choices()]
    return form


def _locked(document):
    flash(DocumentLocked().message, "error")
    return redirect(url_for_document(document))


@bp.route("/documents/<int:document_id>/edit", methods=["GET", "POST"])
@require("edit", "documents")
def edit(document_id: int):
    """Edit a draft's title, responsible user, language and deadline."""
    document = document_for(document_id, "edit")
    if not document.is_draft:
        return _locked(document)
    form = _details_form(document)
    if form.validate_on_submit():
        try:
            services.update_draft(_actor(), request_meta(), document.id,
                                  title=form.title.data, responsible_id=form.responsible_id.data,
                                  language=form.language.data, deadline=form.deadline_utc())
        except DocumentRefused as refused:
            form.show_errors(refused.errors)
        except DocumentLocked:
            return _locked(document)
        else:
            flash(_("Details saved."), "success")
            return redirect(page_after_handover(document))
    return render_template("documents/details.html", document=document, form=form)


# --- remind, send, stop, delete ------------------------------------------------------------------

def _send_panel(document, problems, status=200):
    response = make_response(render_template("documents/_send_panel.html", document=document,
                                             problems=problems), status)
    return vary_on_htmx(response)


@bp.post("/documents/<int:document_id>/parties/<int:party_id>/remind")
@require("send", "documents")
def remind(document_id: int, party_id: int):
    """Remind a signer whose turn it is (the board panel's reminder: once an hour at most)."""
    document = document_for(document_id, "send")
    try:
        party = controls.remind(_actor(), request_meta(), document.id, party_id)
    except DomainError as refused:
        notice = refused.notice
    else:
        notice = ("success", _("%(name)s was reminded.", name=party.name))
    if is_htmx():
        document = document_for(document_id)
        return vary_on_htmx(make_response(render_template(
            "documents/_status.html", document=document, notice=notice,
            **status_context(document))))
    flash(notice[1], notice[0])
    return redirect(url_for_document(document), 303)


@bp.post("/documents/<int:document_id>/send")
@require("send", "documents")
def send(document_id: int):
    """Send the draft for signing (a second click is told it was already sent)."""
    document = document_for(document_id, "send")
    try:
        services.send(_actor(), request_meta(), document.id)
    except services.SendRefused as refused:
        if is_htmx():
            return _send_panel(document, refused.problems)
        for problem in refused.problems:
            flash(problem, "error")
    except DomainError as refused:
        flash(refused.message, "warning" if refused.status == 409 else "error")
    else:
        flash(_("Sent for signing."), "success")
    return redirect_to(url_for_document(document))


@bp.post("/documents/<int:document_id>/stop")
@require("edit", "documents")
def stop(document_id: int):
    """Stop a document that is out for signing; a reason is required."""
    document = document_for(document_id, "edit")
    form = StopForm()
    if form.validate_on_submit():
        try:
            services.stop(_actor(), request_meta(), document.id, form.reason.data)
        except DocumentRefused as refused:
            form.show_errors(refused.errors)
        except DomainError as refused:
            flash(refused.message, "warning")
            return redirect_to(url_for_document(document))
        else:
            flash(_("The document was stopped."), "success")
            return redirect_to(url_for_document(document))
    if is_htmx():
        return vary_on_htmx(make_response(render_template(
            "documents/_stop_form.html", document=document, stop_form=form)))
    return document_page(document, stop_form=form)


@bp.post("/documents/<int:document_id>/delete")
@require("delete", "documents")
def delete(document_id: int):
    """Delete a draft."""
    document = document_for(document_id, "delete")
    number = document.number
    try:
        services.delete_draft(_actor(), request_meta(), document.id)
    except DomainError as refused:
        flash(refused.message, "warning")
        return redirect(url_for_document(document))
    flash(_("Draft %(number)s deleted.", number=number), "success")
    return redirect(url_for("documents.index"))


@bp.post("/documents/<int:document_id>/layout")
@require("edit", "templates")
def save_layout(document_id: int):
    """Keep this document's fields as its template's default layout."""
    document = document_for(document_id, "view")
    try:
        count = services.save_layout_as_template_default(_actor(), document.id)
    except DomainError as refused:
        message, category = refused.message, "error"
    else:
        message = _("The template now places these %(count)d fields by itself.", count=count)
        category = "success"
    if request.accept_mimetypes.best == "application/json":
        return {"message": message}, 200 if category == "success" else 409
    flash(message, category)
    return redirect(url_for("documents.fields", document_id=document.id))


def may_save_layout(document) -> bool:
    return document.template_id is not None and can(current_user, "edit", "templates")
