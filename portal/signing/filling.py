"""A party's fields: which are filled or missing, and the values typed, drawn or uploaded."""

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from portal.documents.fitting import value_fits
from portal.documents.models import Field, Party
from portal.documents.values import (  # noqa: F401 (others import them from here)
    DATE_PATTERNS,
    REQUISITE_LABELS,
    requisites_text,
    signing_date_text,
)
from portal.signing import images
from portal.signing.access import StepRefused
from portal.storage import BlobMissing, read, store

IMAGE_TYPES = ("signature", "initials", "stamp")
# Filled by Signet when the party signs; shown read-only.
AUTO_TYPES = ("date", "requisites")
TEXT_MAX = 500
NUMBER_MAX = 40
SIGNATURE_METHODS = ("draw", "type", "upload")
STAMP_METHODS = ("upload", "company_stamp")
NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


@dataclass
class FieldInput:
    """What the field's form sent; the view fills it, the service checks it."""

    value: str = ""
    method: str = ""
    drawing: str = ""
    typed: str = ""
    upload: object = None  # a file-like (werkzeug FileStorage) or None


def fields_of(party: Party) -> list[Field]:
    """The party's own fields in reading order (page, top to bottom, left to right)."""
    return sorted((field for field in party.document.fields if field.party_id == party.id),
                  key=lambda field: (field.page, field.y, field.x, field.id))


def is_filled(field: Field) -> bool:
    if field.type in AUTO_TYPES:
        return True
    if field.type in IMAGE_TYPES:
        return field.value_sha256 is not None
    if field.type == "checkbox":
        return field.value == "yes" or (not field.required and field.filled_at is not None)
    return bool(field.value)


def missing_required(party: Party) -> list[Field]:
    return [field for field in fields_of(party) if field.required and not is_filled(field)]


def next_missing(party: Party, after: Field | None = None) -> Field | None:
    """The next required field still empty, after `after` in reading order, else the first."""
    missing = missing_required(party)
    if after is not None:
        order = [field.id for field in fields_of(party)]
        position = order.index(after.id) if after.id in order else -1
        later = [field for field in missing if order.index(field.id) > position]
        if later:
            return later[0]
    return missing[0] if missing else None


# --- values filled automatically ------------------------------------------------------------

def auto_value(field: Field, party: Party, moment: datetime) -> str:
    if field.type == "date":
        return signing_date_text(party.document.language, moment)
    return requisites_text(party)


# --- values a party enters ------------------------------------------------------------------

def _text(data: FieldInput, field: Field) -> str:
    text = " ".join(str(data.value or "").split())
    if len(text) > TEXT_MAX:
        raise StepRefused(_("Too long: at most %(max)d characters, this has %(length)d.",
                            max=TEXT_MAX, length=len(text)))
    if field.required and not text:
        raise StepRefused(_("Fill in this field."))
    _refuse_unless_fits(field, text)
    return text


def _refuse_unless_fits(field: Field, text: str) -> None:
    # What does not fit its box at a readable size would be printed too small to read.
    if text and not value_fits(field, text):
        raise StepRefused(_("Too long for its box: shorten it."))


def _number(data: FieldInput, field: Field) -> str:
    text = "".join(str(data.value or "").split())
    if not text:
        if field.required:
            raise StepRefused(_("Enter a number."))
        return ""
    if len(text) > NUMBER_MAX or not NUMBER.match(text):
        raise StepRefused(_("Enter a number, e.g. 1250 or 99,50."))
    try:
        Decimal(text.replace(",", "."))
    except InvalidOperation as error:
        raise StepRefused(_("Enter a number, e.g. 1250 or 99,50.")) from error
    _refuse_unless_fits(field, text)
    return text


def _checkbox(data: FieldInput, field: Field) -> str:
    checked = str(data.value or "") in ("yes", "y", "on", "1", "true")
    if field.required and not checked:
        raise StepRefused(_("Tick the box to continue."))
    return "yes" if checked else ""


def signature_image(data: FieldInput) -> tuple[bytes, str, str]:
    """A drawn, typed or uploaded signature, cleaned: (image, content type, method)."""
    method = data.method if data.method in SIGNATURE_METHODS else "draw"
    if method == "draw":
        return images.drawn_image(data.drawing), "image/png", method
    if method == "type":
        return images.typed_image(data.typed), "image/png", method
    image, content_type = images.clean_image(images.read_limited(data.upload))
    return image, content_type, method


def stamp_image(data: FieldInput, company_stamp: str | None) -> tuple[bytes, str, str]:
    """An uploaded stamp, or the company's own on file (`company_stamp`, its blob's sha256,
    offered to our own signer only), cleaned: (image, content type, method)."""
    if data.method == "company_stamp":
        sha256 = company_stamp
        try:
            stored = read(sha256) if sha256 else None
        except BlobMissing:
            stored = None
        if stored is None:
            raise StepRefused(_("The company has no stamp on file. Upload the stamp image."))
        image, content_type = images.clean_image(stored)
        return image, content_type, "company_stamp"
    image, content_type = images.clean_image(images.read_limited(data.upload))
    return image, content_type, "upload"


def company_stamp_of(party: Party) -> str | None:
    """Our company's stamp on file, offered to our own signer only."""
    if party.role != "company":
        return None
    return party.document.company.stamp_sha256


@dataclass(frozen=True)
class StoredImage:
    """A signature, initials or stamp image checked, cleaned and stored once; then put in as
    many fields as it is for (a batch ceremony puts one signature in every document)."""

    sha256: str
    method: str


def stored_image(field_type: str, data: FieldInput, party: Party) -> StoredImage:
    """Check and clean the image `data` gives for a field of `field_type`, and store it."""
    if field_type == "stamp":
        image, content_type, method = stamp_image(data, company_stamp_of(party))
    else:
        image, content_type, method = signature_image(data)
    return StoredImage(store(image, content_type).sha256, method)


def put_image(field: Field, image: StoredImage, moment: datetime) -> str:
    """The stored image becomes the field's value; returns the method it was made with."""
    field.value_sha256 = image.sha256
    field.value = ""
    field.filled_at = moment
    return image.method


def apply_input(field: Field, party: Party, data: FieldInput, moment: datetime) -> str:
    """Check `data` for the field's type and store it on the field; returns the method used."""
    if field.type in AUTO_TYPES:
        raise StepRefused(_("This field is filled in by Signet when you sign."))
    method = ""
    if field.type in IMAGE_TYPES:
        method = put_image(field, stored_image(field.type, data, party), moment)
    elif field.type == "number":
        field.value = _number(data, field)
    elif field.type == "checkbox":
        field.value = _checkbox(data, field)
    else:
        field.value = _text(data, field)
    field.filled_at = moment if (field.value or field.value_sha256 or field.type == "checkbox") \
        else None
    return method
