"""Do the fields' values fit their boxes? Asked before sending and when a signer types.

The answer is portal/pdfs/fitting.py's text_fits(), the function the burn-in sets text with,
so a box that passes here is drawn at a readable size with every line in the final PDF.
Values known while the draft is prepared: the requisites (a snapshot of the party's), the
signing date (its widest form) and values already stored; text and numbers a signer types
are checked when typed (portal/signing/filling.py).
"""

import math
from datetime import date
from functools import lru_cache

from flask_babel import gettext as _

from portal.documents.labels import FIELD_TYPE_LABELS
from portal.documents.models import Document, Field
from portal.documents.values import requisites_text, signing_date_text
from portal.pdfs import PdfRejected, fitting, stored_page_sizes
from portal.storage import BlobMissing

TEXT_TYPES = ("text", "number", "date", "requisites")  # drawn as text by the burn-in
POINTS_PER_MM = 72 / 25.4


@lru_cache(maxsize=256)
def _page_sizes(sha256: str) -> tuple[tuple[float, float], ...]:

    return stored_page_sizes(sha256)  # a stored file never changes: cached by its digest


def page_sizes(document: Document) -> tuple[tuple[float, float], ...]:
    """Each displayed page's (width, height) in points; () when the PDF cannot be read."""

    if not document.source_sha256:
        return ()
    try:
        return _page_sizes(document.source_sha256)
    except (BlobMissing, PdfRejected):
        return ()  # the send step names a missing PDF on its own


def box_points(field: Field, sizes) -> tuple[float, float] | None:
    """The field's box (width, height) in points, None if its page is unknown."""
    if not 1 <= field.page <= len(sizes):
        return None
    page_width, page_height = sizes[field.page - 1]
    return field.w * page_width, field.h * page_height


def widest_date(language: str) -> str:
    """The signing date as written on its widest day of the year (a date field's value)."""
    fitting.register_font()
    texts = (signing_date_text(language, date(2030, month, 28)) for month in range(1, 13))
    return max(texts, key=lambda text: fitting.width_of(text, 10))


def known_value(field: Field) -> str:
    """What will be written in the field as far as it is known now; "" if nobody knows yet."""
    if field.type not in TEXT_TYPES:
        return ""
    if (field.value or "").strip():
        return field.value
    if field.type == "requisites" and field.party is not None:
        return requisites_text(field.party)
    if field.type == "date":
        return widest_date(field.document.language)
    return ""


def value_fits(field: Field, text: str) -> bool:
    """Whether `text` fits the field's box at a readable size (True if the box is unknown)."""
    box = box_points(field, page_sizes(field.document))
    return box is None or fitting.text_fits(text, *box)


def overflow_of(field: Field, sizes) -> dict | None:
    """Why the field's known value does not fit its box, or None if it fits (or is unknown).

    {"message": for the sender, "height": the box height it needs at its width, a fraction
    of the page (None if no height is enough: the box is too narrow)}.
    """
    text = known_value(field)
    box = box_points(field, sizes)
    if not text.strip() or box is None or fitting.text_fits(text, *box):
        return None
    width, _height = box
    page_height = sizes[field.page - 1][1]
    needed = fitting.smallest_height(text, width)
    label = field.label or str(FIELD_TYPE_LABELS.get(field.type, field.type))
    if fitting.text_fits(text, width, needed + 1):
        millimetres = math.ceil((needed + 1) / POINTS_PER_MM)
        message = _("“%(label)s” does not fit its box even in small print: make the box at "
                    "least %(mm)d mm tall.", label=label, mm=millimetres)
        return {"message": message, "height": min(1.0, (needed + 1) / page_height)}
    return {"message": _("“%(label)s” does not fit its box even in small print: make the box "
                         "wider.", label=label), "height": None}


def overflows(document: Document) -> dict[int, dict]:
    """Each field whose known value does not fit its box, by field id (see overflow_of)."""
    sizes = page_sizes(document)
    found = {}
    for field in document.fields:
        problem = overflow_of(field, sizes)
        if problem is not None:
            found[field.id] = problem
    return found
