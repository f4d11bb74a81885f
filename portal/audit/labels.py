"""What each audit event type is called, the one list every page, email and certificate reads.

A type recorded anywhere must be named here (tests/audit/test_event_labels.py compares this
list with the types the code records). An unknown type (a row older than its label, or one
written by a newer version) reads as "Other event": a raw key like `field.filled` is never
shown to people.

An automation rule's run is told by a key and its values (`Outcome`), put into words when
read, so the line on the document follows the reader's language, not the job's.
"""

from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

EVENT_LABELS = {
    # a document's life
    "document.created": _l("Created"),
    "document.updated": _l("Details changed"),
    "document.reassigned": _l("Responsible changed"),
    "document.parties_set": _l("Parties changed"),
    "document.fields_set": _l("Fields placed"),
    "document.deadline_changed": _l("Deadline changed"),
    "document.sent": _l("Sent for signing"),
    "document.stopped": _l("Stopped"),
    "document.stage_changed": _l("Next stage"),
    "document.completed": _l("Signed by everyone"),
    "document.declined": _l("Declined"),
    "document.decline_notified": _l("Parties told of the decline"),
    "document.expired": _l("Expired"),
    "document.finalized": _l("Final PDF issued"),
    "document.draft_deleted": _l("Draft deleted"),
    # its signers
    "party.invited": _l("Invitation sent"),
    "party.invitation_resent": _l("Invitation sent again"),
    "party.reminded": _l("Reminder sent"),
    "party.opened": _l("Document opened"),
    "party.consent": _l("Agreement accepted"),
    "party.code_sent": _l("Confirmation code sent"),
    "party.code_confirmed": _l("Code confirmed"),
    "party.code_failed": _l("Wrong code entered"),
    "field.filled": _l("Field filled in"),
    "party.signed": _l("Signed"),
    "party.declined": _l("Declined to sign"),
    # automation and integrations
    "automation.ran": _l("Automation rule ran"),
    "automation.rule_created": _l("Automation rule created"),
    "automation.rule_updated": _l("Automation rule changed"),
    "automation.rule_enabled": _l("Automation rule switched on"),
    "automation.rule_disabled": _l("Automation rule switched off"),
    "automation.rule_deleted": _l("Automation rule deleted"),
    "automation.rule_moved": _l("Automation rule moved"),
    "webhook.endpoint_created": _l("Webhook added"),
    "webhook.endpoint_updated": _l("Webhook changed"),
    "webhook.endpoint_deleted": _l("Webhook deleted"),
    "webhook.secret_rotated": _l("Webhook secret replaced"),
    "webhook.resent": _l("Webhook delivery sent again"),
    # settings
    "role.created": _l("Role created"),
    "role.updated": _l("Role changed"),
    "role.deleted": _l("Role deleted"),
    "role.assigned": _l("Roles assigned"),
    "seal.certificate_replaced": _l("Seal certificate replaced"),
}
OTHER_EVENT = _l("Other event")


def event_label(event_type: str) -> str:
    """The event's name in the current language; "Other event" for a type not listed."""
    return str(EVENT_LABELS.get(event_type, OTHER_EVENT))


# --- what an automation rule did ---------------------------------------------------------------

OUTCOMES = {
    "emailed": _l("Emailed %(addresses)s"),
    "emailed_responsible": _l("Emailed %(address)s"),
    "responsible": _l("Responsible: %(name)s"),
    "reminded": _l("Reminded %(names)s"),
    "reminded_recently": _l("Reminded less than an hour ago: %(names)s"),
    "nobody_to_remind": _l("Nobody to remind: the document waits for no signer."),
    "created": _l("Created %(number)s (#%(id)s)"),
    "created_and_sent": _l("Created and sent %(number)s (#%(id)s)"),
}


@dataclass(frozen=True)
class Outcome:
    """What a rule's action did: a key of OUTCOMES and its values, or a plain text that needs
    no translation (a webhook's "HTTP 200: ok")."""

    key: str = ""
    params: dict = field(default_factory=dict)
    plain: str = ""

    def stored(self) -> dict:
        return {"key": self.key, "params": self.params} if self.key else {"plain": self.plain}

    def english(self) -> str:
        """The text kept for readers of the raw rows (run log, API, old code): in English."""
        with force_locale("en"):
            return outcome_text(self.stored(), self.plain)


def outcome_text(stored, fallback: str = "") -> str:
    """A stored outcome in the current language; rows from before outcomes show `fallback`."""
    if not isinstance(stored, dict):
        return fallback or ""
    template = OUTCOMES.get(stored.get("key"))
    if template is None:
        return str(stored.get("plain") or fallback or "")
    try:
        return str(template) % (stored.get("params") or {})
    except (KeyError, TypeError, ValueError):  # a row written with other values
        return fallback or str(template)
