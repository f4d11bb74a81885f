"""Rules and webhook endpoints: checking what a person entered, and saving it with its trail."""

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal import unit
from portal.audit.catalogue import (
    AUTOMATION_RULE_CREATED,
    AUTOMATION_RULE_DELETED,
    AUTOMATION_RULE_DISABLED,
    AUTOMATION_RULE_ENABLED,
    AUTOMATION_RULE_MOVED,
    AUTOMATION_RULE_UPDATED,
    WEBHOOK_ENDPOINT_CREATED,
    WEBHOOK_ENDPOINT_DELETED,
    WEBHOOK_ENDPOINT_UPDATED,
    WEBHOOK_RESENT,
    WEBHOOK_SECRET_ROTATED,
    EventType,
)
from portal.audit.service import record
from portal.auth.models import Department, User
from portal.automation.actions import ACTIONS, EMAIL_RECIPIENTS, unknown_placeholders
from portal.automation.conditions import AMOUNT_OPS, CONDITION_KEYS, COUNTERPARTY_KINDS
from portal.automation.models import AutomationRule, WebhookDelivery, WebhookEndpoint
from portal.automation.triggers import (
    MAX_STUCK_DAYS,
    STUCK_STAGES,
    TRIGGERS,
    WEBHOOK_EVENTS,
    stage_of_trigger,
)
from portal.automation.webhooks import is_valid_url, new_secret, send_again
from portal.delivery.services import EMAIL
from portal.doctemplates.models import DocumentTemplate
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import DATABASE_INT_MAX
from portal.parties.models import Company

NAME_MAX = 200
SUBJECT_MAX = 300
BODY_MAX = 5000
AMOUNT_LIMIT = Decimal("1e13")


class RuleRefused(DomainError):
    """What was entered cannot be saved; `errors` maps a field to its message."""

    status = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def _text(values: dict, key: str) -> str:
    return " ".join(str(values.get(key) or "").split())


def _id_of(values: dict, key: str, model, errors: dict, message: str,
           required: bool = False) -> int | None:
    raw = str(values.get(key) or "").strip()
    if not raw:
        if required:
            errors[key] = message
        return None
    number = int(raw) if raw.isdigit() and int(raw) <= DATABASE_INT_MAX else 0
    found = db.session.get(model, number) if number else None
    if found is None or getattr(found, "active", True) is False:
        errors[key] = message
        return None
    return found.id


# --- rules ------------------------------------------------------------------------------------

