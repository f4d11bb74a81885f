"""Creating a document: from a template (with an items table) or from an uploaded file."""

import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.service import request_meta
from portal.auth.permissions import can, require
from portal.doctemplates.sandbox import TemplateRefused
from portal.documents import services
from portal.documents.errors import DocumentRefused
from portal.documents.forms import ItemForm, SelectChoice, TemplateDocumentForm, UploadDocumentForm
from portal.documents.numbering import local_today
from portal.documents.services.common import default_currency
from portal.documents.services.queries import active_templates
from portal.documents.views import bp
from portal.documents.views.common import int_arg
from portal.errors import DomainError
from portal.extensions import db
from portal.parties.models import Counterparty
from portal.parties.services import (
    company_for_language,
    list_companies,
    search_counterparties,
)
from portal.pdfs import PdfRejected
from portal.pdfs.errors import TOO_LARGE, rejection
from portal.pdfs.findings import describe

PICKER_SIZE = 8
_ITEM_KEY = re.compile(r"^items-(\d+)-")


def _actor():
    return current_user._get_current_object()


def _set_choices(form) -> list:
    """Fill the choices; the templates offered. Each option carries its language, so the page
    can switch to the company of a template's language (static/js/new-document.js)."""
    form.company_id.choices = [
        SelectChoice(str(c.id), c.display_name, render_kw={"data-language": c.language})
        for c in list_companies()]
    templates = []
    if hasattr(form, "template_id"):
        templates = active_templates() if can(current_user, "view", "templates") else []
        form.template_id.choices = [
            SelectChoice(str(t.id), t.name, render_kw={
                "data-language": t.language, "data-currency": default_currency(t.language)})
            for t in templates]
    return templates


def _refuse_what_is_not_theirs(form) -> None:
    """A crafted post may name a template or a directory entry the user may not read."""
    counterparty_id, _client = form.client_values()
    if counterparty_id is not None and not can(current_user, "view", "contacts"):
        abort(403)
    if getattr(form, "template_id", None) is not None \
            and not can(current_user, "view", "templates"):
        abort(403)


def _picker(form) -> dict:
    """The client picker's state: a few counterparties, the chosen one always among them."""
    chosen = int_arg(form.counterparty_id.data)
    return _picker_context(request.args.get("q", ""), chosen)


def _picker_context(query: str, chosen: int | None) -> dict:
    if not can(current_user, "view", "contacts"):  # the client is typed in, never picked
        return {"counterparties": [], "chosen_id": None, "more": False, "q": query,
                "may_add_contacts": False}
    found = search_counterparties(query.strip()[:200], page=1, per_page=PICKER_SIZE)
    results = list(found.items)
    picked = db.session.get(Counterparty, chosen) if chosen else None
    if picked is not None and picked not in results:
        results.insert(0, picked)
    return {"counterparties": results, "chosen_id": picked.id if picked else None,
            "more": found.total > len(found.items), "q": query,
            "may_add_contacts": can(current_user, "create", "contacts")}


def _created(document):
    flash(_("Draft %(number)s created. Check the parties and the fields, then send it.",
            number=document.number), "success")
    if document.removed_content:
        flash(_("Signet removed from this PDF what could run or hide inside it: %(what)s. "
                "Signers see and sign the cleaned file; its pages are unchanged.",
                what="; ".join(describe(document.removed_content))), "warning")
    return redirect(url_for("documents.show", document_id=document.id))


def _create_from_template(form: TemplateDocumentForm):
    counterparty_id, client = form.client_values()
    return services.create_from_template(
        _actor(), request_meta(), company_id=form.company_id.data,
        template_id=form.template_id.data, counterparty_id=counterparty_id, client=client,
        title=form.title.data, date=form.date.data, **form.document_values())


def _template_form() -> TemplateDocumentForm:
    form = TemplateDocumentForm()
    templates = _set_choices(form)
    if request.method == "GET":
        form.date.data = local_today()
        form.template_id.data = request.args.get("template", form.template_id.data)
        form.counterparty_id.data = request.args.get("counterparty", "")
        chosen = next((t for t in templates if str(t.id) == form.template_id.data),
                      templates[0] if templates else None)
        company = company_for_language(chosen.language if chosen else "")
        form.company_id.data = str(company.id) if company else None
        form.currency.data = default_currency(chosen.language if chosen else None)
    return form


@bp.route("/documents/new", methods=["GET", "POST"])
@require("create", "documents")
def new():
    """Create a document from a template: company, client, details and items."""
    form = _template_form()
    if form.validate_on_submit():
        _refuse_what_is_not_theirs(form)
        try:
            return _created(_create_from_template(form))
        except DocumentRefused as refused:
            form.show_errors(refused.errors, form.item_aliases())
        except (TemplateRefused, DomainError) as refused:
            form.add_form_error(refused.message)
    return render_template("documents/new.html", form=form, source="template",
                           **_picker(form))


@bp.route("/documents/new/upload", methods=["GET", "POST"])
@require("create", "documents")
def new_upload():
    """Create a document from an uploaded PDF (or a PNG/JPEG scan)."""
    form = UploadDocumentForm()
    _set_choices(form)
    if request.method == "GET":
        form.counterparty_id.data = request.args.get("counterparty", "")
    if form.validate_on_submit():
        _refuse_what_is_not_theirs(form)
        upload = form.file.data
        counterparty_id, client = form.client_values()
        try:
            if upload is None or not getattr(upload, "filename", ""):
                raise PdfRejected(_("Choose the file to upload."))
            return _created(services.create_from_upload(
                _actor(), request_meta(), company_id=form.company_id.data, data=upload.read(),
                filename=upload.filename, title=form.title.data,
                counterparty_id=counterparty_id, client=client))
        except PdfRejected as refused:
            form.file.errors = [*form.file.errors, refused.message]
        except DocumentRefused as refused:
            form.show_errors(refused.errors)
        except DomainError as refused:
            form.add_form_error(refused.message)
    # Browsers never refill a file input: after another field's error, say so.
    choose_again = request.method == "POST" and not form.file.errors
    return render_template("documents/new.html", form=form, source="upload",
                           choose_file_again=choose_again, upload_limit=_upload_limit(),
                           **_picker(form))


def _upload_limit() -> dict:
    """For the page's own size check: the limit and the message the server would give."""
    return {"data_max_bytes": current_app.config["SIGNET_UPLOAD_MAX_BYTES"],
            "data_too_large": rejection(TOO_LARGE).message}


@bp.get("/documents/new/counterparties")
@require("create", "documents")
def counterparty_options():
    """The client picker's options for a search (the chosen one stays)."""
    context = _picker_context(request.args.get("q", ""),
                              int_arg(request.args.get("counterparty_id")))
    return render_template("documents/_counterparty_options.html", **context)


@bp.get("/documents/new/items/row")
@require("create", "documents")
def item_row():
    """One more empty row of the items table (numbered after the rows the page has)."""
    used = [int(match.group(1)) for key in request.args
            if (match := _ITEM_KEY.match(key))]
    index = max(used, default=-1) + 1
    return render_template("documents/_item_row.html",
                           item=ItemForm(formdata=None, prefix=f"items-{index}"))


@bp.get("/documents/removed")
@require("view", "documents")
def removed():
    """An empty answer: htmx removes the row that asked (hx-swap="delete")."""
    return ""
