"""Finding the directory entry a client already has: by email first, then by phone."""

from collections.abc import Iterable

from sqlalchemy import func, select

from portal.extensions import db
from portal.parties.models import Counterparty


def _first_ids(column, values: set[str]) -> dict[str, int]:
    """value -> the oldest entry with it, in one query for the whole set."""
    if not values:
        return {}
    rows = db.session.execute(
        select(column, func.min(Counterparty.id)).where(column.in_(values)).group_by(column))
    return {value: entry_id for value, entry_id in rows}


def directory_ids(emails: Iterable[str], phones: Iterable[str]) -> tuple[dict, dict]:
    """(email -> entry id, phone -> entry id) for stored (normalised) contacts; two queries."""
    return (_first_ids(Counterparty.email, {e for e in emails if e}),
            _first_ids(Counterparty.phone, {p for p in phones if p}))


def pick_entry(email: str, phone: str, by_email: dict, by_phone: dict) -> int | None:
    """The entry a client matches: the email decides before the phone."""
    return by_email.get(email) if email in by_email else by_phone.get(phone)


def directory_entry_with(email: str, phone: str) -> int | None:
    """The directory entry with this email, else with this phone, else None."""
    by_email, by_phone = directory_ids([email], [phone])
    return pick_entry(email, phone, by_email, by_phone)
