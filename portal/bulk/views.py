"""Bulk send pages: the batches, the upload, the mapping and check, the confirmation, the run.

Thin: each view parses the request, calls one service of portal.bulk and renders. The
services check the permission and refuse another user's batch with a 404.
"""

from functools import wraps

from flask import (
    Blueprint,
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
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import SelectChoice

from portal.audit.service import request_meta
from portal.auth.permissions import can
from portal.bulk import overview, services, table
from portal.bulk.forms import BATCH_VALUE_FIELDS, UploadForm
from portal.bulk.models import QUEUED_OR_RUNNING
from portal.bulk.rows import target_labels
from portal.bulk.sheet import SheetRefused, refusal
from portal.doctemplates.models import DocumentTemplate
from portal.doctemplates.preview import page_images
from portal.doctemplates.rendering import TemplateRefused
from portal.doctemplates.services import active_templates
from portal.errors import DomainError, render_error
from portal.extensions import db
from portal.htmx import is_htmx, vary_on_htmx
from portal.parties.services import company_for_language, list_companies
from portal.signing import bundle_reminders, bundles

bp = Blueprint("bulk", __name__, url_prefix="/bulk")

MAPPING_PREFIX = "map-"


@bp.context_processor
def status_labels():
    return {"batch_status_labels": overview.BATCH_STATUS_LABELS,
            "row_status_labels": overview.ROW_STATUS_LABELS,
            "status_badges": overview.STATUS_BADGES}


@bp.app_context_processor
def bulk_helpers():
    """Whether the signed-in user may send in bulk (the home page and templates link here)."""
    return {"may_send_in_bulk": lambda: services.may_send_in_bulk(current_user)}


def _may_send_in_bulk(view):
    @wraps(view)
    @login_required
    def guarded(*args, **kwargs):
        if not services.may_send_in_bulk(current_user):
            abort(403)
        return view(*args, **kwargs)

    return guarded


def _actor():
    return current_user._get_current_object()


# --- the batches -----------------------------------------------------------------------------

@bp.get("/")
@_may_send_in_bulk
def index():
    """The batches the user may open, newest first, with their status and counts."""
    return render_template("bulk/index.html", lines=overview.batches_of(_actor()))


# --- the upload ------------------------------------------------------------------------------

def _upload_form(formdata=True) -> UploadForm:
    """The form with its choices; on a first visit the template asked for (?template=) and
    the company of its language, as the new-document form starts."""
    form = UploadForm() if formdata else UploadForm(formdata=None)
    templates = active_templates() if can(current_user, "view", "templates") else []
    remembered = services.remembered_batch_values(templates)
    form.template_id.choices = [SelectChoice(str(t.id), t.name, render_kw={
        "data-language": t.language, "data-place": remembered[t.id]["place"],
        "data-currency": remembered[t.id]["currency"]}) for t in templates]
    form.company_id.choices = [SelectChoice(str(c.id), c.display_name,
                                            render_kw={"data-language": c.language})
                               for c in list_companies()]
    if request.method == "GET" or not formdata:
        wanted = request.args.get("template", "")
        chosen = next((t for t in templates if str(t.id) == wanted),
                      templates[0] if templates else None)
        company = company_for_language(chosen.language if chosen else "")
        form.template_id.data = str(chosen.id) if chosen else None
        form.company_id.data = str(company.id) if company else None
        for name, value in (remembered[chosen.id] if chosen else {}).items():
            form[name].data = value
    return form


def _upload_page(form: UploadForm, status: int = 200, errors=()):
    limit = current_app.config.get("SIGNET_BULK_MAX_BYTES")
    body = render_template(
        "bulk/new.html", form=form, errors=list(errors), columns=target_labels(),
        upload_limit={"data_max_bytes": limit,
                      "data_too_large": refusal(table.TOO_LARGE).message})
    return body, status


def _read_bounded(upload) -> bytes:
    """At most one byte over the limit: enough for the reader to refuse it as too large."""
    limit = current_app.config.get("SIGNET_BULK_MAX_BYTES")
    return upload.stream.read(limit + 1) if upload is not None else b""


@bp.route("/new", methods=["GET", "POST"])
@_may_send_in_bulk
def new():
    """Choose a template and a company, and upload the spreadsheet; it is checked, not sent."""
    form = _upload_form()
    if not form.validate_on_submit():
        return _upload_page(form)
    if not can(current_user, "view", "templates"):
        abort(403)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [_("Choose the spreadsheet to upload.")]
        return _upload_page(form, 422)
    try:
        batch = services.start_batch(_actor(), form.template_id.data, form.company_id.data,
                                     _read_bounded(upload), upload.filename,
                                     batch_values=form.batch_values())
    except SheetRefused as refused:
        form.file.errors = [refused.message]
        return _upload_page(form, 422)
    except DomainError as refused:
        if refused.status in (403, 404):
            raise
        if _show_beside_fields(form, refused):
            return _upload_page(form, 422)
        return _upload_page(form, 422, [refused.message])
    return redirect(url_for("bulk.show", batch_id=batch.id), 303)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(_error):
    """A request over MAX_CONTENT_LENGTH, refused before its form could be read: the form
    again with the message (its fields as on a first visit)."""
    if not services.may_send_in_bulk(current_user):  # (an error handler cannot abort)
        return render_error(403)
    form = _upload_form(formdata=False)
    form.file.errors = [refusal(table.TOO_LARGE).message]
    return _upload_page(form, 422)


@bp.get("/example.csv")
@_may_send_in_bulk
def example():
    """A small spreadsheet to start from (UTF-8 with a byte order mark, which Excel reads)."""
    return _download(overview.example_csv().encode("utf-8-sig"), "text/csv; charset=utf-8",
                     "bulk-example.csv")


# --- one batch: the check before confirming, then its run --------------------------------------

def _mapping_page(batch, status: int = 200, chosen=None, refused=None, values=None):
    lines = overview.row_lines(batch)
    template = db.session.get(DocumentTemplate, batch.template_id)
    value_form = _values_form(batch.batch_values if values is None else values, refused)
    body = render_template(
        "bulk/check.html", batch=batch, template=template, lines=lines,
        summary=overview.check_summary(lines), targets=overview.mapping_targets(template),
        labels=target_labels(), chosen=batch.mapping if chosen is None else chosen,
        value_form=value_form, value_fields=BATCH_VALUE_FIELDS,
        errors=[] if refused is None or value_form.errors else [refused.message])
    return body, status


def _values_form(values: dict, refused=None) -> UploadForm:
    """The batch's values as the upload form shows them (its fields only; the remap form
    holds them, with its own CSRF token), with the refusal's messages beside them."""
    form = UploadForm(formdata=None, meta={"csrf": False},
                      data={name: values.get(name) or "" for name in BATCH_VALUE_FIELDS})
    _show_beside_fields(form, refused)
    return form


def _show_beside_fields(form: UploadForm, refused) -> bool:
    """Put a refusal's messages about the batch's values on their fields; whether it had any."""
    field_errors = getattr(refused, "field_errors", None) or {}
    for name, message in field_errors.items():
        form[name].errors = [message]
    return bool(field_errors)


def _batch_page(batch):
    return render_template("bulk/batch.html", batch=batch, lines=overview.row_lines(batch),
                           template=db.session.get(DocumentTemplate, batch.template_id),
                           labels=target_labels(),
                           progress=services.batch_progress(batch.id),
                           signing=bundles.batch_signing_status(batch.id),
                           polling=batch.status in QUEUED_OR_RUNNING)


@bp.get("/<int:batch_id>")
@_may_send_in_bulk
def show(batch_id: int):
    """A checked batch: its mapping, rows and first document; after confirming: its run."""
    batch = services.batch_for(_actor(), batch_id)
    if batch.status == "validated":
        return _mapping_page(batch)
    return _batch_page(batch)


@bp.post("/<int:batch_id>/mapping")
@_may_send_in_bulk
def remap(batch_id: int):
    """Read the rows again with the columns chosen, and check them again."""
    mapping = {key[len(MAPPING_PREFIX):]: value for key, value in request.form.items()
               if key.startswith(MAPPING_PREFIX)}
    # A form without them (an older page) keeps the batch's values.
    values = ({name: request.form.get(name, "") for name in BATCH_VALUE_FIELDS}
              if any(name in request.form for name in BATCH_VALUE_FIELDS) else None)
    try:
        services.remap(_actor(), batch_id, mapping, batch_values=values)
    except SheetRefused as refused:  # the stored file can no longer be read (limits changed)
        flash(refused.message, "error")
    except DomainError as refused:
        if refused.status == 422:
            chosen = {key: int(value) for key, value in mapping.items() if value.isdigit()}
            return _mapping_page(services.batch_for(_actor(), batch_id), 422, chosen,
                                 refused, values)
        if refused.status in (403, 404):
            raise
        flash(refused.message, refused.notice[0])
    else:
        flash(_("The rows were checked again with these columns."), "success")
    return redirect(url_for("bulk.show", batch_id=batch_id), 303)


@bp.post("/<int:batch_id>/confirm")
@_may_send_in_bulk
def confirm(batch_id: int):
    """Start creating and sending; a second confirmation is refused and said so."""
    skip_invalid = request.form.get("skip_invalid") == "1"
    try:
        batch = services.confirm(_actor(), batch_id, skip_invalid)
    except DomainError as refused:
        if refused.status in (403, 404):
            raise
        level, message = refused.notice
        flash(message, level)
    else:
        count = services.batch_progress(batch.id)
        flash(ngettext("Sending %(num)d document.", "Sending %(num)d documents.",
                       count["total"] - count["skipped"]), "success")
    return redirect(url_for("bulk.show", batch_id=batch_id), 303)


@bp.post("/<int:batch_id>/signing/<int:bundle_id>/remind")
@_may_send_in_bulk
def remind_signer(batch_id: int, bundle_id: int):
    """Remind our company's signer of the batch's one invitation now (once an hour at most);
    htmx gets the signing piece again with the notice, a plain form the page with a flash."""
    batch = services.batch_for(_actor(), batch_id)
    try:
        bundle = bundle_reminders.remind_now(_actor(), request_meta(), batch.id, bundle_id)
    except DomainError as refused:
        if refused.status in (403, 404):
            raise
        notice = refused.notice
    else:
        notice = ("success", _("%(name)s was reminded.", name=bundle.name))
    if not is_htmx():
        flash(notice[1], notice[0])
        return redirect(url_for("bulk.show", batch_id=batch.id, _anchor="bulk-signing"), 303)
    return vary_on_htmx(make_response(render_template(
        "bulk/_signing.html", batch=batch, signing=bundles.batch_signing_status(batch.id),
        notice=notice)))


@bp.get("/<int:batch_id>/progress")
@_may_send_in_bulk
def progress(batch_id: int):
    """The progress fragment htmx polls; once the run ended, the page reloads to show every
    row's result (and polls no more)."""
    batch = services.batch_for(_actor(), batch_id)
    polling = batch.status in QUEUED_OR_RUNNING
    response = make_response(render_template(
        "bulk/_progress.html", batch=batch, progress=services.batch_progress(batch.id),
        polling=polling))
    if is_htmx() and not polling:
        response.headers["HX-Refresh"] = "true"
    return vary_on_htmx(response)


@bp.post("/<int:batch_id>/retry")
@_may_send_in_bulk
def retry(batch_id: int):
    """Queue the failed rows again."""
    try:
        count = services.retry_failed(_actor(), batch_id)
    except DomainError as refused:
        if refused.status in (403, 404):
            raise
        flash(refused.message, refused.notice[0])
    else:
        flash(ngettext("%(num)d row is being sent again.", "%(num)d rows are being sent again.",
                       count) if count else _("No row has failed: nothing to retry."),
              "success" if count else "info")
    return redirect(url_for("bulk.show", batch_id=batch_id), 303)


@bp.post("/<int:batch_id>/cancel")
@_may_send_in_bulk
def cancel(batch_id: int):
    """Stop the batch: rows not started are skipped; documents sent stay sent."""
    try:
        services.cancel(_actor(), batch_id)
    except DomainError as refused:
        if refused.status in (403, 404):
            raise
        flash(refused.message, refused.notice[0])
    else:
        flash(_("The batch was cancelled. Documents already sent stay sent."), "success")
    return redirect(url_for("bulk.show", batch_id=batch_id), 303)


# --- the first document and the results --------------------------------------------------------

@bp.get("/<int:batch_id>/preview")
@_may_send_in_bulk
def preview(batch_id: int):
    """The first valid row's document as page images (loaded into the check page by htmx)."""
    context = {"batch_id": batch_id, "error": None, "pages": [], "page_count": 0,
               "max_pages": overview.PREVIEW_PAGES}
    try:
        rendered = overview.preview_first_row(_actor(), batch_id)
    except TemplateRefused as refused:
        context["error"] = refused.message
    else:
        if rendered is not None:
            context.update(pages=page_images(rendered), page_count=rendered.page_count)
    return render_template("bulk/_preview.html", **context)


@bp.get("/<int:batch_id>/preview.pdf")
@_may_send_in_bulk
def preview_pdf(batch_id: int):
    """The first valid row's document as a PDF, to open beside the page."""
    rendered = overview.preview_first_row(_actor(), batch_id, preview_pages=0)
    if rendered is None:
        abort(404)
    return _download(rendered.pdf_bytes, "application/pdf", f"bulk-{batch_id}-first.pdf",
                     inline=True)


@bp.get("/<int:batch_id>/results.csv")
@_may_send_in_bulk
def results_csv(batch_id: int):
    """Every row's result as CSV (cells that could run as formulas neutralised)."""
    batch = services.batch_for(_actor(), batch_id)
    return _download(services.results_csv(batch).encode("utf-8-sig"),
                     "text/csv; charset=utf-8", f"bulk-{batch.id}-results.csv")


@bp.get("/<int:batch_id>/results.xlsx")
@_may_send_in_bulk
def results_xlsx(batch_id: int):
    """Every row's result as an Excel workbook (every cell text)."""
    batch = services.batch_for(_actor(), batch_id)
    return _download(services.results_xlsx(batch), services.SHEET_TYPES[".xlsx"],
                     f"bulk-{batch.id}-results.xlsx")


def _download(data: bytes, content_type: str, filename: str, inline: bool = False):
    response = make_response(data)
    response.headers["Content-Type"] = content_type
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
