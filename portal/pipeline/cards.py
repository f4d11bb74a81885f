"""What a card says about a document: whom it waits for, how long, how close the deadline is."""

from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.documents.models import OPEN_STAGES, Document, Party
from portal.models_base import utcnow

DEADLINE_WARNING = timedelta(days=1)


def current_signers(document: Document) -> list[Party]:
    """The parties whose signature the document waits for right now (invited, not yet signed)."""
    if document.stage not in OPEN_STAGES:
        return []
    return [party for party in document.parties
            if party.signs and party.status in ("sent", "opened") and party.token_hash]


def counterparty_name(document: Document) -> str:
    if document.counterparty is not None:
        return document.counterparty.name
    client = next(iter(document.parties_with_role("client")), None)
    return (client.organization or client.name) if client is not None else ""


def stage_since(document: Document) -> datetime:
    return (document.stage_changed_at or document.created_at)


def days_in_stage(document: Document, now: datetime | None = None) -> int:
    return max(((now or utcnow()) - stage_since(document)).days, 0)


def is_stuck(document: Document, now: datetime | None = None) -> bool:
    """An open document that has waited past SIGNET_STUCK_DAYS in its stage."""
    limit = current_app.config.get("SIGNET_STUCK_DAYS", 3)
    return document.stage in OPEN_STAGES and days_in_stage(document, now) >= limit


def deadline_close(document: Document, now: datetime | None = None) -> bool:
    """Less than a day left to sign (or already past) while the document is still open."""
    deadline = document.deadline_at
    return (document.stage in OPEN_STAGES and deadline is not None
            and deadline - (now or utcnow()) < DEADLINE_WARNING)


def card_context() -> dict:
    """Helpers for the card templates.

    A board shows ~140 cards: their fixed labels are translated once per page, not per card
    (a translation lookup costs as much as the rest of a card's facts).
    """
    stuck_days = current_app.config.get("SIGNET_STUCK_DAYS", 3)
    labels = {"responsible": _("Responsible"), "waits_for": _("Waits for"),
              "in_stage": _("In this stage"), "deadline": _("Deadline"),
              "stuck": _("Longer than %(days)d days", days=stuck_days)}
    return {"current_signers": current_signers, "counterparty_name": counterparty_name,
            "days_in_stage": days_in_stage, "is_stuck": is_stuck,
            "deadline_close": deadline_close, "card_labels": labels,
            "days_label": cache(lambda days: ngettext("%(num)d day", "%(num)d days", days)),
            "stuck_days": stuck_days}
