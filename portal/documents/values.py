"""Values Signet writes into fields itself: the signing date and a party's requisites.

Known before anyone signs (the requisites are a snapshot taken when the draft is prepared), so
the sender's checks can measure them against their boxes (portal/documents/services/fitting.py)
and the signing fills them in (portal/signing/filling.py) with the same text.
"""

from datetime import datetime

from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l

from portal.documents.models import Party

DATE_PATTERNS = {"ru": "dd.MM.yyyy", "pt": "dd/MM/yyyy", "en": "d MMM yyyy"}


def signing_date_text(language: str, moment: datetime) -> str:
    """The signing date as the document's language writes it (23.11.2025, 23 Nov 2025)."""
    with force_locale(language if language in DATE_PATTERNS else "en"):
        return format_date(moment, DATE_PATTERNS.get(language, DATE_PATTERNS["en"]))


REQUISITE_LABELS = (
    ("tax_id", _l("Tax ID")), ("kpp", _l("KPP")), ("registration_number", _l("Reg. no.")),
    ("address", _l("Address")), ("bank_name", _l("Bank")), ("bank_account", _l("Account")),
    ("correspondent_account", _l("Corr. account")), ("bank_code", _l("Bank code")),
)


def requisites_text(party: Party) -> str:
    """The party's requisites as lines for the page, in the document's language."""
    values = dict(party.requisites or {})
    # Who signs comes first (the block is captioned "full name and position"), then for whom.
    signer = ", ".join(part for part in (party.name, party.position) if part)
    organization = values.get("name") or party.organization
    with force_locale(party.document.language or "en"):
        lines = [signer, organization if organization != party.name else ""] + [
            f"{label}: {values[key]}" for key, label in REQUISITE_LABELS if values.get(key)
        ]
    return "\n".join(line for line in lines if line)
