"""Rules screens: the rules board beside the pipeline, the HTMX rule forms, the run log."""

from dataclasses import dataclass, field

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.auth.departments import department_choices
from portal.auth.models import Department, User
from portal.auth.permissions import can, require, visible
from portal.automation import services
from portal.automation.actions import VARIABLES, action_label
from portal.automation.forms import AMOUNT_OP_LABELS, RuleForm, rule_form
from portal.automation.models import RETRY_STATUSES, AutomationRule, RuleRun
from portal.automation.triggers import TRIGGERS, trigger_label
from portal.automation.webhooks import SIGNATURE_HEADER
from portal.doctemplates.models import DocumentTemplate
from portal.documents.models import STAGES, Document
from portal.documents.services.queries import active_templates, responsible_choices
from portal.extensions import db
from portal.htmx import is_htmx, vary_on_htmx
from portal.models_base import DATABASE_INT_MAX
from portal.parties.models import Company
from portal.parties.services import list_companies

bp = Blueprint("automation", __name__, url_prefix="/automation")

RUNS_PER_PAGE = 50
MAX_PAGE = 100_000
# The rule form's 422 answer carries this header: automation.js lets htmx swap it in.
FRAGMENT_HEADER = "X-Signet-Fragment"
RUN_STATUS_LABELS = {
    "queued": _l("Queued"), "running": _l("Running"), "retrying": _l("Retrying"),
    "succeeded": _l("Succeeded"), "failed": _l("Failed"), "stopped": _l("Stopped"),
}
RUN_STATUS_BADGES = {"succeeded": "ok", "failed": "off", "retrying": "warn",
                     "stopped": "run-stopped"}
RECIPIENT_SUMMARIES = {
    "responsible": _l("Email to the responsible"),
    "client": _l("Email to the client"),
    "company": _l("Email to the company's signer"),
    "signers": _l("Email to everyone who signs"),
}
TRIGGER_ORDER = {trigger: index for index, trigger in enumerate(TRIGGERS)}


def _actor():
    return current_user._get_current_object()


# --- the rules board ----------------------------------------------------------------------

@dataclass
class RuleCard:
    """A rule as its card shows it: when, for which documents, what it does."""

    rule: AutomationRule
    when: str
    conditions: list[str]
    action: str
    first: bool = False
    last: bool = False


@dataclass
class Column:
    stage: str
    cards: list[RuleCard] = field(default_factory=list)


def _names(model, ids: set, label) -> dict:
    if not ids:
        return {}
    return {row.id: label(row) for row in db.session.scalars(
        select(model).where(model.id.in_(ids)))}


def _lookups(rules: list[AutomationRule]) -> dict[str, dict]:
    """Names of the companies, templates, people and departments the rules mention."""
    wanted: dict[str, set] = {"company": set(), "template": set(), "user": set(),
                              "department": set()}
    for rule in rules:
        conditions, params = rule.conditions or {}, rule.params or {}
        wanted["company"].add(conditions.get("company_id"))
        wanted["template"].update({conditions.get("template_id"), params.get("template_id")
                                   if rule.action == "create_document" else None})
        wanted["user"].update({conditions.get("responsible_id"), params.get("user_id")})
        wanted["department"].add(conditions.get("department_id"))
    ids = {key: {value for value in values if isinstance(value, int)}
           for key, values in wanted.items()}
    return {
        "company": _names(Company, ids["company"], lambda row: row.display_name),
        "template": _names(DocumentTemplate, ids["template"], lambda row: row.name),
        "user": _names(User, ids["user"], lambda row: row.name),
        "department": _names(Department, ids["department"], lambda row: row.path),
    }


def _when(rule: AutomationRule) -> str:
    if rule.trigger == "stuck":
        return ngettext("Stuck %(num)d day", "Stuck %(num)d days", rule.stuck_days or 0)
    return trigger_label(rule.trigger)


def _conditions_summary(conditions: dict, names: dict) -> list[str]:
    gone = _("(deleted)")
    parts = []
    if conditions.get("company_id"):
        parts.append(names["company"].get(conditions["company_id"], gone))
    if conditions.get("template_id"):
        parts.append(_("Template “%(name)s”",
                       name=names["template"].get(conditions["template_id"], gone)))
    if conditions.get("responsible_id"):
        parts.append(_("Responsible: %(name)s",
                       name=names["user"].get(conditions["responsible_id"], gone)))
    if conditions.get("department_id"):
        parts.append(_("Department: %(name)s",
                       name=names["department"].get(conditions["department_id"], gone)))
    if conditions.get("counterparty_kind") == "person":
        parts.append(_("The client is a person"))
    elif conditions.get("counterparty_kind") == "company":
        parts.append(_("The client is a company"))
    if conditions.get("amount_op") in AMOUNT_OP_LABELS and conditions.get("amount"):
        sign = ">" if conditions["amount_op"] == "gt" else "<"
        parts.append(_("Amount %(sign)s %(amount)s", sign=sign, amount=conditions["amount"]))
    return parts


