"""Names of stages, roles and field types as people read them (audit events: audit.labels)."""

from flask_babel import lazy_gettext as _l

from portal.audit.labels import EVENT_LABELS, event_label, outcome_text, presigned_note

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
CHANNEL_LABELS = {"email": _l("Email"), "sms": _l("SMS")}


def template_context() -> dict:
    """The label tables, for every template (the pipeline and signing pages use them too)."""
    return {"stage_labels": STAGE_LABELS, "stage_badges": STAGE_BADGES,
            "role_labels": ROLE_LABELS, "party_status_labels": PARTY_STATUS_LABELS,
            "field_type_labels": FIELD_TYPE_LABELS, "event_labels": EVENT_LABELS,
            "event_label": event_label, "automation_outcome": outcome_text,
            "channel_labels": CHANNEL_LABELS, "presigned_note": presigned_note}
