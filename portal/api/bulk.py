"""Bulk send through the API: a batch from JSON rows or a spreadsheet, its status, confirm,
retry, cancel. The services (portal.bulk.services) check the permission and every row."""

import json
from functools import partial
from itertools import islice

from flask import current_app, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.api.auth import api_user
from portal.api.blueprint import bp
from portal.api.errors import ApiError, invalid
from portal.api.parsing import MAX_INT, Reader, json_object, query_int, refuse_nul
from portal.bulk import services
from portal.bulk.models import ROW_STATUSES, BulkBatch, BulkRow
from portal.documents.models import Document
from portal.documents.payloads import iso, plain
from portal.extensions import db

MAX_PER_PAGE = 100
# Per-row messages named in one refusal (the message counts them all).
MAX_ROW_FIELDS = 100
# Room for the JSON around the rows (template, company, mapping...).
ENVELOPE_BYTES = 64 * 1024


# --- reading the request -------------------------------------------------------------------

def _body_limit() -> int:
    return current_app.config["SIGNET_BULK_MAX_BYTES"] + ENVELOPE_BYTES


def _refuse_large_body() -> None:
    """A 413 before reading a body larger than a batch may be (the rows' own limit)."""
    if (request.content_length or 0) > _body_limit():
        raise ApiError(413, _("The request is larger than %(size)s MB. Send the clients in "
                              "several batches.", size=f"{_body_limit() / 1024 / 1024:.3g}"))


def _flag(reader: Reader, name: str) -> bool:
    """A boolean from JSON (true/false) or a form field ("true", "1", "false", "0")."""
    value = reader.data.get(name)
    if value in (None, ""):
        return False
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    if not isinstance(value, bool):
        reader.fail(name, _("Must be true or false."))
        return False
    return value


def _mapping(reader: Reader) -> dict | None:
    """target -> column (its name or 0-based index); a form sends it as JSON text."""
    return _json_object(reader, "mapping")


def _json_object(reader: Reader, name: str) -> dict | None:
    """An object, or in a form its JSON text; None when not given."""
    value = reader.data.get(name)
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            reader.fail(name, _("Must be a JSON object ({...})."))
            return None
        refuse_nul(value)
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        reader.fail(name, _("Must be an object ({...})."))
        return None
    return value


def _options(reader: Reader) -> dict:
    return {"template_id": reader.integer("template_id", required=True),
            "company_id": reader.integer("company_id", required=True),
            "mapping": _mapping(reader), "values": _json_object(reader, "values"),
            "confirm": _flag(reader, "confirm"),
            "skip_invalid": _flag(reader, "skip_invalid")}


def _rows_invalid(refused: services.RowsInvalid) -> ApiError:
    """Each bad row's messages named after the JSON path: "rows[2].email" (the row number)."""
    named = ((f"rows[{number}].{target}", message) for number, errors in refused.rows.items()
             for target, message in errors.items())
    return ApiError(422, refused.message, dict(islice(named, MAX_ROW_FIELDS)),
                    code="rows_invalid")


def _started(start, options: dict):
    """Keep the batch (all or nothing when it is to be confirmed with every row), confirm it
    if asked, and answer 201 with it."""
    user = api_user()
    all_or_nothing = options["confirm"] and not options["skip_invalid"]
    try:
        batch = start(user, options["template_id"], options["company_id"],
                      mapping=options["mapping"], all_or_nothing=all_or_nothing,
                      batch_values=options["values"])
    except services.RowsInvalid as refused:
        raise _rows_invalid(refused) from None
    if options["confirm"]:
        batch = services.confirm(user, batch.id, skip_invalid=options["skip_invalid"])
    return batch_json(batch), 201, {"Location": url_for("api.bulk_batch", batch_id=batch.id)}


# --- the batch as JSON ---------------------------------------------------------------------

def batch_json(batch: BulkBatch) -> dict:
    """The batch: where it is, its mapping by column name, and how many rows are in each
    status; with one page of its rows as the query asks (?page, per_page, status)."""
    db.session.expire_all()  # in-process jobs may have moved it on since it was read
    batch = db.session.get(BulkBatch, batch.id)
    return {
        "id": batch.id,
        "status": batch.status,
        "template_id": batch.template_id,
        "company_id": batch.company_id,
        "source_filename": batch.source_filename,
        "headers": list(batch.headers),
        "mapping": {target: batch.headers[index] for target, index in batch.mapping.items()
                    if 0 <= index < len(batch.headers)},
        "values": dict(batch.batch_values or {}),
        "skip_invalid": batch.skip_invalid,
        "counts": services.batch_progress(batch.id),
        "created_at": iso(batch.created_at),
        "confirmed_at": iso(batch.confirmed_at),
        "finished_at": iso(batch.finished_at),
        "rows": _rows_page(batch.id),
        "links": {"self": url_for("api.bulk_batch", batch_id=batch.id)},
    }


