"""Bulk send: upload a spreadsheet for a template, map and check its rows, confirm, follow.

Each service takes the actor, checks the permission (sending in bulk needs what creating and
sending one document needs), owns its transaction and never touches the request. Nothing is
created or sent before `confirm`; the jobs (portal.bulk.jobs) do the rest.
"""

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
from flask_babel import gettext as _
from flask_babel import ngettext
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import delete, func, select, update

from portal import unit
from portal.auth.permissions import can
from portal.bulk.jobs import start_runs, tell_finished
from portal.bulk.models import (
    QUEUED_OR_RUNNING,
    ROW_STATUSES,
    BulkBatch,
    BulkMapping,
    BulkRow,
)
from portal.bulk.records import (
    RECORDS_CONTENT_TYPE,
    RECORDS_FILENAME,
    read_records,
    records_blob,
    sheet_from_records,
)
from portal.bulk.rows import (
    TARGET_KEYS,
    clean_batch_values,
    suggest_mapping,
    target_labels,
    validate_rows,
)
from portal.bulk.sheet import Sheet, read_sheet
from portal.doctemplates.models import DocumentTemplate
from portal.documents.models import Document
from portal.documents.services.common import default_currency
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import end_read_before_slow_work, utcnow
from portal.parties.models import Company
from portal.storage import read, store

SHEET_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12"}
# A spreadsheet program runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
RESULT_COLUMNS = ("row", "status", "name", "email", "phone", "document", "message")
# The batch-wide values a template remembers for its next batch (a date is the batch's own).
REMEMBERED_VALUES = ("place", "currency", "vat_rate")


class BulkRefused(DomainError):
    status = 422

    def __init__(self, message: str, field_errors: dict | None = None):
        super().__init__(message)
        # Per form field (the batch's values), for a form that shows them beside each field.
        self.field_errors = dict(field_errors or {})


def may_send_in_bulk(actor) -> bool:
    """Sending in bulk needs what creating and sending one document needs."""
    return can(actor, "create", "documents") and can(actor, "send", "documents")


class RowsInvalid(BulkRefused):
    """Rows have errors and the caller wanted all or nothing: `rows` is row number -> its
    messages by target (in the sheet's order)."""

    def __init__(self, message: str, rows: dict[int, dict[str, str]]):
        super().__init__(message)
        self.rows = rows


def require_bulk_permission(actor) -> None:
    if not may_send_in_bulk(actor):
        unit.rollback()
        raise DomainError(_("You may not create and send documents."), 403)


# Reaching a batch is sending documents, in the actor's scope for that (the list filters by it
# too: overview.batches_of).
BATCH_ACTION = "send"


def batch_for(actor, batch_id) -> BulkBatch:
    """The batch, if the actor may send in bulk and reach it (theirs, or within their scope
    for documents); a 404 refusal otherwise, as for a document they may not see."""
    require_bulk_permission(actor)
    batch = db.session.get(BulkBatch, int(batch_id)) if str(batch_id).isdigit() else None
    if batch is None or not can(actor, BATCH_ACTION, "documents", batch):
        unit.rollback()
        raise DomainError(_("This batch does not exist."), 404)
    return batch


# --- upload and mapping ----------------------------------------------------------------------

def start_batch(actor, template_id, company_id, data: bytes, filename: str,
                mapping: dict | None = None, all_or_nothing: bool = False, *,
                batch_values: dict | None = None) -> BulkBatch:
    """Read the spreadsheet, map its columns (as `mapping` says if given, else as last time
    for this template, else by the header names), check every row (the batch's values filling
    the place, date, currency and VAT rate a row leaves empty), and keep it all as a
    "validated" batch; nothing is sent. With `all_or_nothing`, a row with errors refuses the
    whole upload (RowsInvalid) and nothing is kept."""
    return _start(actor, template_id, company_id, lambda: read_sheet(data, filename),
                  lambda: data, _filename(filename), _content_type(filename), mapping,
                  all_or_nothing, batch_values)


def start_batch_from_records(actor, template_id, company_id, records,
                             mapping: dict | None = None, all_or_nothing: bool = False, *,
                             batch_values: dict | None = None) -> BulkBatch:
    """As start_batch, the rows given as a list of flat objects (the API's JSON rows)."""
    return _start(actor, template_id, company_id, lambda: sheet_from_records(records),
                  lambda: records_blob(records), RECORDS_FILENAME, RECORDS_CONTENT_TYPE,
                  mapping, all_or_nothing, batch_values)


