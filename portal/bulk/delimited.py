"""An uploaded CSV read into a table; runs only inside the sandbox (portal/sandbox.py).

Russian Excel saves "CSV" in cp1251 with semicolons; others write UTF-8 (Excel with a BOM)
with commas or tabs. The encoding and the delimiter are found here, then the rows go through
the same table rules as a workbook's (portal/bulk/table.py). A few megabytes of CSV built to
split into millions of cells would cost the parser hundreds of megabytes: hence the sandbox.
"""

import csv
import re
from io import StringIO

from portal.bulk import table
from portal.bulk.table import Limits, SheetProblem, Table
from portal.sandbox import preload

preload(__name__)

DELIMITERS = ";\t,"  # in order of preference on a tie
# Text never holds C0 control characters but tab and line ends: bytes that decode to them
# are a binary file or an encoding we do not read.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def read_csv(data: bytes, limits: Limits) -> tuple[Table, str, str]:
    """The table, the encoding it was read with, and its delimiter."""
    if b"\x00" in data:
        raise SheetProblem(table.NUL_BYTES)
    text, encoding = _decoded(data)
    delimiter = _delimiter(text)
    reader = csv.reader(StringIO(text, newline=""), delimiter=delimiter, strict=False,
                        skipinitialspace=True)
    try:
        # Numbered by record, as a spreadsheet program numbers rows (a quoted line break
        # stays inside its cell).
        found = table.tabulate(enumerate(reader, start=1), limits)
    except csv.Error as error:
        # The only error left with strict=False: a cell beyond the csv module's own limit
        # (128 KiB), most often a quotation mark never closed swallowing the rest of the file.
        raise SheetProblem(table.DAMAGED_CSV, line=reader.line_num) from error
    return found, encoding, delimiter


def _decoded(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (with or without the BOM Excel writes), else cp1251."""
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not CONTROL_CHARACTERS.search(text):
            return text, "utf-8" if encoding == "utf-8-sig" else encoding
    raise SheetProblem(table.UNKNOWN_ENCODING)


def _delimiter(text: str) -> str:
    """The character that splits the header line into the most columns: `;`, tab or `,`.

    csv.Sniffer alone is fooled by a header such as `Имя;Сумма, руб.;Почта` (it picks the
    comma); its guess only settles a tie, and without one `;` wins: what Russian Excel writes.
    """
    header = next((line for line in StringIO(text, newline="") if line.strip()), None)
    if header is None:
        raise SheetProblem(table.EMPTY)
    try:
        guess = csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:
        guess = None
    best = max(DELIMITERS, key=lambda delimiter: (_columns(header, delimiter),
                                                  delimiter == guess))
    if _columns(header, best) < 2:
        raise SheetProblem(table.ONE_COLUMN)
    return best


def _columns(line: str, delimiter: str) -> int:
    cells = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
    return sum(1 for cell in cells if cell.strip())
