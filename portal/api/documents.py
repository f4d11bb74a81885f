"""Documents through the API: list, create, parties, fields, send, stop, status, PDFs."""

import io
import json

from flask import current_app, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.api.auth import api_user
from portal.api.blueprint import bp
from portal.api.errors import ApiError, invalid
from portal.api.meta import api_meta
from portal.api.parsing import MAX_INT, Reader, json_list, json_object, query_int, refuse_nul
from portal.auth.permissions import can, get_or_404, visible
from portal.config import LANGUAGES
from portal.documents import services
from portal.documents.access import signed_pdf_document
from portal.documents.errors import DocumentRefused, require_files_kept
from portal.documents.models import STAGES, Document
from portal.documents.payloads import document_json, document_status, document_summary
from portal.documents.services.create import ITEM_LIMIT
from portal.extensions import db
from portal.sealing.download import final_pdf_response
from portal.storage import BlobMissing, read

MAX_PER_PAGE = 100
UPDATABLE = ("responsible_id",)


def _document(document_id: int, action: str = "view") -> Document:
    """The document if the token's user may `action` it; 404 when it is not theirs to see.

    As on the pages: 403 when the user may not do `action` to any document at all.
    """
    if not can(api_user(), action, "documents"):
        raise ApiError(403)
    if not 0 < document_id <= MAX_INT:  # the database would overflow, not just miss
        raise ApiError(404)
    return get_or_404(Document, document_id, api_user(), action, "documents")


def _created(document: Document):
    document = db.session.get(Document, document.id)
    return document_json(document), 201, {"Location": url_for("api.document",
                                                               document_id=document.id)}


def _fresh(document_id: int) -> dict:
    db.session.expire_all()
    return document_json(db.session.get(Document, document_id))


# --- list and create ---------------------------------------------------------------------

@bp.get("/v1/documents")
def documents():
    """The documents the token's user may see, newest first, optionally of one stage."""
    user = api_user()
    if not can(user, "view", "documents"):
        raise ApiError(403)
    query = (select(Document).where(visible(user, "documents", Document))
             .options(selectinload(Document.company)))
    stage = request.args.get("stage", "")
    if stage:
        if stage not in STAGES:
            raise invalid({"stage": _("Must be one of: %(choices)s.", choices=", ".join(STAGES))})
        query = query.where(Document.stage == stage)
    page = db.paginate(
        query.order_by(Document.created_at.desc(), Document.id.desc()),
        page=query_int("page", 1, 100_000),
        per_page=query_int("per_page", 25, MAX_PER_PAGE),
        error_out=False,
    )
    return {
        "items": [document_summary(document) for document in page.items],
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
    }


def _items(reader: Reader) -> list | None:
    """The items table; the service checks each row (and names the bad values)."""
    raw = reader.data.get("items")
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) > ITEM_LIMIT:
        reader.fail("items", _("Must be a list of at most %(max)d items.", max=ITEM_LIMIT))
        return None
    return raw


def _client(reader: Reader) -> dict | None:
    raw = reader.data.get("client")
    if isinstance(raw, str) and raw.strip():
        # Multipart forms carry the client as a JSON text field.
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            reader.fail("client", _("Must be a JSON object ({...})."))
            return None
        refuse_nul(raw)
    if raw in (None, ""):
        return None
    if not isinstance(raw, dict):
        reader.fail("client", _("Must be an object ({...})."))
        return None
    return raw


def _common_values(reader: Reader) -> dict:
    """Values shared by both ways of creating a document; absent ones are left out."""
    values = {
        "company_id": reader.integer("company_id", required=True),
        "counterparty_id": reader.integer("counterparty_id"),
        "client": _client(reader),
        "title": reader.text("title", max_length=300),
        "language": reader.choice("language", list(LANGUAGES)),
    }
    if values["counterparty_id"] and values["client"]:
        reader.fail("client", _("Give either counterparty_id or client, not both."))
    return {name: value for name, value in values.items() if value is not None}


def _require_create(values: dict | None = None) -> None:
    """Creating documents, and reading the template or directory entry the new one names."""
    user = api_user()
    if not can(user, "create", "documents"):
        raise ApiError(403)
    values = values or {}
    if values.get("template_id") is not None and not can(user, "view", "templates"):
        raise ApiError(403)
    if values.get("counterparty_id") is not None and not can(user, "view", "contacts"):
        raise ApiError(403)


@bp.post("/v1/documents")
def create_document():
    """Create a draft from a template, with its variables and items."""
    _require_create()
    reader = Reader(json_object())
    values = _common_values(reader) | {
        "template_id": reader.integer("template_id", required=True),
        "place": reader.text("place", max_length=200),
        "date": reader.day("date"),
        "items": _items(reader),
        "vat_rate": reader.decimal("vat_rate", maximum=100),
        "currency": reader.text("currency", max_length=3),
    }
    _require_create(values)
    reader.check()
    values = {name: value for name, value in values.items() if value is not None}
    if "vat_rate" in reader.data and reader.data["vat_rate"] is None:
        values["vat_rate"] = None  # null: VAT does not apply ("without VAT")
    return _created(services.create_from_template(api_user(), api_meta(), **values))


