"""How a document's people, moments and address are shown in messages, pages and PDFs."""

from datetime import datetime

from flask import current_app
from flask_babel import format_datetime as babel_format_datetime

from portal.documents.models import Document
from portal.models_base import as_utc


def mask_contact(contact: str) -> str:
    """Enough of an address or number to recognise it, not enough to harvest it."""
    contact = contact or ""
    if "@" in contact:
        name, domain = contact.rsplit("@", 1)
        shown = name[:1] + "***" + (name[-1:] if len(name) > 2 else "")
        return f"{shown}@{domain}"
    if len(contact) <= 6:
        return "***"
    return contact[:4] + "*" * (len(contact) - 6) + contact[-2:]


def format_moment(moment: datetime | None) -> str:
    """A date and time with its time zone, in the current (forced) locale."""
    moment = as_utc(moment)
    return babel_format_datetime(moment, "long") if moment else ""


def document_url(document: Document) -> str:
    return f"{current_app.config['SIGNET_BASE_URL']}/documents/{document.id}"
