"""Fields on the pages: validation, replace-all, and the editor's one-at-a-time saves.

Positions are fractions of the displayed page (after rotation and crop box), top-left origin.
"""

import math

from flask_babel import gettext as _

from portal import unit
from portal.audit.catalogue import DOCUMENT_FIELDS_SET
from portal.documents.errors import DocumentRefused
from portal.documents.models import FIELD_TYPES, Document, Field, Party
from portal.documents.services.common import editable_draft, tidy
from portal.documents.services.parties import may_have_stamp, party_label
from portal.documents.trail import audit
from portal.errors import DomainError
from portal.extensions import db

# A field smaller than 1% of the page could not hold a mark anyone can see or tap.
MIN_SIZE = 0.01
LABEL_MAX = 200
# Filled by the portal itself, so they need no party.
COMMON_TYPES = ("date", "number")
# Tolerance for the rounding of fractions sent by browsers.
EDGE = 1e-6
FIELD_KEYS = ("party_id", "type", "page", "x", "y", "w", "h", "required", "label")


def field_values(field: Field) -> dict:
    """A field as JSON-ready values (the editor and the API use this shape)."""
    return {"id": field.id, "party_id": field.party_id, "type": field.type, "page": field.page,
            "x": field.x, "y": field.y, "w": field.w, "h": field.h,
            "required": field.required, "label": field.label}


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _page(value, page_count: int, put) -> int:
    try:
        page = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: infinity
        page = 0
    if isinstance(value, bool) or not 1 <= page <= page_count:
        put("page", _("Choose a page from 1 to %(count)d.", count=page_count))
    return page


def _geometry(data: dict, put) -> dict:
    box = {key: _number(data.get(key)) for key in ("x", "y", "w", "h")}
    if any(value is None for value in box.values()):
        put("position", _("The field's position and size must be numbers."))
        return box
    if box["w"] < MIN_SIZE or box["h"] < MIN_SIZE:
        put("size", _("The field is too small to hold anything. Make it bigger."))
    elif (box["x"] < -EDGE or box["y"] < -EDGE or box["x"] + box["w"] > 1 + EDGE
          or box["y"] + box["h"] > 1 + EDGE):
        put("position", _("The field must lie inside the page. Move it back onto the page."))
    # Keep the stored box exactly inside [0, 1] despite the tolerance.
    box["x"] = min(max(box["x"], 0.0), 1.0)
    box["y"] = min(max(box["y"], 0.0), 1.0)
    box["w"] = min(box["w"], 1.0 - box["x"]) if box["w"] >= MIN_SIZE else box["w"]
    box["h"] = min(box["h"], 1.0 - box["y"]) if box["h"] >= MIN_SIZE else box["h"]
    return {key: round(value, 6) for key, value in box.items()}


def _party(data: dict, parties: dict[int, Party], kind: str, put) -> int | None:
    value = data.get("party_id")
    if value in (None, ""):
        if kind in FIELD_TYPES and kind not in COMMON_TYPES:
            put("party_id", _("Choose whose field this is."))
        return None
    try:
        party = parties.get(int(value))
    except (TypeError, ValueError, OverflowError):
        party = None
    if party is None:
        put("party_id", _("This party is not on the document."))
        return None
    if not party.signs:
        put("party_id", _("%(name)s only receives a copy and fills nothing.",
                          name=party_label(party)))
    elif kind == "stamp" and not may_have_stamp(party):
        put("type", _("%(name)s cannot be asked for a stamp: only our company and a company "
                      "client have one.", name=party_label(party)))
    return party.id


def _label(value, put) -> str:
    if not isinstance(value, str | None):
        put("label", _("The label must be text."))
        return ""
    local: dict = {}
    label = tidy(value, LABEL_MAX, "label", local)
    for name, message in local.items():
        put(name, message)
    return label


def _required(value, kind, put) -> bool:
    if value is None:
        return kind != "checkbox"  # a tick box is optional unless said otherwise
    if not isinstance(value, bool | int):  # "false" would otherwise read as true
        put("required", _("Say whether the field is required with true or false."))
        return True
    return bool(value)


def clean_field(data: dict, document: Document, errors: dict, prefix: str = "") -> dict:
    """One field's values in stored form; problems go to errors[prefix + name]."""
    def put(name, message):
        errors.setdefault(prefix + name, message)

    if not isinstance(data, dict):
        put("field", _("Send each field as an object."))
        return {}
    kind = data.get("type")
    if kind not in FIELD_TYPES:
        put("type", _("Choose a field type."))
    parties = {party.id: party for party in document.parties}
    return {
        "type": kind,
        "party_id": _party(data, parties, kind, put),
        "page": _page(data.get("page"), document.page_count, put),
        **_geometry(data, put),
        "required": _required(data.get("required"), kind, put),
        "label": _label(data.get("label"), put),
    }


