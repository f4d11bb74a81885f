"""What a rule does. Each action takes the run's context and returns its Outcome: a key and
values, put into words in the reader's language wherever the run is shown.

An action raises PermanentFailure when trying again cannot help (the user to hand the document
to is deactivated, a template is gone); any other exception is retried with backoff.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import unit
from portal.audit.labels import Outcome
from portal.audit.models import AuditEvent
from portal.audit.service import RequestMeta
from portal.auth.services import staff_language
from portal.automation.conditions import document_amount
from portal.automation.triggers import trigger_label
from portal.automation.webhooks import WebhookFailed, document_payload, encode, post
from portal.delivery.services import InvalidRecipient, dispatch, queue_email
from portal.documents.display import document_url, format_moment
from portal.documents.models import Document, Party
from portal.documents.services.create import create_from_template
from portal.documents.services.lifecycle import send
from portal.documents.services.responsible import reassign
from portal.errors import DomainError
from portal.extensions import db
from portal.pipeline.cards import counterparty_name, current_signers
from portal.pipeline.controls import TooSoon, remind
from portal.retries import PermanentFailure

ACTIONS = {
    "notify_responsible": _l("Notify the responsible by email"),
    "send_email": _l("Send an email"),
    "change_responsible": _l("Change the responsible"),
    "remind_signer": _l("Remind the current signer"),
    "webhook": _l("Call a webhook"),
    "create_document": _l("Create a document from a template and send it"),
}
EMAIL_RECIPIENTS = {
    "responsible": _l("The responsible employee"),
    "client": _l("The client"),
    "company": _l("The company's signer"),
    "signers": _l("Everyone who signs"),
    "address": _l("An address"),
}
# {{ name }} placeholders in a rule's email subject and text.
VARIABLES = ("document.number", "document.title", "document.stage", "document.link",
             "document.amount", "document.deadline", "company.name", "counterparty.name",
             "responsible.name", "responsible.email", "rule.name", "event")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_.]+)\s*\}\}")


@dataclass
class RunContext:
    """What an action acts on: the rule, the document, the event (None for "stuck")."""

    rule_id: int
    rule_name: str
    trigger: str
    params: dict
    document: Document
    event: AuditEvent | None


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def unknown_placeholders(text: str) -> list[str]:
    return [name for name in PLACEHOLDER.findall(text or "") if name not in VARIABLES]


def fill_placeholders(text: str, values: dict) -> str:
    return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), match.group(0))),
                           text or "")


def _values(context: RunContext) -> dict:

    document = context.document
    amount = document_amount(document)
    currency = (document.variables or {}).get("currency", "")
    return {
        "document.number": document.number,
        "document.title": document.title,
        "document.stage": document.stage,
        "document.link": document_url(document),
        "document.amount": f"{amount} {currency}".strip() if amount is not None else "",
        "document.deadline": format_moment(document.deadline_at),
        "company.name": document.company.display_name if document.company else "",
        "counterparty.name": counterparty_name(document),
        "responsible.name": document.responsible.name if document.responsible else "",
        "responsible.email": document.responsible.email if document.responsible else "",
        "rule.name": context.rule_name,
        "event": trigger_label(context.trigger),
    }


def _meta() -> RequestMeta:
    return RequestMeta(ip="", user_agent="Signet automation")


# --- the actions ------------------------------------------------------------------------------

def notify_responsible(context: RunContext) -> Outcome:

    document = context.document
    user = document.responsible
    if user is None or not user.active or not user.email:
        raise PermanentFailure(_("The responsible employee cannot receive mail."))
    note = context.params.get("note") or ""
    with force_locale(staff_language(user)):
        values = _values(context)
        lines = [_("%(event)s: %(number)s %(title)s.", event=values["event"],
                   number=document.number, title=document.title)]
        if note:
            lines.append(fill_placeholders(note, values))
        lines.append(_("Sent by the rule \"%(rule)s\".", rule=context.rule_name))
        message = queue_email(
            user.email, _("%(event)s: %(number)s", event=values["event"],
                          number=document.number),
            "notice", "automation-notice", heading=values["event"], lines=lines,
            action_url=document_url(document), action_label=_("Open the document"))
    unit.commit()
    dispatch([message.id])
    return Outcome("emailed_responsible", {"address": user.email})


def _recipients(context: RunContext) -> list[tuple[str, str]]:
    """(address, language) for the rule's recipient choice."""
    document, choice = context.document, context.params.get("recipient", "address")
    if choice == "address":
        return [(context.params.get("address", ""), document.language)]
    if choice == "responsible":
        user = document.responsible
        ok = user is not None and user.active and user.email
        return [(user.email, staff_language(user))] if ok else []
    roles = {"client": ("client",), "company": ("company",),
             "signers": ("approver", "company", "client")}[choice]
    return [(party.email, document.language) for party in document.parties
            if party.role in roles and party.email]


