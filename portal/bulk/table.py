"""From a spreadsheet's rows of cells to a table: a named header and bounded data rows.

Shared by the CSV reader (in the web process) and the XLSX reader (in the sandbox's child,
portal/bulk/xlsx.py), so both refuse the same things in the same way. Nothing here needs the
app: the limits come in as arguments, a refusal leaves as SheetProblem with its code and the
numbers of its message (portal/bulk/sheet.py words it in the user's language).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from portal.sandbox import ExpectedError

EMPTY = "empty"
TOO_LARGE = "too_large"
NOT_SUPPORTED = "not_supported"
DAMAGED_XLSX = "damaged_xlsx"
UNPACKS_TOO_LARGE = "unpacks_too_large"
NUL_BYTES = "nul_bytes"
UNKNOWN_ENCODING = "unknown_encoding"
ONE_COLUMN = "one_column"
DAMAGED_CSV = "damaged_csv"
EMPTY_HEADER = "empty_header"
DUPLICATE_HEADER = "duplicate_header"
TOO_MANY_COLUMNS = "too_many_columns"
CELL_TOO_LONG = "cell_too_long"
NO_ROWS = "no_rows"
TOO_MANY_ROWS = "too_many_rows"
TOO_COMPLEX = "too_complex"
BUSY = "busy"


class SheetProblem(ExpectedError):
    """The spreadsheet is refused for `code`; `numbers` fill in its message. Crosses processes."""

    def __init__(self, code: str, **numbers):
        super().__init__(code, numbers)
        self.code = code
        self.numbers = numbers

    def __reduce__(self):
        return _problem, (self.code, self.numbers)


def _problem(code: str, numbers: dict) -> SheetProblem:
    return SheetProblem(code, **numbers)


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_columns: int
    max_cell_chars: int


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]


def tabulate(records: Iterable[tuple[int, list[str]]], limits: Limits) -> Table:
    """The first non-blank record names the columns; every later non-blank one is a data row.

    `records` are (1-based row number, cells) as the user sees them in a spreadsheet program.
    Blank rows are skipped wherever they are (a separator line is not a client), and data
    rows are padded or cut to the header's width. Stops reading at the first refusal, so a
    file of a million rows costs no more than one just over the limit.
    """
    headers: list[str] | None = None
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    for number, raw_cells in records:
        cells = [cell.strip() for cell in raw_cells]
        if not any(cells):
            continue
        if headers is None:
            headers = _headers(number, cells, limits)
            continue
        if len(rows) == limits.max_rows:
            raise SheetProblem(TOO_MANY_ROWS, limit=limits.max_rows)
        row = (cells + [""] * len(headers))[:len(headers)]
        _check_lengths(number, row, limits)
        rows.append(row)
        row_numbers.append(number)
    if headers is None:
        raise SheetProblem(EMPTY)
    if not rows:
        raise SheetProblem(NO_ROWS)
    return Table(headers, rows, row_numbers)


def _headers(number: int, cells: list[str], limits: Limits) -> list[str]:
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) > limits.max_columns:
        raise SheetProblem(TOO_MANY_COLUMNS, limit=limits.max_columns)
    _check_lengths(number, cells, limits)
    seen: dict[str, int] = {}
    for index, name in enumerate(cells):
        if not name:
            raise SheetProblem(EMPTY_HEADER, row=number, column=column_letter(index))
        key = name.casefold()
        if key in seen:
            raise SheetProblem(DUPLICATE_HEADER, name=name, first=column_letter(seen[key]),
                               second=column_letter(index))
        seen[key] = index
    return cells


def _check_lengths(number: int, cells: list[str], limits: Limits) -> None:
    for index, cell in enumerate(cells):
        if len(cell) > limits.max_cell_chars:
            raise SheetProblem(CELL_TOO_LONG, row=number, column=column_letter(index),
                               limit=limits.max_cell_chars)


def column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet names it: 0 is A, 25 is Z, 26 is AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