def clean_rule(values: dict) -> dict:
    """The rule's columns from a form or the API; RuleRefused names every problem."""
    errors: dict[str, str] = {}
    name = _text(values, "name")
    if not name:
        errors["name"] = _("Name the rule.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("At most %(count)s characters.", count=NAME_MAX)
    trigger = str(values.get("trigger") or "")
    stage, stuck_days = stage_of_trigger(trigger), None
    if trigger not in TRIGGERS:
        errors["trigger"] = _("Choose what sets the rule off.")
    elif trigger == "stuck":
        stage, stuck_days = _stuck(values, errors)
    action = str(values.get("action") or "")
    if action not in ACTIONS:
        errors["action"] = _("Choose what the rule does.")
    conditions = _conditions(values, errors)
    params = _params(action, values, errors) if action in ACTIONS else {}
    if errors:
        raise RuleRefused(errors)
    return {"name": name, "trigger": trigger, "stage": stage, "stuck_days": stuck_days,
            "conditions": conditions, "action": action, "params": params}


def _stuck(values: dict, errors: dict) -> tuple[str | None, int | None]:
    stage = str(values.get("stage") or "")
    if stage not in STUCK_STAGES:
        errors["stage"] = _("Choose the stage to watch.")
    raw = str(values.get("stuck_days") or "").strip()
    days = int(raw) if raw.isdigit() else 0
    if not 1 <= days <= MAX_STUCK_DAYS:
        errors["stuck_days"] = _("Enter a number of days from 1 to %(max)s.", max=MAX_STUCK_DAYS)
    return stage, days


def _conditions(values: dict, errors: dict) -> dict:

    found = {
        "company_id": _id_of(values, "company_id", Company, errors, _("Choose a company.")),
        "template_id": _id_of(values, "template_id", DocumentTemplate, errors,
                              _("Choose a template.")),
        "responsible_id": _id_of(values, "responsible_id", User, errors,
                                 _("Choose an active user.")),
        "department_id": _id_of(values, "department_id", Department, errors,
                                _("Choose a department.")),
    }
    kind = str(values.get("counterparty_kind") or "")
    if kind and kind not in COUNTERPARTY_KINDS:
        errors["counterparty_kind"] = _("Choose a person or a company.")
    operator = str(values.get("amount_op") or "")
    amount = str(values.get("amount") or "").strip().replace(",", ".").replace(" ", "")
    if operator and operator not in AMOUNT_OPS:
        errors["amount_op"] = _("Choose greater or less than.")
    if operator and amount:
        amount = _amount(amount, errors)
    elif operator or amount:
        errors["amount"] = _("Give both the comparison and the amount, or neither.")
    conditions = {**found, "counterparty_kind": kind or None,
                  "amount_op": operator or None, "amount": amount or None}
    return {key: conditions[key] for key in CONDITION_KEYS if conditions[key] is not None}


def _amount(raw: str, errors: dict) -> str:
    try:
        number = Decimal(raw)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not 0 <= number < AMOUNT_LIMIT:
        errors["amount"] = _("Enter an amount, e.g. 1500.00.")
        return ""
    return str(number)


def _params(action: str, values: dict, errors: dict) -> dict:
    if action == "notify_responsible":
        note = str(values.get("note") or "").strip()[:BODY_MAX]
        _check_placeholders(note, "note", errors)
        return {"note": note}
    if action == "send_email":
        return _email_params(values, errors)
    if action == "change_responsible":
        return {"user_id": _id_of(values, "user_id", User, errors, _("Choose an active user."),
                                  required=True)}
    if action == "webhook":
        url = str(values.get("url") or "").strip()
        if not is_valid_url(url):
            errors["url"] = _("Enter the receiver's address, starting with https:// or http://.")
        return {"url": url, "secret": str(values.get("secret") or "").strip() or new_secret()}
    if action == "create_document":

        template_id = _id_of(values, "new_template_id", DocumentTemplate, errors,
                             _("Choose an active template."), required=True)
        return {"template_id": template_id, "send": _flag(values.get("send", True))}
    return {}


def _flag(value) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes", "y")


def _email_params(values: dict, errors: dict) -> dict:

    recipient = str(values.get("recipient") or "")
    if recipient not in EMAIL_RECIPIENTS:
        errors["recipient"] = _("Choose who gets the email.")
    address = str(values.get("address") or "").strip()
    if recipient == "address" and not EMAIL.match(address):
        errors["address"] = _("Enter a valid email address.")
    subject = _text(values, "subject")
    if not subject:
        errors["subject"] = _("Write a subject.")
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = _("At most %(count)s characters.", count=SUBJECT_MAX)
    body = str(values.get("body") or "").replace("\r\n", "\n").strip()
    if not body:
        errors["body"] = _("Write the text of the email.")
    elif len(body) > BODY_MAX:
        errors["body"] = _("At most %(count)s characters.", count=BODY_MAX)
    _check_placeholders(subject, "subject", errors)
    _check_placeholders(body, "body", errors)
    return {"recipient": recipient, "address": address if recipient == "address" else "",
            "subject": subject, "body": body}


def _check_placeholders(text: str, key: str, errors: dict) -> None:
    unknown = unknown_placeholders(text)
    if unknown and key not in errors:
        errors[key] = _("Unknown variable: %(names)s.", names=", ".join(sorted(set(unknown))))


def _next_position(trigger: str) -> int:
    last = db.session.scalar(select(func.max(AutomationRule.position))
                             .where(AutomationRule.trigger == trigger))
    return (last or 0) + 1


def _trail(event_type: EventType, actor, rule: AutomationRule, **details) -> None:
    record(event_type, None, actor, None, rule_id=rule.id, name=rule.name,
           trigger=rule.trigger, action=rule.action, **details)


def create_rule(actor, values: dict) -> AutomationRule:
    cleaned = clean_rule(values)
    rule = AutomationRule(**cleaned, position=_next_position(cleaned["trigger"]),
                          enabled=True, created_by_id=getattr(actor, "id", None))
    db.session.add(rule)
    db.session.flush()
    _trail(AUTOMATION_RULE_CREATED, actor, rule)
    unit.commit()
    return rule


def get_rule(rule_id: int) -> AutomationRule:
    rule = db.session.get(AutomationRule, rule_id) if 0 < rule_id <= DATABASE_INT_MAX else None
    if rule is None:
        raise DomainError(_("There is no such rule."), 404)
    return rule


def update_rule(actor, rule_id: int, values: dict) -> AutomationRule:
    rule = get_rule(rule_id)
    cleaned = clean_rule(values)
    if cleaned["trigger"] != rule.trigger:
        rule.position = _next_position(cleaned["trigger"])
    if cleaned["action"] == "webhook" and not str(values.get("secret") or "").strip() \
            and (rule.params or {}).get("secret"):
        cleaned["params"]["secret"] = rule.params["secret"]  # a blank field keeps the secret
    for key, value in cleaned.items():
        setattr(rule, key, value)
    _trail(AUTOMATION_RULE_UPDATED, actor, rule)
    unit.commit()
    return rule


def set_enabled(actor, rule_id: int, enabled: bool) -> AutomationRule:
    rule = get_rule(rule_id)
    if rule.enabled != enabled:
        rule.enabled = enabled
        if enabled:
            _trail(AUTOMATION_RULE_ENABLED, actor, rule)
        else:
            _trail(AUTOMATION_RULE_DISABLED, actor, rule)
        unit.commit()
    return rule


def copy_rule(actor, rule_id: int) -> AutomationRule:
    """A disabled copy right after the original, to adjust before switching it on."""
    original = get_rule(rule_id)
    params = dict(original.params or {})
    if original.action == "webhook":
        params["secret"] = new_secret()  # each rule signs with its own secret
    copy = AutomationRule(
        name=_("Copy of %(name)s", name=original.name)[:NAME_MAX], trigger=original.trigger,
        stage=original.stage, stuck_days=original.stuck_days,
        conditions=dict(original.conditions or {}), action=original.action, params=params,
        position=_next_position(original.trigger), enabled=False,
        created_by_id=getattr(actor, "id", None))
    db.session.add(copy)
    db.session.flush()
    _trail(AUTOMATION_RULE_CREATED, actor, copy, copied_from=original.id)
    unit.commit()
    return copy


def delete_rule(actor, rule_id: int) -> None:
    rule = get_rule(rule_id)
    _trail(AUTOMATION_RULE_DELETED, actor, rule)
    db.session.delete(rule)
    unit.commit()


def move_rule(actor, rule_id: int, step: int) -> AutomationRule:
    """Swap the rule with its neighbour among its trigger's rules in its column (-1 up, +1 down)."""
    rule = get_rule(rule_id)
    siblings = list(db.session.scalars(
        select(AutomationRule).where(AutomationRule.trigger == rule.trigger,
                                     AutomationRule.stage == rule.stage)
        .order_by(AutomationRule.position, AutomationRule.id)))
    index = siblings.index(rule)
    other = index + (1 if step > 0 else -1)
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
        for position, sibling in enumerate(siblings, start=1):
            sibling.position = position
        _trail(AUTOMATION_RULE_MOVED, actor, rule, position=rule.position)
        unit.commit()
    return rule


# --- webhook endpoints ------------------------------------------------------------------------

def clean_endpoint(values: dict) -> dict:
    errors: dict[str, str] = {}
    url = str(values.get("url") or "").strip()
    if not is_valid_url(url):
        errors["url"] = _("Enter the receiver's address, starting with https:// or http://.")
    description = _text(values, "description")
    if len(description) > NAME_MAX:
        errors["description"] = _("At most %(count)s characters.", count=NAME_MAX)
    events = values.get("events") or []
    if isinstance(events, str):
        events = [events]
    unknown = [name for name in events if name not in WEBHOOK_EVENTS]
    if unknown:
        errors["events"] = _("Unknown event: %(names)s.", names=", ".join(unknown[:5]))
    if errors:
        raise RuleRefused(errors)
    return {"url": url, "description": description,
            "events": [name for name in WEBHOOK_EVENTS if name in events]}


def _endpoint_trail(event_type: EventType, actor, endpoint: WebhookEndpoint) -> None:
    record(event_type, None, actor, None, endpoint_id=endpoint.id, url=endpoint.url,
           events=endpoint.events or "all")


def create_endpoint(actor, values: dict) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(**clean_endpoint(values), secret=new_secret(), enabled=True,
                               created_by_id=getattr(actor, "id", None))
    db.session.add(endpoint)
    db.session.flush()
    _endpoint_trail(WEBHOOK_ENDPOINT_CREATED, actor, endpoint)
    unit.commit()
    return endpoint


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = (db.session.get(WebhookEndpoint, endpoint_id)
                if 0 < endpoint_id <= DATABASE_INT_MAX else None)
    if endpoint is None:
        raise DomainError(_("There is no such webhook endpoint."), 404)
    return endpoint


def update_endpoint(actor, endpoint_id: int, values: dict) -> WebhookEndpoint:
    endpoint = get_endpoint(endpoint_id)
    for key, value in clean_endpoint(values).items():
        setattr(endpoint, key, value)
    endpoint.enabled = _flag(values.get("enabled", endpoint.enabled))
    _endpoint_trail(WEBHOOK_ENDPOINT_UPDATED, actor, endpoint)
    unit.commit()
    return endpoint


def rotate_secret(actor, endpoint_id: int) -> WebhookEndpoint:
    endpoint = get_endpoint(endpoint_id)
    endpoint.secret = new_secret()
    _endpoint_trail(WEBHOOK_SECRET_ROTATED, actor, endpoint)
    unit.commit()
    return endpoint


def delete_endpoint(actor, endpoint_id: int) -> None:
    endpoint = get_endpoint(endpoint_id)
    _endpoint_trail(WEBHOOK_ENDPOINT_DELETED, actor, endpoint)
    db.session.delete(endpoint)
    unit.commit()


def resend_delivery(actor, delivery_id: int):
    """"Send again": the same body to the same endpoint, as a new delivery in the log."""

    delivery = (db.session.get(WebhookDelivery, delivery_id)
                if 0 < delivery_id <= DATABASE_INT_MAX else None)
    if delivery is None:
        raise DomainError(_("There is no such delivery."), 404)
    record(WEBHOOK_RESENT, None, actor, None, delivery_id=delivery.id,
           endpoint_id=delivery.endpoint_id, event=delivery.event_type)
    unit.commit()
    return send_again(delivery_id)


# --- the run log ------------------------------------------------------------------------------

def run_outcomes(runs) -> dict[int, dict]:
    """Run id -> the outcome kept on the run (runs logged before outcomes were kept have
    none: their text shows as it was stored)."""
    return {run.id: run.outcome for run in runs if isinstance(run.outcome, dict)}