def _upload_bytes(upload) -> bytes:
    limit = current_app.config["SIGNET_UPLOAD_MAX_BYTES"]
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, _("The file is larger than %(size)s MB. Send a smaller file.",
                              size=f"{limit / 1024 / 1024:.3g}"))
    return data


@bp.post("/v1/documents/upload")
def upload_document():
    """Create a draft from an uploaded PDF (or PNG/JPEG) sent as multipart/form-data."""
    _require_create()
    upload = request.files.get("file")
    form = request.form.to_dict()
    refuse_nul([form, upload.filename if upload else ""])
    reader = Reader(form)
    values = _common_values(reader)
    if upload is None or not upload.filename:
        reader.fail("file", _("Attach the PDF as the multipart field “file”."))
    _require_create(values)
    reader.check()
    filename = upload.filename
    values.setdefault("title", filename.rsplit(".", 1)[0].strip()[:300] or filename[:300])
    return _created(services.create_from_upload(
        api_user(), api_meta(), data=_upload_bytes(upload), filename=filename, **values))


# --- one document ------------------------------------------------------------------------

@bp.get("/v1/documents/<int:document_id>")
def document(document_id: int):
    """The document with its parties and fields."""
    return document_json(_document(document_id))


@bp.patch("/v1/documents/<int:document_id>")
def update_document(document_id: int):
    """Change what may change at any stage: the responsible user."""
    _document(document_id, "edit")
    reader = Reader(json_object())
    for name in reader.data:
        if name not in UPDATABLE:
            reader.fail(name, _("This value cannot be changed here."))
    responsible_id = reader.integer("responsible_id", required=True)
    reader.check()
    services.reassign(api_user(), api_meta(), document_id, responsible_id)
    # Handing the document away may end the user's access; they still learn the outcome.
    return _fresh(document_id)


@bp.get("/v1/documents/<int:document_id>/status", endpoint="document_status")
def status(document_id: int):
    """The stage and each party's progress, compact."""
    return document_status(_document(document_id))


def _replace_list(document_id: int, key: str, service) -> dict:
    """PUT a whole list (parties or fields); per-entry errors come back as "<key>[i].<name>"."""
    _document(document_id, "edit")
    entries = json_list(key)
    try:
        service(api_user(), api_meta(), document_id, entries)
    except DocumentRefused as refused:
        refused.errors = {_entry_key(key, name): text for name, text in refused.errors.items()}
        raise
    return _fresh(document_id)


def _entry_key(key: str, name: str) -> str:
    # The services name entries "<index>.<field>"; the API names them after the JSON path.
    index, dot, rest = str(name).partition(".")
    return f"{key}[{index}].{rest}" if dot and index.isdigit() else name


@bp.put("/v1/documents/<int:document_id>/parties")
def set_parties(document_id: int):
    """Replace the draft's parties."""
    return _replace_list(document_id, "parties", services.set_parties)


@bp.put("/v1/documents/<int:document_id>/fields")
def set_fields(document_id: int):
    """Replace the draft's fields."""
    return _replace_list(document_id, "fields", services.set_fields)


@bp.post("/v1/documents/<int:document_id>/send")
def send_document(document_id: int):
    """Send the draft for signing."""
    _document(document_id, "send")
    services.send(api_user(), api_meta(), document_id)
    return _fresh(document_id)


@bp.post("/v1/documents/<int:document_id>/stop")
def stop_document(document_id: int):
    """Stop signing, with a reason."""
    _document(document_id, "edit")  # as on the document page
    reader = Reader(json_object())
    reason = reader.text("reason", required=True, max_length=1000)
    reader.check()
    services.stop(api_user(), api_meta(), document_id, reason)
    return _fresh(document_id)


def _pdf(sha256: str | None, filename: str, missing: str):
    if not sha256:
        raise ApiError(404, missing)
    try:
        data = read(sha256)
    except BlobMissing:
        raise _missing_from_storage(sha256) from None
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=filename, max_age=0)


def _missing_from_storage(sha256: str | None) -> ApiError:
    current_app.logger.error("PDF %s is missing from the blob store", sha256)
    return ApiError(404, _("The file is missing from storage."))


@bp.get("/v1/documents/<int:document_id>/source.pdf")
def source_pdf(document_id: int):
    """The PDF as sent for signing."""
    document = _document(document_id)
    require_files_kept(document)
    return _pdf(document.source_sha256, f"{document.number}.pdf",
                _("This document has no PDF yet."))


@bp.get("/v1/documents/<int:document_id>/final.pdf")
def final_pdf(document_id: int):
    """The signed and sealed PDF, once every party has signed (the vault's scope decides)."""
    if not 0 < document_id <= MAX_INT:
        raise ApiError(404)
    document = signed_pdf_document(document_id, api_user())
    if not document.final_sha256:
        raise ApiError(404, _("There is no final PDF yet: it appears when every party has "
                              "signed."))
    try:
        return final_pdf_response(document)
    except BlobMissing:
        raise _missing_from_storage(document.final_sha256) from None