def _start(actor, template_id, company_id, read_source, source_bytes, filename: str,
           content_type: str, mapping: dict | None, all_or_nothing: bool,
           batch_values: dict | None) -> BulkBatch:
    require_bulk_permission(actor)
    template = (db.session.get(DocumentTemplate, int(template_id))
                if str(template_id or "").isdigit() else None)
    if template is None or not template.active:
        unit.rollback()
        raise BulkRefused(_("Choose one of the active templates."))
    company = db.session.get(Company, int(company_id)) if str(company_id or "").isdigit() else None
    if company is None:
        unit.rollback()
        raise BulkRefused(_("Choose one of our companies."))
    cleaned_values = _cleaned_batch_values(batch_values)
    template_id, company_id = template.id, company.id
    end_read_before_slow_work()
    sheet = read_source()  # SheetRefused says what is wrong with the rows
    template = db.session.get(DocumentTemplate, template_id)
    mapping = (_clean_mapping(mapping, sheet.headers) if mapping is not None
               else _first_mapping(template, sheet.headers))
    results = validate_rows(sheet, mapping, template, actor, batch_values=cleaned_values)
    if all_or_nothing:
        _refuse_invalid(results)
    blob = store(source_bytes(), content_type)
    batch = BulkBatch(template_id=template_id, company_id=company_id, created_by_id=actor.id,
                      source_sha256=blob.sha256, source_filename=filename,
                      headers=list(sheet.headers), batch_values=cleaned_values)
    db.session.add(batch)
    _keep_rows(batch, results, mapping)
    unit.commit()
    return batch


def _first_mapping(template, headers: list[str]) -> dict[str, int]:
    """As last time for the template, then the other targets guessed from the header names."""
    mapping = _remembered_mapping(template.id, headers)
    for target, index in suggest_mapping(headers, template).items():
        if target not in mapping and index not in mapping.values():
            mapping[target] = index
    return mapping


def _refuse_invalid(results) -> None:
    rows = {result.row_number: {key: str(message) for key, message in result.errors.items()}
            for result in results if not result.valid}
    if rows:
        unit.rollback()
        raise RowsInvalid(ngettext(
            "%(num)d row has errors: nothing was kept. Correct it and send the rows again.",
            "%(num)d rows have errors: nothing was kept. Correct them and send the rows again.",
            len(rows)), rows)


def _read_source(batch: BulkBatch) -> Sheet:
    """The batch's rows read again from what was uploaded (a file, or JSON rows)."""
    data = read(batch.source_sha256)
    if batch.source_filename == RECORDS_FILENAME:
        return read_records(data)
    return read_sheet(data, batch.source_filename)


def remap(actor, batch_id, mapping: dict, *, batch_values: dict | None = None) -> BulkBatch:
    """Read the batch's rows again as `mapping` (target -> column index) says, with the
    batch's values changed to `batch_values` when given, and remember both for the template."""
    batch = batch_for(actor, batch_id)
    if batch.status != "validated":
        unit.rollback()
        raise DomainError(_("This batch was confirmed: its columns can no longer change."), 409)
    mapping = _clean_mapping(mapping, batch.headers)
    cleaned_values = (batch.batch_values if batch_values is None
                      else _cleaned_batch_values(batch_values))
    template = db.session.get(DocumentTemplate, batch.template_id)
    end_read_before_slow_work()
    sheet = _read_source(batch)
    batch = db.session.get(BulkBatch, batch.id)
    batch.batch_values = cleaned_values
    db.session.execute(delete(BulkRow).where(BulkRow.batch_id == batch.id))
    _validate(batch, sheet, mapping, template, actor)
    _remember_mapping(batch)
    unit.commit()
    return batch


def _cleaned_batch_values(raw: dict | None) -> dict:
    """The batch's values, JSON-safe, or a refusal naming each faulty one."""
    values, errors = clean_batch_values(raw or {})
    if errors:
        unit.rollback()
        labels = target_labels()
        raise BulkRefused(" ".join(f"{labels[key]}: {message}"
                                   for key, message in errors.items()), errors)
    return _json_safe(values)