def send_email(context: RunContext) -> Outcome:
    recipients = _recipients(context)
    if not recipients:
        raise PermanentFailure(_("Nobody to write to: the chosen recipient has no email."))
    message_ids = []
    for address, language in recipients:
        with force_locale(language):
            values = _values(context)
            body = fill_placeholders(context.params.get("body", ""), values)
            try:
                message = queue_email(
                    address, fill_placeholders(context.params.get("subject", ""), values),
                    "notice", "automation-email", heading=None,
                    lines=[part.strip() for part in re.split(r"\n\s*\n", body) if part.strip()])
            except InvalidRecipient as refused:
                raise PermanentFailure(refused.message) from refused
            db.session.flush()
            message_ids.append(message.id)
    unit.commit()
    dispatch(message_ids)
    return Outcome("emailed", {"addresses": ", ".join(address for address, _l in recipients)})


def change_responsible(context: RunContext) -> Outcome:

    document = context.document
    try:
        reassign(None, _meta(), document.id, context.params.get("user_id"))
    except DomainError as refused:
        raise PermanentFailure(_refusal_text(refused)) from refused
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    return Outcome("responsible", {"name": document.responsible.name})


def remind_signer(context: RunContext) -> Outcome:

    document = context.document
    signers = current_signers(document)
    if not signers:
        return Outcome("nobody_to_remind")
    reminded, skipped = [], []
    for party in signers:
        try:
            remind(None, _meta(), document.id, party.id)
            reminded.append(party.name)
        except TooSoon:
            skipped.append(party.name)
        except DomainError as refused:
            raise PermanentFailure(_refusal_text(refused)) from refused
    if not reminded:
        return Outcome("reminded_recently", {"names": ", ".join(skipped)})
    return Outcome("reminded", {"names": ", ".join(reminded)})


def call_webhook(context: RunContext) -> Outcome:

    payload = {"id": f"run_{context.params.get('_run_id')}", "type": f"rule.{context.trigger}",
               "rule": {"id": context.rule_id, "name": context.rule_name},
               "trigger": context.trigger,
               "event_id": context.event.id if context.event is not None else None,
               "document": document_payload(context.document)}
    body = encode(payload).encode()
    unit.commit()  # no transaction held open across the HTTP call
    try:
        status, answer = post(context.params["url"], context.params["secret"], body,
                              payload["type"], payload["id"])
    except WebhookFailed:
        raise
    return Outcome(plain=f"HTTP {status}" + (f": {answer}" if answer else ""))


def create_document(context: RunContext) -> Outcome:

    source = context.document
    actor = source.responsible
    if actor is None or not actor.active:
        raise PermanentFailure(_("The responsible employee is deactivated."))
    variables = source.variables or {}
    try:
        created = create_from_template(
            actor, _meta(), company_id=source.company_id,
            template_id=context.params.get("template_id"),
            counterparty_id=source.counterparty_id,
            client=None if source.counterparty_id else _client_of(source),
            items=variables.get("items") or (),
            vat_rate=variables.get("vat_rate", Decimal(0)),
            currency=variables.get("currency") or "RUB", language=source.language)
        if context.params.get("send", True):
            created = send(actor, _meta(), created.id)
    except DomainError as refused:
        unit.rollback()
        raise PermanentFailure(_refusal_text(refused)) from refused
    return Outcome("created_and_sent" if context.params.get("send", True) else "created",
                   {"number": created.number, "id": created.id})


def _client_of(document: Document) -> dict | None:
    client: Party | None = next(iter(document.parties_with_role("client")), None)
    if client is None:
        return None
    return {"kind": client.kind, "name": client.organization or client.name,
            "representative_name": client.name if client.organization else "",
            "representative_position": client.position, "email": client.email,
            "phone": client.phone}


def _refusal_text(refused: DomainError) -> str:
    errors = getattr(refused, "errors", None) or {}
    problems = getattr(refused, "problems", None)
    if problems:
        return " ".join(problems)
    return " ".join(str(text) for text in errors.values()) or str(refused.message)


PERFORMERS = {
    "notify_responsible": notify_responsible,
    "send_email": send_email,
    "change_responsible": change_responsible,
    "remind_signer": remind_signer,
    "webhook": call_webhook,
    "create_document": create_document,
}


def perform(context: RunContext, action: str) -> Outcome:
    return PERFORMERS[action](context)
