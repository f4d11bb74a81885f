"""Admin screens for webhook endpoints: register, edit, the delivery log and "send again".

Who may see these pages: they show each endpoint's signing secret and every payload sent, which
carries documents of all departments. Every built-in role may *view* settings (the companies
list), so seeing webhooks needs "edit settings" as well, like the outbox; the Administration menu
links here on the same condition.
"""

import json

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    URLField,
)

from portal import unit
from portal.audit import catalogue
from portal.auth.permissions import can, require
from portal.automation import services
from portal.automation.models import WebhookDelivery, WebhookEndpoint
from portal.automation.services import RuleRefused
from portal.automation.triggers import WEBHOOK_EVENTS
from portal.documents.models import Document
from portal.extensions import db
from portal.htmx import is_htmx, vary_on_htmx
from portal.models_base import DATABASE_INT_MAX

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")

PER_PAGE = 50
DELIVERY_STATUSES = ("queued", "running", "retrying", "succeeded", "failed")
# The events as the form groups them: what happens to the document, to its signers, how it ends.
EVENT_GROUPS = (
    (_l("The document"), (catalogue.DOCUMENT_CREATED, catalogue.DOCUMENT_SENT,
                          catalogue.DOCUMENT_STAGE_CHANGED, catalogue.DOCUMENT_REASSIGNED,
                          catalogue.DOCUMENT_DEADLINE_CHANGED)),
    (_l("Signers"), (catalogue.PARTY_INVITED, catalogue.PARTY_OPENED, catalogue.PARTY_SIGNED,
                     catalogue.PARTY_DECLINED, catalogue.PARTY_REMINDED)),
    (_l("The outcome"), (catalogue.DOCUMENT_COMPLETED, catalogue.DOCUMENT_FINALIZED,
                         catalogue.DOCUMENT_DECLINED, catalogue.DOCUMENT_STOPPED,
                         catalogue.DOCUMENT_EXPIRED)),
)


def event_groups() -> list[tuple]:
    """The groups above, plus any event added to WEBHOOK_EVENTS since, so none goes missing."""
    grouped = {declared.name for _title, declared_types in EVENT_GROUPS
               for declared in declared_types}
    others = tuple(name for name in WEBHOOK_EVENTS if name not in grouped)
    groups = [(title, tuple(declared.name for declared in declared_types
                            if declared.name in WEBHOOK_EVENTS))
              for title, declared_types in EVENT_GROUPS]
    return groups + ([(_l("Other"), others)] if others else [])


def see_webhooks(view):
    """Both grants: "view settings" for the screens, "edit settings" for their secrets."""
    return require("view", "settings")(require("edit", "settings")(view))


# --- the form ---------------------------------------------------------------------------------

class EndpointForm(FlaskForm):
    url = URLField(_l("Receiver URL"),
                   description=_l("Where Signet POSTs the events, e.g. "
                                  "https://crm.example.com/hooks/signet"))
    description = StringField(_l("Description"),
                              description=_l("Optional. Which system this is, e.g. “CRM”."))
    scope = RadioField(_l("Events"), default="all",
                       choices=[SelectChoice("all", _l("All events, including ones added later")),
                                SelectChoice("some", _l("Only the events I choose"))])
    events = SelectMultipleField(
        _l("Events"), validate_choice=False,
        choices=[SelectChoice(name, label) for name, label in WEBHOOK_EVENTS.items()])

    def validate_events(self, field) -> None:
        if self.scope.data == "some" and not field.data:
            field.errors.append(_("Choose at least one event, or “All events”."))

    def values(self) -> dict:
        events = [] if self.scope.data == "all" else list(self.events.data or [])
        return {"url": self.url.data or "", "description": self.description.data or "",
                "events": events}

    def show_errors(self, errors: dict) -> None:
        for name, message in errors.items():
            field = getattr(self, name, None) or self.url
            field.errors = [*field.errors, message]


class EditEndpointForm(EndpointForm):
    enabled = BooleanField(_l("Enabled: send events to this address"))

    def values(self) -> dict:
        return {**super().values(), "enabled": bool(self.enabled.data)}


def _form_for(endpoint: WebhookEndpoint) -> EditEndpointForm:
    data = {"url": endpoint.url, "description": endpoint.description,
            "scope": "some" if endpoint.events else "all", "events": list(endpoint.events or []),
            "enabled": endpoint.enabled}
    return EditEndpointForm(formdata=None, data=data)


def _actor():
    return current_user._get_current_object()


# --- reading for the screens (no writes) -------------------------------------------------------

def _endpoint_rows() -> list[dict]:
    """Every endpoint with its last delivery and how many deliveries failed."""
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    newest = (select(func.max(WebhookDelivery.id))
              .group_by(WebhookDelivery.endpoint_id).scalar_subquery())
    last = {row.endpoint_id: row for row in db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id.in_(newest)))}
    failed = dict(db.session.execute(
        select(WebhookDelivery.endpoint_id, func.count())
        .where(WebhookDelivery.status == "failed").group_by(WebhookDelivery.endpoint_id)).all())
    return [{"endpoint": endpoint, "last": last.get(endpoint.id),
             "failed": failed.get(endpoint.id, 0)} for endpoint in endpoints]


def _status_counts(endpoint_id: int) -> dict:
    counts = dict(db.session.execute(
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .group_by(WebhookDelivery.status)).all())
    return {**counts, "all": sum(counts.values())}


