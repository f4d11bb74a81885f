"""An uploaded XLSX workbook read into a table; runs only inside the sandbox (portal/sandbox.py).

An XLSX is a zip of XML: a few megabytes can declare gigabytes once unpacked, and openpyxl
holds the whole shared-strings table in memory. So the zip's directory is checked first (the
entries' declared sizes, which zipfile never inflates past), and the parse itself runs in a
child with a memory and time limit. Formulas are not evaluated: a formula cell gives the value
the spreadsheet program saved with it, or nothing.
"""

import datetime
import zipfile
from io import BytesIO

import openpyxl

from portal.bulk.table import (
    DAMAGED_XLSX,
    NOT_SUPPORTED,
    UNPACKS_TOO_LARGE,
    Limits,
    SheetProblem,
    Table,
    tabulate,
)
from portal.sandbox import preload

preload(__name__)

# A workbook of 1,000 clients unpacks to a few megabytes; these leave room for large styles
# and many sheets, and refuse a zip bomb before a byte of it is inflated.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ENTRIES = 1000
WORKBOOK_ENTRY = "xl/workbook.xml"


def read_xlsx(data: bytes, limits: Limits) -> Table:
    """The first sheet of the workbook as a table, cells as the spreadsheet displays them."""
    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True,
                                          keep_links=False)
    except SheetProblem:
        raise
    except Exception as error:  # openpyxl raises whatever its XML and zip readers raise
        raise SheetProblem(DAMAGED_XLSX) from error
    try:
        sheet = workbook.worksheets[0]
        # One column past the limit is enough to see that the header has too many.
        rows = sheet.iter_rows(max_col=limits.max_columns + 1, values_only=True)
        # openpyxl fills the gaps between rows with empty ones: a stray cell in row 900,000
        # must not cost 900,000 rows of conversions.
        records = ((number, [displayed(value) for value in cells])
                   for number, cells in enumerate(rows, start=1)
                   if cells.count(None) < len(cells))
        return tabulate(records, limits)
    except SheetProblem:
        raise
    except Exception as error:
        raise SheetProblem(DAMAGED_XLSX) from error
    finally:
        workbook.close()


def _check_zip(data: bytes) -> None:
    try:
        entries = zipfile.ZipFile(BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise SheetProblem(DAMAGED_XLSX) from error
    if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
        raise SheetProblem(UNPACKS_TOO_LARGE)
    if WORKBOOK_ENTRY not in {entry.filename for entry in entries}:
        # A zip, but not an Excel workbook: an OpenDocument sheet, a Word file, an archive.
        raise SheetProblem(NOT_SUPPORTED)


def displayed(value) -> str:
    """A cell's value as text the way a person reads it: 42 not 42.0, dates as 2026-12-03."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        # 15 significant digits, as Excel shows: 0.1 + 0.2 reads 0.3.
        return f"{value:.15g}"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
