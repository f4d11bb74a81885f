"""Read an uploaded spreadsheet (CSV or XLSX) of clients into rows of text, within limits.

The file comes from a user's computer: Russian Excel saves CSV in cp1251 with semicolons,
others UTF-8 with commas or tabs, an XLSX is a zip that may be a bomb. Whatever arrives, the
result is a Sheet or a SheetRefused whose message says, in the user's language, what is wrong
and how to fix it. The file is parsed in the sandbox (portal/bulk/delimited.py for CSV,
portal/bulk/xlsx.py for XLSX), so a hostile one costs a child process, not the web process.
"""

import logging
from dataclasses import dataclass
from pathlib import PurePath

from flask import current_app, has_app_context
from flask_babel import gettext as _

from portal.bulk import table
from portal.bulk.delimited import read_csv
from portal.bulk.table import Limits, SheetProblem, Table
from portal.bulk.xlsx import read_xlsx
from portal.errors import DomainError
from portal.pdfs.bounded import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT
from portal.sandbox import BUSY, SandboxFailure, run_isolated

log = logging.getLogger(__name__)

DEFAULTS = {
    "SIGNET_BULK_MAX_ROWS": 1000,
    "SIGNET_BULK_MAX_BYTES": 5 * 1024 * 1024,
    "SIGNET_BULK_MAX_COLUMNS": 100,
    "SIGNET_BULK_MAX_CELL_CHARS": 2000,
    # the bounds of every parse of an untrusted file, as portal/pdfs/bounded.py has them
    "SIGNET_FILE_TIMEOUT": DEFAULT_TIMEOUT,
    "SIGNET_FILE_MEMORY_MB": DEFAULT_MEMORY_MB,
}
CSV_SUFFIXES = {".csv", ".txt", ".tsv", ""}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
ZIP_MAGIC = b"PK\x03\x04"
BINARY_MAGICS = (
    b"\xd0\xcf\x11\xe0",  # an OLE container: Excel 97-2003 .xls, or a password-protected .xlsx
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
)


@dataclass(frozen=True)
class Sheet:
    """The named columns and the data rows (each as wide as `headers`), every cell stripped.

    `row_numbers[i]` is the row of `rows[i]` as the spreadsheet program numbers it (the
    header is usually row 1), so a message can say "row 7". `encoding` and `delimiter` are
    what a CSV was read with; None for an XLSX.
    """

    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    encoding: str | None
    delimiter: str | None


class SheetRefused(DomainError):
    """The spreadsheet cannot be read; `message` tells the user why and what to do."""

    status = 422

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


def _setting(name: str):
    """A limit from the app's settings; outside an app (a script) the defaults apply."""
    config = current_app.config if has_app_context() else {}
    return config.get(name, DEFAULTS[name])


def limits() -> Limits:
    """The bounds of one batch's rows, from the settings."""
    return Limits(max_rows=_setting("SIGNET_BULK_MAX_ROWS"),
                  max_columns=_setting("SIGNET_BULK_MAX_COLUMNS"),
                  max_cell_chars=_setting("SIGNET_BULK_MAX_CELL_CHARS"))


def read_sheet(data: bytes, filename: str) -> Sheet:
    """The uploaded file's first sheet, or SheetRefused saying why not."""
    bounds = limits()
    try:
        if len(data) > _setting("SIGNET_BULK_MAX_BYTES"):
            raise SheetProblem(table.TOO_LARGE)
        if not data.strip():
            raise SheetProblem(table.EMPTY)
        suffix = PurePath(filename or "").suffix.lower()
        if suffix in XLSX_SUFFIXES:
            return _read_workbook(data, bounds)
        if suffix in CSV_SUFFIXES and not data.startswith((ZIP_MAGIC, *BINARY_MAGICS)):
            return _read_text(data, bounds)
        raise SheetProblem(table.NOT_SUPPORTED)
    except SheetProblem as problem:
        raise refusal(problem.code, **problem.numbers) from None


def _read_workbook(data: bytes, limits: Limits) -> Sheet:
    if not data.startswith(ZIP_MAGIC):
        raise SheetProblem(table.DAMAGED_XLSX)
    return _sheet(_bounded(read_xlsx, data, limits), encoding=None, delimiter=None)


def _read_text(data: bytes, limits: Limits) -> Sheet:
    found, encoding, delimiter = _bounded(read_csv, data, limits)
    return _sheet(found, encoding=encoding, delimiter=delimiter)


