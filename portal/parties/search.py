"""Search over counterparties that treats Cyrillic and Latin case alike on every database."""

from portal.parties.models import Counterparty

SEARCHED_ATTRIBUTES = (
    "name",
    "representative_name",
    "email",
    "phone",
    "tax_id",
    "registration_number",
)


def fold(text: str) -> str:
    return " ".join((text or "").casefold().split())


def search_text_for(counterparty: Counterparty) -> str:
    """The case-folded text that the directory search matches against."""
    return fold(" ".join(getattr(counterparty, name) or "" for name in SEARCHED_ATTRIBUTES))


def like_pattern(query: str) -> str:
    """A LIKE pattern for the folded query, with wildcards in the query taken literally."""
    escaped = fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