def _action_summary(rule: AutomationRule, names: dict) -> str:
    params, gone = rule.params or {}, _("(deleted)")
    if rule.action == "send_email":
        if params.get("recipient") == "address":
            return _("Email to %(address)s", address=params.get("address", ""))
        return str(RECIPIENT_SUMMARIES.get(params.get("recipient"), action_label(rule.action)))
    if rule.action == "change_responsible":
        return _("Hand over to %(name)s", name=names["user"].get(params.get("user_id"), gone))
    if rule.action == "webhook":
        return _("Webhook to %(url)s", url=params.get("url", ""))
    if rule.action == "create_document":
        name = names["template"].get(params.get("template_id"), gone)
        if params.get("send", True):
            return _("Create “%(name)s” and send", name=name)
        return _("Create “%(name)s”", name=name)
    if rule.action == "notify_responsible":
        return _("Email the responsible")
    return action_label(rule.action)


def rules_board() -> list[Column]:
    """Every stage's rules in run order: grouped by trigger, then by position."""
    rules = list(db.session.scalars(select(AutomationRule).order_by(
        AutomationRule.position, AutomationRule.id)))
    rules.sort(key=lambda rule: (TRIGGER_ORDER.get(rule.trigger, 99), rule.position, rule.id))
    names = _lookups(rules)
    columns = {stage: Column(stage) for stage in STAGES}
    for rule in rules:
        column = columns.get(rule.stage)
        if column is None:
            continue
        column.cards.append(RuleCard(rule, _when(rule),
                                     _conditions_summary(rule.conditions or {}, names),
                                     _action_summary(rule, names)))
    for column in columns.values():
        _mark_ends(column.cards)
    return list(columns.values())


def _mark_ends(cards: list[RuleCard]) -> None:
    """First and last of each trigger in the column: their arrow has nowhere to go."""
    for index, card in enumerate(cards):
        before = cards[index - 1] if index else None
        after = cards[index + 1] if index + 1 < len(cards) else None
        card.first = before is None or before.rule.trigger != card.rule.trigger
        card.last = after is None or after.rule.trigger != card.rule.trigger


def _board_fragment(saved_id: int | None = None, panel: str = ""):
    """The rules board for htmx (and the side panel out of band: emptied, or `panel`)."""
    response = make_response(render_template(
        "automation/_board_swap.html", columns=rules_board(), saved_id=saved_id, panel=panel))
    response.headers["HX-Retarget"] = "#rules-board"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


@bp.get("/")
@require("view", "automation")
def index():
    """The rules board; the board alone for htmx."""
    if is_htmx():
        return vary_on_htmx(make_response(render_template(
            "automation/_board.html", columns=rules_board())))
    return vary_on_htmx(make_response(render_template(
        "automation/rules.html", columns=rules_board())))


# --- the rule form --------------------------------------------------------------------------

def _choices(form: RuleForm) -> RuleForm:
    form.set_choices(
        companies=[(company.id, company.display_name) for company in list_companies()],
        templates=[(template.id, template.name) for template in active_templates()],
        users=[(user.id, f"{user.name} ({user.email})") for user in responsible_choices()],
        departments=department_choices())
    return form


def _panel_context(form: RuleForm, rule: AutomationRule | None, notice=None) -> dict:
    if rule is not None and (rule.params or {}).get("secret"):
        form.secret.label.text = _("New secret")
    return {"form": _choices(form), "rule": rule, "notice": notice,
            "variables": ["{{ " + name + " }}" for name in VARIABLES],
            "signature_header": SIGNATURE_HEADER}


def _panel(form: RuleForm, rule: AutomationRule | None = None, status: int = 200, notice=None):
    """The form in the side panel for htmx, else on a page of its own."""
    context = _panel_context(form, rule, notice)
    if is_htmx():
        response = make_response(render_template("automation/_rule_panel.html", **context),
                                 status)
        response.headers[FRAGMENT_HEADER] = "rule-form"
        return vary_on_htmx(response)
    return vary_on_htmx(make_response(
        render_template("automation/rule_page.html", **context), status))


def _saved(rule: AutomationRule, message: str):
    """After a save: the board (and, for a webhook, the form again showing its secret)."""
    notice = None
    if rule.action == "webhook":
        notice = ("success", _("Saved. Give the receiver the secret below to check the calls."))
    if is_htmx():
        panel = ""
        if notice:
            panel = render_template("automation/_rule_panel.html", **_panel_context(
                rule_form(rule), rule, notice))
        return _board_fragment(saved_id=rule.id, panel=panel)
    flash(notice[1] if notice else message, "success")
    if notice:
        return redirect(url_for("automation.edit", rule_id=rule.id))
    return redirect(url_for("automation.index"))


