"""What the signing templates show: read-only views of a party's ceremony (no commits here)."""

from dataclasses import dataclass

from flask import current_app

from portal.documents.display import mask_contact
from portal.documents.models import Field, Party
from portal.documents.services.parties import party_label
from portal.models_base import utcnow
from portal.pdfs import PdfRejected, stored_page_sizes
from portal.signing import codes
from portal.signing.access import earlier_unsigned, step_of
from portal.signing.agreement import agreement_paragraphs
from portal.signing.filling import (
    AUTO_TYPES,
    auto_value,
    company_stamp_of,
    fields_of,
    is_filled,
    missing_required,
    next_missing,
)
from portal.signing.images import initials_of
from portal.signing.preview import page_versions
from portal.storage import BlobMissing

PAGE_WIDTH = 1000  # the preview width the page asks for; marks use the same scale
DEFAULT_PAGE_HEIGHT = 1414  # A4 at 1000 px wide, when the geometry cannot be read
# State pages answer with a status a script can tell apart; people read the text.
STATE_STATUS = {"signed": 200, "waiting": 409, "declined": 410, "completed": 410,
                "stopped": 410, "expired": 410}


@dataclass(frozen=True)
class PageView:
    number: int
    width: int
    height: int
    marks: list
    version: str = ""  # of what the picture draws: in its URL, so a save fetches the new one


@dataclass(frozen=True)
class Mark:
    field_id: int
    x: float
    y: float
    w: float
    h: float
    filled: bool


def page_views(party: Party, include_own: bool) -> list[PageView]:
    """Each page's preview size and this party's field boxes on it (in preview pixels).

    `include_own`: whether the pictures draw the party's own values (the browser holds the
    party's signing session); the version in each picture's URL names what it shows.
    """

    document = party.document
    try:
        sizes = [(PAGE_WIDTH, max(1, round(PAGE_WIDTH * height / width)))
                 for width, height in stored_page_sizes(document.source_sha256 or "")]
    except (BlobMissing, PdfRejected):
        current_app.logger.warning("No page geometry for document %s", document.id)
        sizes = []
    if len(sizes) != document.page_count:
        sizes = [(PAGE_WIDTH, DEFAULT_PAGE_HEIGHT)] * document.page_count
    own = fields_of(party)
    versions = page_versions(party, include_own=include_own)
    views = []
    for number, (width, height) in enumerate(sizes, 1):
        marks = [Mark(field.id, round(field.x * width, 1), round(field.y * height, 1),
                      round(field.w * width, 1), round(field.h * height, 1), is_filled(field))
                 for field in own if field.page == number]
        views.append(PageView(number, width, height, marks, versions.get(number, "")))
    return views


def code_status(party: Party) -> dict:
    """What the code step says: where the code went, whether it is still usable."""
    now = utcnow()
    expires = party.code_expires_at
    return {
        "channel": party.channel,
        "masked_contact": mask_contact(party.contact),
        "sent": party.code_sent_at is not None,
        "pending": party.code_hash is not None,
        # Confirmed before, but not in this browser's session: say why a new code is needed.
        "confirmed_elsewhere": party.code_confirmed_at is not None,
        "expired": party.code_hash is not None and expires is not None and expires <= now,
        "locked": party.code_hash is not None
        and (party.code_attempts or 0) >= codes.MAX_ATTEMPTS,
        "minutes": int(codes.CODE_LIFETIME.total_seconds() // 60),
    }


def field_view(party: Party, field: Field) -> dict:
    """Everything one field's fragment needs."""
    following = next_missing(party, after=field)
    return {
        "field": field,
        "filled": is_filled(field) and field.type not in AUTO_TYPES,
        "auto": field.type in AUTO_TYPES,
        "auto_value": auto_value(field, party, utcnow()) if field.type in AUTO_TYPES else "",
        "next_field_id": following.id if following is not None else None,
        "typed_default": initials_of(party.name) if field.type == "initials" else party.name,
        "company_stamp": bool(company_stamp_of(party)),
    }


def ceremony_context(party: Party, token: str, *, in_ceremony: bool, **extra) -> dict:
    """The whole page's context: document, step, fields, pages, agreement, code status.

    `in_ceremony`: the browser holds the signing session its code confirmation opened.
    """
    document = party.document
    missing = missing_required(party)
    context = {
        "token": token,
        "party": party,
        "party_label": party_label(party),
        "document": document,
        "company": document.company,
        "step": step_of(party, in_ceremony),
        "in_ceremony": in_ceremony,
        "fields": [field_view(party, field) for field in fields_of(party)],
        "missing_count": len(missing),
        "first_missing_id": missing[0].id if missing else None,
        "pages": page_views(party, include_own=in_ceremony),
        "agreement": agreement_paragraphs(party),
        "code": code_status(party),
        "errors": {},
        "editing": None,
    }
    context.update(extra)
    return context


def state_context(party: Party, state: str) -> dict:
    """For the notice pages: who must sign first, when this party signed or declined."""
    return {
        "party": party,
        "party_label": party_label(party),
        "document": party.document,
        "company": party.document.company,
        "state": state,
        "earlier": [party_label(other) for other in earlier_unsigned(party)],
    }
