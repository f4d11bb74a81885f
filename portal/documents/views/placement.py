"""The placement editor: the page and its JSON endpoints (static/js/placement.js calls them).

JSON shapes:
    field    {"id", "party_id" (null: a common field), "type", "page", "x", "y", "w", "h",
              "required", "label"}   x, y, w, h: fractions of the displayed page, top-left origin
             answers add "overflow": null, or {"message", "height"} when the value known now
             (requisites, date) does not fit the box in small print (documents/fitting.py)
    GET    /documents/<id>/fields.json      -> {"fields": [field], "parties": [...], "page_count"}
    POST   /documents/<id>/fields           {field without id}   -> 201 {"field": field}
    PUT    /documents/<id>/fields           {"fields": [field]}  -> {"fields": [field]}
    PATCH  /documents/<id>/fields/<fid>     {some keys of field} -> {"field": field}
    DELETE /documents/<id>/fields/<fid>                          -> {"deleted": fid}
    Refused: 422 {"error": message, "errors": {key: message}, "field": the stored field or null};
    a sent document: 409 {"error": message}; not yours or missing: 404.
"""

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.service import request_meta
from portal.auth.permissions import require
from portal.documents import fitting, services
from portal.documents.errors import DocumentLocked, DocumentRefused
from portal.documents.labels import FIELD_TYPE_LABELS, ROLE_LABELS
from portal.documents.views import bp
from portal.documents.views.common import document_for
from portal.documents.views.document import may_save_layout
from portal.errors import DomainError
from portal.pdfs import PdfRejected, stored_page_sizes
from portal.storage import BlobMissing

PARTY_COLOURS = 6


def _actor():
    return current_user._get_current_object()


def parties_json(document) -> list[dict]:
    """The signing parties as the editor shows them, each with its colour."""
    signing = [party for party in document.parties if party.signs]
    return [{"id": party.id, "role": party.role, "role_label": str(ROLE_LABELS[party.role]),
             "name": services.party_label(party), "colour": index % PARTY_COLOURS,
             "may_stamp": services.may_have_stamp(party)}
            for index, party in enumerate(signing)]


def _fields_json(document) -> list[dict]:
    found = fitting.overflows(document)
    return [{**services.field_values(field), "overflow": found.get(field.id)}
            for field in document.fields]


def _field_json(field) -> dict:
    """A field with why its known value does not fit its box (None when it fits)."""
    overflow = fitting.overflow_of(field, fitting.page_sizes(field.document))
    return {**services.field_values(field), "overflow": overflow}


def _refused(error: DomainError):
    body = {"error": error.message}
    if isinstance(error, DocumentRefused):
        body["errors"] = error.errors
        body["field"] = getattr(error, "field", None)
    return jsonify(body), error.status


def _json_body():
    data = request.get_json(silent=True)
    if data is None:
        raise DocumentRefused({"field": _("Send the field as JSON.")})
    return data


@bp.get("/documents/<int:document_id>/fields")
@require("edit", "documents")
def fields(document_id: int):
    """The placement editor: page images with draggable fields for each party."""
    document = document_for(document_id, "edit")
    if not document.is_draft:
        flash(DocumentLocked().message, "error")
        return redirect(url_for("documents.show", document_id=document.id))
    return render_template(
        "documents/fields.html", document=document, parties=parties_json(document),
        fields_json=_fields_json(document), page_sizes=_page_sizes(document),
        type_labels={key: str(label) for key, label in FIELD_TYPE_LABELS.items()},
        messages=_messages(), may_save_layout=may_save_layout(document))


def _page_sizes(document) -> list[tuple[int, int]]:
    """Each page's image size at 1000 px wide, so the layout does not jump while loading."""

    try:
        pages = stored_page_sizes(document.source_sha256)
    except (BlobMissing, PdfRejected):
        pages = ()
    sizes = [(1000, max(1, round(1000 * height / width))) for width, height in pages]
    return sizes if len(sizes) == document.page_count else [(1000, 1414)] * document.page_count


def _messages() -> dict:
    return {"saving": _("Saving…"), "saved": _("Saved."), "deleted": _("Field removed."),
            "failed": _("The change was not saved. Reload the page and try again."),
            "offline": _("The server cannot be reached: the change was not saved."),
            "common": _("Filled by Signet"),
            "overflow": _("Does not fit"),
            "duplicated": _("Field duplicated."), "undone": _("Undone.")}


@bp.get("/documents/<int:document_id>/fields.json")
@require("view", "documents")
def fields_data(document_id: int):
    """The fields and signing parties as JSON."""
    document = document_for(document_id)
    return {"fields": _fields_json(document), "parties": parties_json(document),
            "page_count": document.page_count}


@bp.post("/documents/<int:document_id>/fields")
@require("edit", "documents")
def field_add(document_id: int):
    """Place one field."""
    document = document_for(document_id, "edit")
    try:
        field = services.add_field(_actor(), request_meta(), document.id, _json_body())
    except DomainError as error:
        return _refused(error)
    return {"field": _field_json(field)}, 201


@bp.put("/documents/<int:document_id>/fields")
@require("edit", "documents")
def fields_replace(document_id: int):
    """Replace every field at once."""
    document = document_for(document_id, "edit")
    try:
        body = _json_body()
        items = body.get("fields") if isinstance(body, dict) else None
        document = services.set_fields(_actor(), request_meta(), document.id, items)
    except DomainError as error:
        return _refused(error)
    return {"fields": _fields_json(document)}


@bp.patch("/documents/<int:document_id>/fields/<int:field_id>")
@require("edit", "documents")
def field_update(document_id: int, field_id: int):
    """Move, resize or relabel one field."""
    document = document_for(document_id, "edit")
    try:
        field = services.update_field(_actor(), request_meta(), document.id, field_id,
                                      _json_body())
    except DomainError as error:
        return _refused(error)
    return {"field": _field_json(field)}


@bp.delete("/documents/<int:document_id>/fields/<int:field_id>")
@require("edit", "documents")
def field_delete(document_id: int, field_id: int):
    """Take a field off the page."""
    document = document_for(document_id, "edit")
    try:
        services.delete_field(_actor(), request_meta(), document.id, field_id)
    except DomainError as error:
        return _refused(error)
    return {"deleted": field_id}