@bp.get("/rules/new")
@require("create", "automation")
def new():
    """An empty rule form, suggested for the column it was opened from."""
    stage = request.args.get("stage", "")
    return _panel(rule_form(stage=stage if stage in STAGES else None))


@bp.post("/rules")
@require("create", "automation")
def create():
    """Save a new rule; the form again with its errors when something is wrong."""
    form = rule_form(submitted=True)
    try:
        rule = services.create_rule(_actor(), form.values())
    except services.RuleRefused as refused:
        form.show_errors(refused.errors)
        return _panel(form, status=422)
    return _saved(rule, _("Rule “%(name)s” added.", name=rule.name))


@bp.get("/rules/<int:rule_id>")
@require("edit", "automation")
def edit(rule_id: int):
    """A rule's form, filled in."""
    rule = services.get_rule(rule_id)
    return _panel(rule_form(rule), rule)


@bp.post("/rules/<int:rule_id>")
@require("edit", "automation")
def update(rule_id: int):
    """Save a rule's changes; the form again with its errors when something is wrong."""
    form = rule_form(submitted=True)
    try:
        rule = services.update_rule(_actor(), rule_id, form.values())
    except services.RuleRefused as refused:
        form.show_errors(refused.errors)
        return _panel(form, services.get_rule(rule_id), status=422)
    return _saved(rule, _("Rule “%(name)s” saved.", name=rule.name))


def _changed(rule_id: int | None, message: str):
    """After a card's button: the board for htmx, else back to the page with a note."""
    if is_htmx():
        return _board_fragment(saved_id=rule_id)
    flash(message, "success")
    return redirect(url_for("automation.index"))


@bp.post("/rules/<int:rule_id>/enabled")
@require("edit", "automation")
def toggle(rule_id: int):
    """Switch a rule on or off."""
    enabled = request.form.get("enabled") == "1"
    rule = services.set_enabled(_actor(), rule_id, enabled)
    return _changed(rule.id, _("Rule “%(name)s” is on.", name=rule.name) if enabled
                    else _("Rule “%(name)s” is off.", name=rule.name))


@bp.post("/rules/<int:rule_id>/copy")
@require("create", "automation")
def copy(rule_id: int):
    """A disabled copy of the rule, to adjust before switching it on."""
    rule = services.copy_rule(_actor(), rule_id)
    return _changed(rule.id, _("“%(name)s” added; it is off until you switch it on.",
                               name=rule.name))


@bp.post("/rules/<int:rule_id>/move")
@require("edit", "automation")
def move(rule_id: int):
    """One place earlier or later among the rules of its trigger."""
    step = -1 if request.form.get("step") == "up" else 1
    rule = services.move_rule(_actor(), rule_id, step)
    return _changed(rule.id, _("Order of the rules saved."))


@bp.post("/rules/<int:rule_id>/delete")
@require("delete", "automation")
def delete(rule_id: int):
    """Delete a rule (its run log goes with it)."""
    name = services.get_rule(rule_id).name
    services.delete_rule(_actor(), rule_id)
    return _changed(None, _("Rule “%(name)s” deleted.", name=name))


# --- the run log ----------------------------------------------------------------------------

def _number(raw: str | None, limit: int) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) <= limit else None


def _runs_page(rule_id: int | None, status: str | None, page: int):
    # Runs on documents the user may not see are not theirs to know of (nor to count).
    seen = select(Document.id).where(visible(current_user, "documents", Document))
    query = (select(RuleRun).options(joinedload(RuleRun.rule), joinedload(RuleRun.document))
             .where(RuleRun.document_id.is_(None) | RuleRun.document_id.in_(seen))
             .order_by(RuleRun.created_at.desc(), RuleRun.id.desc()))
    if rule_id is not None:
        query = query.where(RuleRun.rule_id == rule_id)
    if status is not None:
        query = query.where(RuleRun.status == status)
    return db.paginate(query, page=page, per_page=RUNS_PER_PAGE, error_out=False)


@bp.get("/runs")
@require("view", "automation")
def runs():
    """What the rules did, newest first; the table alone for htmx."""
    rule_id = _number(request.args.get("rule"), DATABASE_INT_MAX)
    status = request.args.get("status") or None
    status = status if status in RETRY_STATUSES else None
    page = _number(request.args.get("page"), MAX_PAGE) or 1
    runs_page = _runs_page(rule_id, status, page)
    context = {
        "page": runs_page,
        "outcomes": services.run_outcomes(runs_page.items),
        "rule_id": rule_id,
        "status": status,
        "rules": list(db.session.scalars(select(AutomationRule).order_by(
            AutomationRule.name, AutomationRule.id))),
        "status_labels": RUN_STATUS_LABELS,
        "status_badges": RUN_STATUS_BADGES,
        "trigger_label": trigger_label,
        "may_open": lambda document: document is not None and can(
            current_user, "view", "documents", document),
    }
    template = "automation/_runs_list.html" if is_htmx() else "automation/runs.html"
    return vary_on_htmx(make_response(render_template(template, **context)))