def _bounded(reader, data: bytes, limits: Limits):
    """reader(data, limits) in the sandbox; a refusal (SheetProblem) when it gives no result."""
    try:
        return run_isolated(reader, data, limits, timeout=_setting("SIGNET_FILE_TIMEOUT"),
                            memory_mb=_setting("SIGNET_FILE_MEMORY_MB"))
    except SandboxFailure as failure:
        log.warning("A spreadsheet gave no result within the bounds: %s", failure)
        raise SheetProblem(table.BUSY if failure.reason == BUSY else table.TOO_COMPLEX) from None


def _sheet(found: Table, encoding: str | None, delimiter: str | None) -> Sheet:
    return Sheet(headers=found.headers, rows=found.rows, row_numbers=found.row_numbers,
                 encoding=encoding, delimiter=delimiter)


def refusal(code: str, **numbers) -> SheetRefused:
    """The SheetRefused for a refusal code, its message in the current language."""
    return SheetRefused(_MESSAGES[code](numbers), code)


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


_MESSAGES = {
    table.EMPTY: lambda n: _(
        "The file is empty: there is no row of column names and no clients. Choose the "
        "spreadsheet again and upload it."),
    table.TOO_LARGE: lambda n: _(
        "This file is larger than %(limit)s MB. Split the clients into smaller files.",
        limit=_megabytes(_setting("SIGNET_BULK_MAX_BYTES"))),
    table.NOT_SUPPORTED: lambda n: _(
        "This file is not a CSV or XLSX spreadsheet (an old .xls, an .ods or a PDF cannot be "
        "read). In Excel, LibreOffice or Google Sheets, save or download it as “CSV UTF-8” "
        "or as an Excel workbook (.xlsx) and upload that file."),
    table.DAMAGED_XLSX: lambda n: _(
        "This XLSX file is damaged or is not really an Excel workbook. Open it in Excel, "
        "LibreOffice or Google Sheets, save it again as an Excel workbook (.xlsx) and upload "
        "that file."),
    table.UNPACKS_TOO_LARGE: lambda n: _(
        "This XLSX file unpacks to far more data than a list of clients needs, so it is not "
        "opened. Copy the clients to a new workbook, save it and upload that file."),
    table.NUL_BYTES: lambda n: _(
        "This file contains zero bytes, so it is not a plain-text CSV (Excel's “Unicode "
        "text” is saved like this). Save it as “CSV UTF-8” or as an Excel workbook (.xlsx) "
        "and upload that file."),
    table.UNKNOWN_ENCODING: lambda n: _(
        "The text of this file is neither UTF-8 nor Windows Cyrillic (cp1251), so its letters "
        "cannot be read. Save it as “CSV UTF-8” or as an Excel workbook (.xlsx) and upload "
        "that file."),
    table.ONE_COLUMN: lambda n: _(
        "The first row should name the columns, separated by semicolons, commas or tabs; "
        "this file's first row has a single column. Check the file, or upload it as an "
        "Excel workbook (.xlsx)."),
    table.DAMAGED_CSV: lambda n: _(
        "Line %(line)d of this file cannot be read: a cell there runs on for far too long, "
        "most likely after a quotation mark that is never closed. Correct it and upload the "
        "file again.", line=n["line"]),
    table.EMPTY_HEADER: lambda n: _(
        "Column %(column)s has no name in the first row (row %(row)d). Name every column, "
        "or delete the empty one, and upload the file again.",
        column=n["column"], row=n["row"]),
    table.DUPLICATE_HEADER: lambda n: _(
        "Two columns are named “%(name)s” (columns %(first)s and %(second)s). Give each "
        "column its own name and upload the file again.",
        name=n["name"], first=n["first"], second=n["second"]),
    table.TOO_MANY_COLUMNS: lambda n: _(
        "The file has more than %(limit)d columns. Keep only the columns the documents "
        "need and upload it again.", limit=n["limit"]),
    table.CELL_TOO_LONG: lambda n: _(
        "The cell in row %(row)d, column %(column)s is longer than %(limit)d characters. "
        "Shorten it and upload the file again.",
        row=n["row"], column=n["column"], limit=n["limit"]),
    table.NO_ROWS: lambda n: _(
        "The file has a row of column names but no clients below it. Add one row per "
        "client and upload it again."),
    table.TOO_MANY_ROWS: lambda n: _(
        "The file has more than %(limit)d clients; one batch takes at most %(limit)d rows. "
        "Split the clients into several files.", limit=n["limit"]),
    table.TOO_COMPLEX: lambda n: _(
        "This spreadsheet needs more time or memory to open than the portal allows. Copy "
        "the clients to a new workbook, or save them as “CSV UTF-8”, and upload that file."),
    table.BUSY: lambda n: _(
        "The portal is busy processing other files right now. Try again in a minute."),
}