def _rows_page(batch_id: int) -> dict:
    status = request.args.get("status", "")
    if status and status not in ROW_STATUSES:
        raise invalid({"status": _("Must be one of: %(choices)s.",
                                   choices=", ".join(ROW_STATUSES))})
    page = query_int("page", 1, 100_000)
    per_page = query_int("per_page", 25, MAX_PER_PAGE)
    chosen = [BulkRow.batch_id == batch_id] + ([BulkRow.status == status] if status else [])
    total = db.session.scalar(select(func.count(BulkRow.id)).where(*chosen))
    rows = db.session.execute(
        select(BulkRow, Document.number).outerjoin(Document, Document.id == BulkRow.document_id)
        .where(*chosen).order_by(BulkRow.row_number)
        .limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [_row_json(row, number) for row, number in rows],
            "page": page, "pages": -(-total // per_page), "total": total}


def _row_json(row: BulkRow, document_number: str | None) -> dict:
    return {
        "row": row.row_number,
        "status": row.status,
        "values": plain(row.values),
        "errors": dict(row.errors),
        "message": row.last_error,
        "counterparty_id": row.counterparty_id,
        "document_id": row.document_id,
        "document_number": document_number,
    }


def _batch(batch_id: int) -> BulkBatch:
    if not 0 < batch_id <= MAX_INT:
        raise ApiError(404, _("This batch does not exist."))
    return services.batch_for(api_user(), batch_id)


# --- routes ----------------------------------------------------------------------------------

@bp.post("/v1/bulk/batches")
def create_batch():
    """A batch from JSON rows, or from a spreadsheet sent as multipart/form-data."""
    services.require_bulk_permission(api_user())  # before reading anything of the request
    _refuse_large_body()
    if request.mimetype == "multipart/form-data":
        return _from_file()
    reader = Reader(json_object())
    options = _options(reader)
    records = reader.data.get("rows")
    if not isinstance(records, list):
        reader.fail("rows", _("Send the rows as a list of objects: "
                              "[{\"name\": \"...\", \"email\": \"...\"}, ...]."))
    reader.check()
    return _started(partial(services.start_batch_from_records, records=records), options)


def _from_file():
    upload = request.files.get("file")
    form = request.form.to_dict()
    refuse_nul([form, upload.filename if upload else ""])
    reader = Reader(form)
    options = _options(reader)
    if upload is None or not upload.filename:
        reader.fail("file", _("Attach the spreadsheet as the multipart field “file”."))
    reader.check()
    data = upload.read(current_app.config["SIGNET_BULK_MAX_BYTES"] + 1)
    return _started(partial(services.start_batch, data=data, filename=upload.filename),
                    options)


@bp.get("/v1/bulk/batches/<int:batch_id>")
def bulk_batch(batch_id: int):
    """The batch's status, counts and one page of its rows."""
    return batch_json(_batch(batch_id))


@bp.put("/v1/bulk/batches/<int:batch_id>/mapping")
def remap_batch(batch_id: int):
    """Read the rows again with another mapping (before the batch is confirmed)."""
    _batch(batch_id)
    reader = Reader(json_object())
    mapping = _mapping(reader)
    if mapping is None:
        reader.fail("mapping", _("This value is required."))
    reader.check()
    return batch_json(services.remap(api_user(), batch_id, mapping))


@bp.post("/v1/bulk/batches/<int:batch_id>/confirm")
def confirm_batch(batch_id: int):
    """Start creating and sending: every valid row (invalid ones only if skipped)."""
    _batch(batch_id)
    reader = Reader(json_object() if request.get_data(cache=True).strip() else {})
    skip_invalid = _flag(reader, "skip_invalid")
    reader.check()
    return batch_json(services.confirm(api_user(), batch_id, skip_invalid=skip_invalid))


@bp.post("/v1/bulk/batches/<int:batch_id>/retry")
def retry_batch(batch_id: int):
    """Queue the failed rows again."""
    batch = _batch(batch_id)
    retried = services.retry_failed(api_user(), batch_id)
    return {"retried": retried, "batch": batch_json(batch)}


@bp.post("/v1/bulk/batches/<int:batch_id>/cancel")
def cancel_batch(batch_id: int):
    """Stop the batch: rows not yet started are skipped; documents already sent stay sent."""
    _batch(batch_id)
    return batch_json(services.cancel(api_user(), batch_id))
