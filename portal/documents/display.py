"""How a document's people, moments and address are shown in messages, pages and PDFs."""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format
from flask import current_app
from flask_babel import format_datetime as babel_format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _

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


def format_zoned_moment(moment: datetime | None, zone_name: str) -> str:
    """The moment in the IANA zone `zone_name`, with its UTC offset and the zone's name, in the
    current (forced) locale: "December 3, 2026, 10:15:04 PM (UTC+03:00, Europe/Moscow)"."""
    moment = as_utc(moment)
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone_name))
    locale = get_locale()
    # The date with the month's name, the time to the second, joined as the locale joins them.
    shown = (get_datetime_format("medium", locale=locale).replace("'", "")
             .replace("{1}", format_date(local, "long", locale=locale))
             .replace("{0}", format_time(local, "medium", locale=locale)))
    return _("%(time)s (UTC%(offset)s, %(zone)s)", time=shown, offset=utc_offset(local),
             zone=zone_name)


def utc_offset(local: datetime) -> str:
    """"+03:00", "-03:30", "+00:00": the offset of an aware moment from UTC."""
    minutes = int(local.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def document_url(document: Document) -> str:
    return f"{current_app.config['SIGNET_BASE_URL']}/documents/{document.id}"
