"""What each kind of message is, as staff read it in the outbox (the kind itself is a key)."""

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "invite": _l("Invitation to the portal"),
    "signing-invitation": _l("Signing invitation"),
    "signing-reminder": _l("Signing reminder"),
    "signing_code": _l("Signing code"),
    "batch-signing-invitation": _l("Batch signing invitation"),
    "batch-signing-reminder": _l("Batch signing reminder"),
    "signing-declined": _l("Signing declined"),
    "signing-stopped": _l("Signing stopped"),
    "document-completed": _l("Signed document"),
    "document-expired": _l("Document expired"),
    "automation-email": _l("Automation email"),
    "automation-notice": _l("Automation notice"),
}


def kind_label(kind: str) -> str:
    """The kind's name in the reader's language; an unknown one reads as a plain message."""
    label = KIND_LABELS.get(kind or "")
    return str(label) if label is not None else str(_l("Message"))