def _documents_of(deliveries) -> dict[int, dict]:
    """document id -> its number and whether this user may open it."""
    ids = {delivery.document_id for delivery in deliveries if delivery.document_id}
    if not ids:
        return {}
    documents = db.session.scalars(select(Document).where(Document.id.in_(ids)))
    return {document.id: {"number": document.number,
                          "linked": can(current_user, "view", "documents", document)}
            for document in documents}


def pretty_json(text: str) -> str:
    """The payload indented for reading; the raw text when it is not JSON."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return text or ""


def _log_context(endpoint: WebhookEndpoint, status: str | None, page_number: int) -> dict:
    query = (select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
             .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()))
    if status:
        query = query.where(WebhookDelivery.status == status)
    page = db.paginate(query, page=max(page_number, 1), per_page=PER_PAGE, error_out=False)
    return {"endpoint": endpoint, "page": page, "status": status,
            "counts": _status_counts(endpoint.id), "documents": _documents_of(page.items),
            "event_labels": WEBHOOK_EVENTS, "statuses": DELIVERY_STATUSES,
            "pretty_json": pretty_json}


def _status_arg() -> str | None:
    status = request.args.get("status")
    return status if status in DELIVERY_STATUSES else None


def _page_arg() -> int:
    return request.args.get("page", 1, type=int) or 1


# --- the list and the new endpoint --------------------------------------------------------------

def _render_index(form: EndpointForm, status: int = 200):
    body = render_template("webhooks/index.html", rows=_endpoint_rows(), form=form,
                           event_groups=event_groups(), event_labels=WEBHOOK_EVENTS)
    return body, status


@bp.get("/")
@see_webhooks
def index():
    """Every endpoint with how its deliveries went, and the form to add one."""
    return _render_index(EndpointForm(formdata=None))


@bp.post("/")
@see_webhooks
@require("create", "settings")
def create():
    """Register an endpoint; its page then shows the secret to copy into the receiver."""
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint = services.create_endpoint(_actor(), form.values())
        except RuleRefused as refused:
            form.show_errors(refused.errors)
        else:
            flash(_("The endpoint is registered. Copy its secret into the receiver's settings."),
                  "success")
            return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))
    return _render_index(form, 422)


# --- one endpoint -----------------------------------------------------------------------------

def _render_show(endpoint: WebhookEndpoint, form: EditEndpointForm, status: int = 200):
    context = _log_context(endpoint, _status_arg(), _page_arg())
    body = render_template("webhooks/show.html", form=form, event_groups=event_groups(),
                           **context)
    return body, status


@bp.get("/<int:endpoint_id>")
@see_webhooks
def show(endpoint_id: int):
    """The endpoint's settings, its secret, and its delivery log (the log alone for htmx)."""
    endpoint = services.get_endpoint(endpoint_id)
    if is_htmx():
        context = _log_context(endpoint, _status_arg(), _page_arg())
        return vary_on_htmx(make_response(render_template("webhooks/_log.html", **context)))
    return vary_on_htmx(make_response(_render_show(endpoint, _form_for(endpoint))))


@bp.post("/<int:endpoint_id>")
@see_webhooks
def update(endpoint_id: int):
    """Save the address, description, events and whether it is enabled."""
    endpoint = services.get_endpoint(endpoint_id)
    form = EditEndpointForm()
    if form.validate_on_submit():
        try:
            services.update_endpoint(_actor(), endpoint.id, form.values())
        except RuleRefused as refused:
            unit.rollback()
            form.show_errors(refused.errors)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))
    return _render_show(services.get_endpoint(endpoint_id), form, 422)


@bp.post("/<int:endpoint_id>/rotate")
@see_webhooks
def rotate(endpoint_id: int):
    """A new secret; calls are signed with it from now on."""
    endpoint = services.rotate_secret(_actor(), endpoint_id)
    if is_htmx():
        return render_template("webhooks/_secret.html", endpoint=endpoint, rotated=True)
    flash(_("The secret was replaced. Put the new one into the receiver's settings."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/delete")
@see_webhooks
@require("delete", "settings")
def delete(endpoint_id: int):
    """Remove the endpoint and its delivery log."""
    endpoint = services.get_endpoint(endpoint_id)
    url = endpoint.url
    services.delete_endpoint(_actor(), endpoint.id)
    flash(_("Deleted the endpoint %(url)s.", url=url), "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
@see_webhooks
def resend(endpoint_id: int, delivery_id: int):
    """Send the same body again as a new delivery; the log comes back with it on top."""
    endpoint = services.get_endpoint(endpoint_id)
    found = db.session.scalar(
        select(WebhookDelivery.id).where(WebhookDelivery.id == delivery_id,
                                         WebhookDelivery.endpoint_id == endpoint.id)
    ) if 0 < delivery_id <= DATABASE_INT_MAX else None
    if found is None:
        abort(404)
    copy = services.resend_delivery(_actor(), delivery_id)
    unit.commit()  # a fresh snapshot: an in-process job wrote through its own session
    notice = ("success" if copy.status == "succeeded" else "info", _resent_message(copy))
    if not is_htmx():
        flash(notice[1], notice[0])
        return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))
    context = _log_context(endpoint, None, 1)
    body = render_template("webhooks/_log.html", **context, new_id=copy.id, notice=notice)
    response = make_response(body)
    response.headers["HX-Replace-Url"] = url_for("webhooks.show", endpoint_id=endpoint.id)
    return response


def _resent_message(delivery: WebhookDelivery) -> str:
    if delivery.status == "succeeded":
        return _("Sent again: the receiver answered HTTP %(status)s.",
                 status=delivery.response_status)
    if delivery.status in ("failed", "retrying"):
        return _("Sent again, but it failed: %(error)s", error=delivery.last_error[:200])
    return _("Queued to be sent again.")
