"""Companies (our side) and the counterparties directory."""

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
from flask_login import current_user

from portal.auth.permissions import require
from portal.extensions import db
from portal.htmx import is_htmx, vary_on_htmx
from portal.parties import services
from portal.parties.forms import CompanyForm, CounterpartyForm
from portal.parties.models import PARTY_KINDS, Company, Counterparty
from portal.parties.services import PartyRefused
from portal.parties.stamps import size_text
from portal.parties.zones import default_time_zone
from portal.retention.preview import retention_preview
from portal.storage import BlobMissing, read
from portal.storage.models import Blob
from portal.validation import format_phone

bp = Blueprint("parties", __name__)


@bp.app_template_filter("format_phone")
def format_phone_filter(value: str) -> str:
    return format_phone(value) if value else ""


# --- companies -----------------------------------------------------------------------------

@bp.get("/companies")
@require("view", "settings")
def companies():
    """List our companies."""
    return render_template("parties/companies.html", companies=services.list_companies())


def _company_form_page(form: CompanyForm, company: Company | None):
    # Browsers never refill a file input: after an error, say the stamp must be chosen again.
    choose_stamp_again = form.uploaded_stamp() is not None and not form.stamp.errors
    return render_template("parties/company_form.html", form=form, company=company,
                           stamp_limit=size_text(current_app.config["SIGNET_STAMP_MAX_BYTES"]),
                           choose_stamp_again=choose_stamp_again)


def _save_company(form: CompanyForm, company: Company | None):
    if not form.validate_on_submit():
        return _company_form_page(form, company)
    try:
        company = services.save_company(
            form.values(), current_user, company=company,
            stamp_upload=form.uploaded_stamp(), remove_stamp=form.remove_stamp.data,
        )
    except PartyRefused as refused:
        form.show_errors(refused.errors, groups=("signer_contact",))
        return _company_form_page(form, company)
    flash(_("Company “%(name)s” saved.", name=company.display_name), "success")
    return redirect(url_for("parties.company", company_id=company.id))


@bp.route("/companies/new", methods=["GET", "POST"])
@require("create", "settings")
def company_new():
    """Add one of our companies."""
    return _save_company(CompanyForm(), None)


@bp.route("/companies/<int:company_id>/edit", methods=["GET", "POST"])
@require("edit", "settings")
def company_edit(company_id: int):
    """Edit a company's details, signer and stamp."""
    company = db.get_or_404(Company, company_id)
    return _save_company(CompanyForm(obj=company), company)


@bp.get("/companies/<int:company_id>")
@require("view", "settings")
def company(company_id: int):
    """One company: requisites, signer and stamp."""
    company = db.get_or_404(Company, company_id)
    return render_template("parties/company.html", company=company,
                           default_time_zone=default_time_zone(),
                           retention=retention_preview(company.id))


@bp.get("/companies/<int:company_id>/stamp")
@require("view", "settings")
def company_stamp(company_id: int):
    """The stamp image, served with its checked content type."""
    company = db.get_or_404(Company, company_id)
    blob = db.session.get(Blob, company.stamp_sha256) if company.stamp_sha256 else None
    if blob is None:
        abort(404)
    try:
        data = read(blob.sha256)
    except BlobMissing:
        current_app.logger.error("Stamp file %s is missing from the blob store", blob.sha256)
        abort(404)
    response = make_response(data)
    response.headers["Content-Type"] = blob.content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.post("/companies/<int:company_id>/stamp/delete")
@require("edit", "settings")
def company_stamp_delete(company_id: int):
    """Remove the company's stamp."""
    company = db.get_or_404(Company, company_id)
    services.remove_company_stamp(company, current_user)
    flash(_("The stamp was removed."), "success")
    return redirect(url_for("parties.company", company_id=company.id))


@bp.post("/companies/<int:company_id>/delete")
@require("delete", "settings")
def company_delete(company_id: int):
    """Delete a company (the page asks for confirmation first)."""
    company = db.get_or_404(Company, company_id)
    name = company.display_name
    services.delete_company(company, current_user)
    flash(_("Company “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("parties.companies"))


# --- counterparties ------------------------------------------------------------------------

def _page_number() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.get("/counterparties")
@require("view", "contacts")
def counterparties():
    """The directory, with search as you type (the list alone for htmx)."""
    q = request.args.get("q", "").strip()[:200]
    kind = request.args.get("kind", "")
    kind = kind if kind in PARTY_KINDS else ""
    context = {
        "q": q,
        "kind": kind,
        "page": services.search_counterparties(q, kind, _page_number()),
        "directory_empty": not services.counterparties_exist(),
    }
    template = "parties/_counterparty_list.html" if is_htmx() else "parties/counterparties.html"
    return vary_on_htmx(make_response(render_template(template, **context)))


def _counterparty_form_page(form: CounterpartyForm, counterparty: Counterparty | None):
    return render_template("parties/counterparty_form.html", form=form,
                           counterparty=counterparty)


def _save_counterparty(form: CounterpartyForm, counterparty: Counterparty | None):
    if not form.validate_on_submit():
        return _counterparty_form_page(form, counterparty)
    try:
        counterparty = services.save_counterparty(form.values(), current_user, counterparty)
    except PartyRefused as refused:
        form.show_errors(refused.errors, groups=("contact",))
        return _counterparty_form_page(form, counterparty)
    flash(_("“%(name)s” saved.", name=counterparty.name), "success")
    return redirect(url_for("parties.counterparty", counterparty_id=counterparty.id))


@bp.route("/counterparties/new", methods=["GET", "POST"])
@require("create", "contacts")
def counterparty_new():
    """Add a person or a company to the directory."""
    form = CounterpartyForm()
    if request.method == "GET" and request.args.get("kind") in PARTY_KINDS:
        form.kind.data = request.args["kind"]
    return _save_counterparty(form, None)


@bp.route("/counterparties/<int:counterparty_id>/edit", methods=["GET", "POST"])
@require("edit", "contacts")
def counterparty_edit(counterparty_id: int):
    """Edit a counterparty."""
    counterparty = db.get_or_404(Counterparty, counterparty_id)
    return _save_counterparty(CounterpartyForm(obj=counterparty), counterparty)


@bp.get("/counterparties/<int:counterparty_id>")
@require("view", "contacts")
def counterparty(counterparty_id: int):
    """One counterparty's card."""
    return render_template("parties/counterparty.html",
                           counterparty=db.get_or_404(Counterparty, counterparty_id))


@bp.post("/counterparties/<int:counterparty_id>/delete")
@require("delete", "contacts")
def counterparty_delete(counterparty_id: int):
    """Delete a counterparty; from the list (htmx) the row simply disappears."""
    counterparty = db.get_or_404(Counterparty, counterparty_id)
    name = counterparty.name
    services.delete_counterparty(counterparty, current_user)
    if is_htmx():
        return ""
    flash(_("“%(name)s” deleted.", name=name), "success")
    return redirect(url_for("parties.counterparties"))
