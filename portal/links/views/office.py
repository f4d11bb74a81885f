"""Publishing a template as a public link; the list of links, one link's page with its QR."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.audit.service import request_meta
from portal.auth.two_factor.totp import qr_data_uri
from portal.doctemplates.models import DocumentTemplate
from portal.documents.services.common import default_currency
from portal.errors import DomainError
from portal.extensions import db
from portal.links import presign as presigning
from portal.links import services
from portal.links.forms import LinkValuesForm, PublishForm
from portal.links.services import LinkNotFound, LinkRefused
from portal.parties.services import company_for_language, list_companies

bp = Blueprint("links", __name__, url_prefix="/links")


def _require_publisher() -> None:
    if not services.may_publish(current_user):
        abort(403)


def _link_or_404(link_id: int):
    _require_publisher()  # 403 for who may not publish at all; 404 for another's link
    try:
        return services.link_for(current_user, link_id)
    except LinkNotFound:
        abort(404)


@bp.get("/")
@login_required
def index():
    """The links the user may manage: uses, expiry, state."""
    _require_publisher()
    return render_template("links/index.html", links=services.links_of(current_user),
                           state_of=services.state_of)


def _publish_page(form: PublishForm, template: DocumentTemplate, status: int = 200):
    return render_template("links/new.html", form=form, template=template), status


def _publish_defaults(form: PublishForm, template: DocumentTemplate) -> None:
    """As a new document from the template starts: the company and currency of its language."""
    form.title.data = template.name
    company = company_for_language(template.language)
    form.company_id.data = str(company.id) if company else None
    form.currency.data = default_currency(template.language)


@bp.route("/new/<int:template_id>", methods=["GET", "POST"])
@login_required
def new(template_id: int):
    """Publish a template as a link: company, channel and the limits."""
    _require_publisher()
    template = db.get_or_404(DocumentTemplate, template_id)
    form = PublishForm()
    form.company_id.choices = [(str(c.id), c.display_name) for c in list_companies()]
    if request.method == "GET" or not form.validate_on_submit():
        if request.method == "GET":
            _publish_defaults(form, template)
        return _publish_page(form, template, 200 if request.method == "GET" else 422)
    try:
        link, not_asked = presigning.publish(current_user, request_meta(),
                                             template_id=template.id, **form.values())
    except LinkRefused as refused:
        form.show_errors(refused.errors, form.item_aliases())
        return _publish_page(form, template, 422)
    if not_asked:
        flash(not_asked, "error")
    elif link.presigned:
        flash(_("The link is published. Our signer is asked to sign it; it takes visitors "
                "once signed."), "success")
    else:
        flash(_("The link is published. Share it or its QR code."), "success")
    return redirect(url_for("links.view", link_id=link.id))


@bp.get("/<int:link_id>")
@login_required
def view(link_id: int):
    """One link: its URL with a copy button, the QR code, limits and uses."""
    link = _link_or_404(link_id)
    url = services.url_of(link)
    return render_template("links/view.html", link=link, url=url,
                           qr=qr_data_uri(url) if url else None,
                           state=services.state_of(link),
                           presign=presigning.pending_of(link), terms=services.terms_of(link),
                           documents=services.recent_documents(current_user, link))


def _values_page(link, form: LinkValuesForm, status: int = 200):
    return render_template("links/values.html", link=link, form=form), status


@bp.route("/<int:link_id>/values", methods=["GET", "POST"])
@login_required
def values(link_id: int):
    """The title and document values of the documents the link makes from now on."""
    link = _link_or_404(link_id)
    form = LinkValuesForm()
    if request.method == "GET":
        form.title.data = link.title
        form.fill_document_values(link.document_values or {})
        if not (link.document_values or {}).get("currency"):
            form.currency.data = default_currency(link.template.language)
        return _values_page(link, form)
    if not form.validate_on_submit():
        return _values_page(link, form, 422)
    try:
        services.set_values(current_user, request_meta(), link.id, title=form.title.data,
                            values=form.document_values())
    except LinkRefused as refused:
        form.show_errors(refused.errors, form.item_aliases())
        return _values_page(link, form, 422)
    except DomainError as refused:
        form.add_form_error(refused.message)
        return _values_page(link, form, refused.status)
    flash(_("Saved. Documents made from now on get these values; those made keep theirs."),
          "success")
    return redirect(url_for("links.view", link_id=link.id))


def _change(link_id: int, change, message: str):
    _require_publisher()
    try:
        change()
    except LinkNotFound:
        abort(404)
    except DomainError as refused:
        flash(refused.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for("links.view", link_id=link_id))


@bp.post("/<int:link_id>/pause")
@login_required
def pause(link_id: int):
    """Visitors see that the link is paused until it is resumed."""
    return _change(link_id, lambda: services.set_active(current_user, request_meta(), link_id,
                                                        False),
                   _("The link is paused."))


@bp.post("/<int:link_id>/resume")
@login_required
def resume(link_id: int):
    return _change(link_id, lambda: services.set_active(current_user, request_meta(), link_id,
                                                        True),
                   _("The link takes visitors again."))


@bp.post("/<int:link_id>/delete")
@login_required
def delete(link_id: int):
    """The link stops working; the documents it made stay."""
    _require_publisher()
    try:
        services.delete_link(current_user, request_meta(), link_id)
    except LinkNotFound:
        abort(404)
    flash(_("The link is deleted. The documents it made stay."), "success")
    return redirect(url_for("links.index"))


@bp.post("/<int:link_id>/presign")
@login_required
def presign(link_id: int):
    """Our signer is asked to pre-sign (again): what held is revoked, the link waits."""
    return _change(link_id, lambda: presigning.request_signature(current_user, request_meta(),
                                                                 link_id),
                   _("Our signer is asked to sign the link. It takes visitors once signed."))


@bp.post("/<int:link_id>/presign/revoke")
@login_required
def revoke_presign(link_id: int):
    return _change(link_id, lambda: presigning.revoke(current_user, request_meta(), link_id),
                   _("The pre-signature is revoked. The link takes no visitors until our "
                     "signer signs again."))


@bp.post("/<int:link_id>/presign/off")
@login_required
def presign_off(link_id: int):
    return _change(link_id, lambda: presigning.turn_off(current_user, request_meta(), link_id),
                   _("The link is no longer pre-signed: our signer signs each document after "
                     "the visitor."))