def _refuse(errors: dict, field: Field | None = None):
    unit.rollback()
    refused = DocumentRefused(errors)
    refused.field = field_values(field) if field is not None else None
    raise refused


def set_fields(actor, meta, document_id: int, fields: list[dict]) -> Document:
    """Replace every field of a draft at once (all valid, or nothing changes)."""
    document = editable_draft(document_id)
    if not isinstance(fields, list | tuple):
        _refuse({"fields": _("Send the fields as a list.")})
    errors: dict = {}
    cleaned = [clean_field(data, document, errors, f"{index}.")
               for index, data in enumerate(fields)]
    if errors:
        _refuse(errors)
    for field in list(document.fields):
        document.fields.remove(field)
        db.session.delete(field)
    for values in cleaned:
        document.fields.append(Field(**values))
    audit(DOCUMENT_FIELDS_SET, document, actor, meta, op="replace", count=len(cleaned))
    unit.commit()
    return document


def add_field(actor, meta, document_id: int, data: dict) -> Field:
    """Place one field (the editor's click on a page)."""
    document = editable_draft(document_id)
    errors: dict = {}
    values = clean_field(data, document, errors)
    if errors:
        _refuse(errors)
    field = Field(**values)
    document.fields.append(field)
    db.session.flush()
    audit(DOCUMENT_FIELDS_SET, document, actor, meta, op="add", field_id=field.id,
          type=field.type, page=field.page, count=len(document.fields))
    unit.commit()
    return field


def _field_of(document: Document, field_id) -> Field:
    field = next((f for f in document.fields if f.id == field_id), None)
    if field is None:
        unit.rollback()
        raise DomainError(_("This field is no longer on the document. Reload the page."), 404)
    return field


def update_field(actor, meta, document_id: int, field_id: int, changes: dict) -> Field:
    """Move, resize or relabel one field; a refused change leaves it where it was."""
    document = editable_draft(document_id)
    field = _field_of(document, field_id)
    if not isinstance(changes, dict):
        _refuse({"field": _("Send the changes as an object.")}, field)
    merged = {**field_values(field),
              **{key: value for key, value in changes.items() if key in FIELD_KEYS}}
    errors: dict = {}
    values = clean_field(merged, document, errors)
    if errors:
        _refuse(errors, field)
    changed = sorted(key for key, value in values.items() if getattr(field, key) != value)
    for key in changed:
        setattr(field, key, values[key])
    if changed:
        audit(DOCUMENT_FIELDS_SET, document, actor, meta, op="update", field_id=field.id,
              changed=changed, count=len(document.fields))
    unit.commit()
    return field


def delete_field(actor, meta, document_id: int, field_id: int) -> None:
    """Take one field off the page."""
    document = editable_draft(document_id)
    field = _field_of(document, field_id)
    document.fields.remove(field)
    db.session.delete(field)
    audit(DOCUMENT_FIELDS_SET, document, actor, meta, op="delete", field_id=field_id,
          type=field.type, count=len(document.fields))
    unit.commit()


def layout_of(document: Document) -> list[dict]:
    """The document's fields as a template layout: by role instead of by party.

    Common fields (no party) are left out: a layout entry always names a role.
    """
    roles = {party.id: party.role for party in document.parties}
    return [{"role": roles[field.party_id], "type": field.type, "page": field.page,
             "x": field.x, "y": field.y, "w": field.w, "h": field.h,
             "required": field.required, "label": field.label}
            for field in document.fields if field.party_id in roles]


def fields_from_layout(document: Document, layout: list[dict]) -> tuple[list[Field], int]:
    """Fields for a new document from a template's resolved layout; (fields, skipped)."""
    first_by_role: dict[str, Party] = {}
    for party in document.parties:
        first_by_role.setdefault(party.role, party)
    fields, skipped = [], 0
    for item in layout or []:
        role = item.get("role") if isinstance(item, dict) else None
        party = first_by_role.get(role) if role else None
        if role and party is None:
            skipped += 1  # e.g. an approver's field when this document has no approver
            continue
        errors: dict = {}
        values = clean_field({**item, "party_id": party.id if party else None}, document, errors)
        if errors:
            skipped += 1
            continue
        fields.append(Field(**values))
    return fields, skipped