def remembered_batch_values(templates) -> dict[int, dict[str, str]]:
    """Per template, the values an upload form starts with: the place, currency and VAT rate
    of its last batch, else no place, the currency of its language and no VAT rate."""
    remembered = {mapping.template_id: mapping.batch_values for mapping in db.session.scalars(
        select(BulkMapping).where(BulkMapping.template_id.in_([t.id for t in templates])))}
    return {template.id: {"place": "", "vat_rate": "",
                          "currency": default_currency(template.language),
                          **{key: value for key, value in
                             (remembered.get(template.id) or {}).items()
                             if key in REMEMBERED_VALUES and value not in (None, "")}}
            for template in templates}


def _validate(batch: BulkBatch, sheet: Sheet, mapping: dict, template, actor) -> None:
    _keep_rows(batch, validate_rows(sheet, mapping, template, actor,
                                    batch_values=batch.batch_values), mapping)


def _keep_rows(batch: BulkBatch, results, mapping: dict) -> None:
    batch.mapping = mapping
    batch.row_count = len(results)
    batch.invalid_count = sum(not result.valid for result in results)
    db.session.flush()
    db.session.add_all(BulkRow(
        batch_id=batch.id, row_number=result.row_number, values=_json_safe(result.values),
        errors={key: str(message) for key, message in result.errors.items()},
        counterparty_id=result.counterparty_id,
        status="valid" if result.valid else "invalid") for result in results)


def _json_safe(value):
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _clean_mapping(mapping, headers: list[str]) -> dict[str, int]:
    """Known targets to existing columns (by index, or by the column's name), each column used
    once, or a refusal saying why."""
    cleaned: dict[str, int] = {}
    for target, column in dict(mapping or {}).items():
        if column in (None, ""):
            continue
        index = _column_index(column, headers)
        if target not in TARGET_KEYS or index is None:
            unit.rollback()
            raise BulkRefused(_("Choose a column of the spreadsheet for each field."))
        if index in cleaned.values():
            unit.rollback()
            raise BulkRefused(_("Each column can be used for one field only."))
        cleaned[target] = index
    return cleaned


def _column_index(column, headers: list[str]) -> int | None:
    if isinstance(column, bool):
        return None
    if isinstance(column, int) or (isinstance(column, str) and column.isdigit()):
        return int(column) if 0 <= int(column) < len(headers) else None
    return headers.index(column) if column in headers else None


def _remembered_mapping(template_id: int, headers: list[str]) -> dict[str, int]:
    """target -> column index from the header names last used with the template."""
    remembered = db.session.get(BulkMapping, template_id)
    if remembered is None:
        return {}
    positions = {}
    for index, header in enumerate(headers):
        positions.setdefault(header, index)
    return {target: positions[header] for header, target in remembered.columns.items()
            if header in positions and target in TARGET_KEYS}


def _remember_mapping(batch: BulkBatch) -> None:
    columns = {batch.headers[index]: target for target, index in batch.mapping.items()
               if 0 <= index < len(batch.headers)}
    values = {key: value for key, value in (batch.batch_values or {}).items()
              if key in REMEMBERED_VALUES}
    remembered = db.session.get(BulkMapping, batch.template_id)
    if remembered is None:
        db.session.add(BulkMapping(template_id=batch.template_id, columns=columns,
                                   batch_values=values))
    else:
        remembered.columns, remembered.batch_values = columns, values


def _content_type(filename: str) -> str:
    suffix = "." + str(filename or "").rsplit(".", 1)[-1].lower() if "." in str(filename) else ""
    return SHEET_TYPES.get(suffix, "text/csv")


def _filename(filename: str) -> str:
    name = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:255]


# --- confirm, run, retry ---------------------------------------------------------------------

