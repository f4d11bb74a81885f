"""Names of stages, roles, field types and audit events as people read them."""

from flask_babel import lazy_gettext as _l

STAGE_LABELS = {
    "draft": _l("Draft"),
    "approval": _l("Approval"),
    "company_signing": _l("Company signing"),
    "client_signing": _l("Client signing"),
    "completed": _l("Completed"),
    "declined": _l("Declined"),
    "stopped": _l("Stopped"),
    "expired": _l("Expired"),
}
# Badge classes of signet.css: open stages "info", done "ok", failed ends "off".
STAGE_BADGES = {
    "draft": "", "approval": "info", "company_signing": "info", "client_signing": "info",
    "completed": "ok", "declined": "off", "stopped": "off", "expired": "warn",
}
ROLE_LABELS = {
    "approver": _l("Approver"),
    "company": _l("Our signer"),
    "client": _l("Client"),
    "cc": _l("Copy recipient"),
}
PARTY_STATUS_LABELS = {
    "waiting": _l("waiting"),
    "sent": _l("invited"),
    "opened": _l("opened"),
    "signed": _l("signed"),
    "declined": _l("declined"),
}
FIELD_TYPE_LABELS = {
    "signature": _l("Signature"),
    "initials": _l("Initials"),
    "stamp": _l("Stamp"),
    "date": _l("Date"),
    "text": _l("Text"),
    "number": _l("Number"),
    "requisites": _l("Requisites"),
    "checkbox": _l("Checkbox"),
}
EVENT_LABELS = {
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
    "automation.ran": _l("Automation rule ran"),
    "party.invited": _l("Invitation sent"),
    "party.invitation_resent": _l("Invitation sent again"),
    "party.reminded": _l("Reminder sent"),
    "party.opened": _l("Document opened"),
    "party.consent": _l("Agreement accepted"),
    "party.code_sent": _l("Confirmation code sent"),
    "party.code_confirmed": _l("Code confirmed"),
    "party.code_failed": _l("Wrong code entered"),
    "party.signed": _l("Signed"),
    "party.declined": _l("Declined to sign"),
}
CHANNEL_LABELS = {"email": _l("Email"), "sms": _l("SMS")}


def template_context() -> dict:
    """The label tables, for every template (the pipeline and signing pages use them too)."""
    return {"stage_labels": STAGE_LABELS, "stage_badges": STAGE_BADGES,
            "role_labels": ROLE_LABELS, "party_status_labels": PARTY_STATUS_LABELS,
            "field_type_labels": FIELD_TYPE_LABELS, "event_labels": EVENT_LABELS,
            "channel_labels": CHANNEL_LABELS}
