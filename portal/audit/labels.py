"""What each audit event type is called, read from the one list of event types
(portal/audit/catalogue.py), for every page, email and certificate.

An unknown type (a row older than its declaration, or one written by a newer version) reads
as "Other event": a raw key like `field.filled` is never shown to people.

An automation rule's run is told by a key and its values (`Outcome`), put into words when
read, so the line on the document follows the reader's language, not the job's.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.audit.catalogue import all_types

EVENT_LABELS = {declared.name: declared.label for declared in all_types()}
OTHER_EVENT = _l("Other event")


def event_label(event_type: str) -> str:
    """The event's name in the current language; "Other event" for a type not listed."""
    return str(EVENT_LABELS.get(event_type, OTHER_EVENT))


def presigned_note(details: dict) -> str:
    """A pre-signed party's event in words: when our signer signed, and for which link."""
    try:
        moment = format_datetime(datetime.fromisoformat(str(details.get("presigned_at"))),
                                 "long")
    except ValueError:
        moment = "—"
    return _("pre-signed on %(date)s for the link “%(title)s”", date=moment,
             title=str(details.get("title") or ""))


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