def confirm(actor, batch_id, skip_invalid: bool) -> BulkBatch:
    """Start creating and sending: every valid row, and the invalid ones skipped if asked.

    Of two confirmations (a double click, two tabs) one starts the batch: one conditional
    update moves it from "validated" to "confirmed"; the other is told it was confirmed.
    """
    batch = batch_for(actor, batch_id)
    if batch.invalid_count and not skip_invalid:
        unit.rollback()
        raise BulkRefused(ngettext(
            "%(num)d row has errors: fix it in the file, or skip it.",
            "%(num)d rows have errors: fix them in the file, or skip them.",
            batch.invalid_count))
    now = utcnow()
    started = db.session.execute(update(BulkBatch).where(
        BulkBatch.id == batch.id, BulkBatch.status == "validated").values(
        status="confirmed", skip_invalid=bool(skip_invalid), confirmed_at=now,
        progressed_at=now))
    if started.rowcount != 1:
        unit.rollback()
        raise DomainError(_("This batch was already confirmed; nothing was sent twice."), 409)
    _set_rows(batch.id, "invalid", "skipped")
    _set_rows(batch.id, "valid", "pending")
    _remember_mapping(batch)
    _run_after_commit(batch.id)
    unit.commit()
    db.session.refresh(batch)
    return batch


def retry_failed(actor, batch_id) -> int:
    """Queue the failed rows again (only those); how many."""
    batch = batch_for(actor, batch_id)
    if batch.status not in (*QUEUED_OR_RUNNING, "done"):
        unit.rollback()
        raise DomainError(_("Only a confirmed batch has rows to retry."), 409)
    count = _set_rows(batch.id, "failed", "pending", last_error="")
    if count:
        db.session.execute(update(BulkBatch).where(BulkBatch.id == batch.id).values(
            status="confirmed", finished_at=None, progressed_at=utcnow()))
        _run_after_commit(batch.id)
    unit.commit()
    return count


def cancel(actor, batch_id) -> BulkBatch:
    """Stop a batch: rows not yet started are skipped (documents already sent stay sent)."""
    batch = batch_for(actor, batch_id)
    if batch.status not in ("validated", *QUEUED_OR_RUNNING):
        unit.rollback()
        raise DomainError(_("This batch has ended already."), 409)
    batch.status, batch.finished_at = "cancelled", utcnow()
    for status in ("valid", "pending", "invalid"):
        _set_rows(batch.id, status, "skipped")
    unit.commit()
    tell_finished(batch.id)
    return batch


def _set_rows(batch_id: int, old: str, new: str, **values) -> int:
    result = db.session.execute(update(BulkRow).where(
        BulkRow.batch_id == batch_id, BulkRow.status == old).values(status=new, **values))
    return result.rowcount


def _run_after_commit(batch_id: int) -> None:
    unit.after_commit(lambda: start_runs(batch_id))


# --- following -------------------------------------------------------------------------------

def batch_progress(batch_id: int) -> dict[str, int]:
    """How many rows are in each status (every status named, zero when none), and the total."""
    counts = dict.fromkeys(ROW_STATUSES, 0)
    counts.update(db.session.execute(
        select(BulkRow.status, func.count(BulkRow.id)).where(BulkRow.batch_id == batch_id)
        .group_by(BulkRow.status)).all())
    counts["total"] = sum(counts[status] for status in ROW_STATUSES)
    return counts


def neutralised(cell) -> str:
    """A cell a spreadsheet program shows as text, never runs as a formula."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def result_lines(batch: BulkBatch) -> list[list[str]]:
    """The results table: a header, then per row its status, client, document number and
    message, every cell neutralised. The CSV and the XLSX both write this."""
    rows = db.session.execute(
        select(BulkRow, Document.number).outerjoin(Document, Document.id == BulkRow.document_id)
        .where(BulkRow.batch_id == batch.id).order_by(BulkRow.row_number)).all()
    lines = [list(RESULT_COLUMNS)]
    for row, number in rows:
        message = row.last_error or "; ".join(row.errors.values())
        lines.append([neutralised(cell) for cell in (
            row.row_number, row.status, row.values.get("name", ""), row.values.get("email", ""),
            row.values.get("phone", ""), number or "", message)])
    return lines


def results_csv(batch: BulkBatch) -> str:
    """The results as UTF-8 CSV text."""
    output = io.StringIO()
    csv.writer(output).writerows(result_lines(batch))
    return output.getvalue()


def results_xlsx(batch: BulkBatch) -> bytes:
    """The results as an XLSX workbook; every cell is stored as text, so nothing is a formula."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Results"))
    for line in result_lines(batch):
        sheet.append([_text_cell(sheet, value) for value in line])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    # openpyxl reads a string starting with "=" as a formula; a cell typed as a string is not.
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell
