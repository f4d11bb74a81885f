"""Default field layouts: fixed boxes or boxes placed at a template's anchors."""

import math

from flask_babel import gettext as _

from portal.doctemplates.pdf import ANCHOR_NAME, AnchorBox
from portal.documents.models import FIELD_TYPES, PARTY_ROLES
from portal.errors import DomainError

MIN_SIZE = 0.005  # a box smaller than this cannot be seen or tapped
MAX_ENTRIES = 200
MAX_LABEL = 200


class LayoutRefused(DomainError):
    """A layout entry is malformed; the message names the entry."""

    status = 422


def _fraction(entry: dict, key: str, low: float = 0.0, high: float = 1.0) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(key)
    if not low <= value <= high:
        raise ValueError(key)
    return float(value)


def _common(entry: dict) -> dict:
    if entry.get("role") not in PARTY_ROLES:
        raise ValueError("role")
    if entry.get("type") not in FIELD_TYPES:
        raise ValueError("type")
    label = entry.get("label") or ""
    if not isinstance(label, str) or len(label) > MAX_LABEL:
        raise ValueError("label")
    return {"role": entry["role"], "type": entry["type"],
            "required": bool(entry.get("required", True)), "label": label.strip()}


def _clean_entry(entry) -> dict:
    if not isinstance(entry, dict):
        raise ValueError("entry")
    cleaned = _common(entry)
    if entry.get("anchor") is not None:
        anchor = entry["anchor"]
        if not isinstance(anchor, str) or not ANCHOR_NAME.match(anchor):
            raise ValueError("anchor")
        cleaned["anchor"] = anchor
        for key in ("w", "h"):
            if entry.get(key) is not None:
                cleaned[key] = _fraction(entry, key)
        for key in ("dx", "dy"):
            cleaned[key] = _fraction(entry, key, -1.0, 1.0) if entry.get(key) is not None else 0.0
        return cleaned
    page = entry.get("page")
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError("page")
    cleaned["page"] = page
    for key in ("x", "y", "w", "h"):
        cleaned[key] = _fraction(entry, key)
    if cleaned["w"] < MIN_SIZE or cleaned["h"] < MIN_SIZE:
        raise ValueError("w" if cleaned["w"] < MIN_SIZE else "h")
    return cleaned


def clean_layout(layout) -> list[dict]:
    """Validated entries (roles, types, fractions 0..1, pages >= 1) or LayoutRefused."""
    if not isinstance(layout, list | tuple):
        raise LayoutRefused(_("A field layout is a list of fields."))
    if len(layout) > MAX_ENTRIES:
        raise LayoutRefused(_("A layout may have at most %(count)s fields.", count=MAX_ENTRIES))
    cleaned = []
    for position, entry in enumerate(layout, start=1):
        try:
            cleaned.append(_clean_entry(entry))
        except ValueError as problem:
            raise LayoutRefused(_("Field %(position)s of the layout has an invalid “%(key)s”.",
                                  position=position, key=str(problem))) from None
    return cleaned


def _box(anchor) -> AnchorBox | None:
    if isinstance(anchor, AnchorBox):
        return anchor
    if isinstance(anchor, dict):
        try:
            return AnchorBox(int(anchor["page"]), float(anchor["x"]), float(anchor["y"]),
                             float(anchor["w"]), float(anchor["h"]))
        except (KeyError, TypeError, ValueError):
            return None
    return None


def _clamped(page: int, x: float, y: float, w: float, h: float) -> dict:
    w = min(max(w, MIN_SIZE), 1.0)
    h = min(max(h, MIN_SIZE), 1.0)
    return {"page": page, "x": round(min(max(x, 0.0), 1.0 - w), 5),
            "y": round(min(max(y, 0.0), 1.0 - h), 5), "w": round(w, 5), "h": round(h, 5)}


def _resolved(entry: dict, anchors: dict, page_count: int) -> dict | None:
    if "anchor" in entry:
        box = _box((anchors or {}).get(entry["anchor"]))
        if box is None:
            return None
        page = box.page
        x, y = box.x + entry.get("dx", 0.0), box.y + entry.get("dy", 0.0)
        w, h = entry.get("w") or box.w, entry.get("h") or box.h
    else:
        page, x, y, w, h = entry["page"], entry["x"], entry["y"], entry["w"], entry["h"]
    if not 1 <= page <= page_count:
        return None
    return {"role": entry["role"], "type": entry["type"], **_clamped(page, x, y, w, h),
            "required": entry["required"], "label": entry["label"]}


def resolve_layout(default_layout, anchors, page_count: int) -> list[dict]:
    """Fixed boxes for a rendered document: anchored entries placed at their anchor plus the
    offset; entries whose anchor or page is missing (or that are malformed) are dropped."""
    fields = []
    for entry in default_layout or []:
        try:
            cleaned = _clean_entry(entry)
        except ValueError:
            continue
        field = _resolved(cleaned, anchors, page_count)
        if field is not None:
            fields.append(field)
    return fields
