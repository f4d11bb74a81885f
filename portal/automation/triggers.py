"""What can set a rule off, and which audit events webhooks carry.

Which events rules and webhooks see is declared with the events (audit.catalogue); this
module says which trigger each rule-trigger event sets off.
"""

from flask_babel import lazy_gettext as _l

from portal.audit import catalogue as events

# trigger -> (label, the board column its rules hang on). "stuck" watches a stage it is given.
TRIGGERS = {
    "sent": (_l("Document sent"), "draft"),
    "company_signed": (_l("Signed by the company"), "company_signing"),
    "client_signed": (_l("Signed by the client"), "client_signing"),
    "all_signed": (_l("Signed by all"), "completed"),
    "declined": (_l("Declined"), "declined"),
    "stopped": (_l("Stopped"), "stopped"),
    "expired": (_l("Expired"), "expired"),
    "stuck": (_l("Stuck in a stage for N days"), None),
}
# A document can sit too long in any stage it has not left by itself.
STUCK_STAGES = ("draft", "approval", "company_signing", "client_signing")
MAX_STUCK_DAYS = 365

# The audit events that set off a trigger directly; a signature sets one off by its signer.
_EVENT_TRIGGERS = {
    events.DOCUMENT_SENT.name: "sent",
    events.DOCUMENT_COMPLETED.name: "all_signed",
    events.DOCUMENT_DECLINED.name: "declined",
    events.DOCUMENT_STOPPED.name: "stopped",
    events.DOCUMENT_EXPIRED.name: "expired",
}
_SIGNED_BY_ROLE = {"company": "company_signed", "client": "client_signed"}
_BY_SIGNER = frozenset({events.PARTY_SIGNED.name})
if {*_EVENT_TRIGGERS, *_BY_SIGNER} != {item.name for item in events.rule_trigger_types()}:
    raise RuntimeError("Every rule-trigger event of audit.catalogue needs its trigger here")

# What integrations hear about: every step of a document's life, none of the signing
# ceremony's private steps (codes, single field fills). Named as the audit trail names them.
WEBHOOK_EVENTS = {item.name: item.label for item in events.webhook_types()}
# Recorded events worth a look after commit: rules' triggers and the webhooks' events.
WATCHED_EVENTS = frozenset(WEBHOOK_EVENTS) | frozenset(
    item.name for item in events.rule_trigger_types())


def trigger_label(trigger: str) -> str:
    return str(TRIGGERS.get(trigger, (trigger, None))[0])


def stage_of_trigger(trigger: str) -> str | None:
    """The board column of an event trigger (None for "stuck": its rule names the stage)."""
    return TRIGGERS.get(trigger, (None, None))[1]


def trigger_of(event_type: str, details: dict, party_role: str | None = None) -> str | None:
    """The trigger an audit event sets off, if any.

    A signature counts as "signed by the company" or "by the client" by the signer's role;
    an approver's approval is neither.
    """
    if event_type in _BY_SIGNER:
        return _SIGNED_BY_ROLE.get(party_role or (details or {}).get("role") or "")
    return _EVENT_TRIGGERS.get(event_type)
