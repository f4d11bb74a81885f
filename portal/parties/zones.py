"""Time zones: the names a company may choose, and the zone a document's times are shown in.

A document's times (the certificate pages, the audit trail attached to the final PDF) are
printed in its company's zone, else in the portal's default (BABEL_DEFAULT_TIMEZONE), always
with the UTC offset, so a reader abroad knows the moment exactly.
"""

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app

FALLBACK_ZONE = "UTC"
# Legacy aliases ("W-SU", "Etc/GMT+3" whose sign is inverted) confuse more than they help.
_HIDDEN_PREFIXES = ("Etc/", "SystemV/", "posix/", "right/")


@cache
def zone_names() -> tuple[str, ...]:
    """The IANA zones a company may choose, sorted: "Area/City" names and UTC."""
    return tuple(sorted(
        name for name in available_timezones()
        if name == FALLBACK_ZONE or ("/" in name and not name.startswith(_HIDDEN_PREFIXES))))


def is_zone_name(name: str) -> bool:
    return name in zone_names()


def default_time_zone() -> str:
    """The portal's own zone (BABEL_DEFAULT_TIMEZONE), or UTC when it names no zone."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or FALLBACK_ZONE
    return name if _loads(name) else FALLBACK_ZONE


def company_time_zone(company) -> str:
    """The zone a company's documents show their times in (app context)."""
    chosen = getattr(company, "time_zone", "") or ""
    return chosen if chosen and _loads(chosen) else default_time_zone()


def document_time_zone(document) -> str:
    """The IANA name of the zone a document's times are printed in: its company's zone, else
    the portal's default (app context). The certificate pages and the attached audit trail
    (portal.audit.chain.trail_payload's `zone_name`) both use it."""
    return company_time_zone(document.company)


def _loads(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
