"""Rows sent as JSON objects (the API) turned into the Sheet a spreadsheet gives.

`[{"name": "Maria Silva", "email": "maria@example.com", "amount": 1500}, ...]` is a sheet
whose columns are the keys (in the order they first appear) and whose row N is the N-th
object. The same bounds as an uploaded file apply (rows, columns, characters per cell, via
table.tabulate), and from here on the rows take the file's path: mapping, checks, batch.
"""

import json

from flask_babel import gettext as _

from portal.bulk import table
from portal.bulk.sheet import Sheet, SheetRefused, limits, refusal
from portal.bulk.table import SheetProblem

# A batch made from JSON rows keeps them as this blob name; `read_records` reads it back.
RECORDS_FILENAME = "rows.json"
RECORDS_CONTENT_TYPE = "application/json"


def sheet_from_records(records) -> Sheet:
    """The sheet of a list of flat objects, or SheetRefused saying what is wrong."""
    bounds = limits()
    if not isinstance(records, list):
        raise SheetRefused(_("Send the rows as a list of objects: "
                             "[{\"name\": \"...\", \"email\": \"...\"}, ...]."), "not_a_list")
    if len(records) > bounds.max_rows:  # before looking at any of them
        raise _refused(table.TOO_MANY_ROWS, limit=bounds.max_rows)
    headers: dict[str, int] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise SheetRefused(_("Row %(row)d is not an object ({...}).", row=number),
                               "not_an_object")
        for key, value in record.items():
            if not isinstance(value, str | int | float) and value is not None:
                raise SheetRefused(_("Row %(row)d, “%(key)s”: give text or a number.",
                                     row=number, key=key[:100]), "not_a_value")
            if key not in headers:
                if len(headers) == bounds.max_columns:
                    raise _refused(table.TOO_MANY_COLUMNS, limit=bounds.max_columns)
                headers[key] = len(headers)
    lines = [(0, list(headers))]
    lines += [(number, [_text(record.get(key)) for key in headers])
              for number, record in enumerate(records, start=1)]
    try:
        found = table.tabulate(lines, bounds)
    except SheetProblem as problem:
        raise _refused(problem.code, **problem.numbers) from None
    return Sheet(headers=found.headers, rows=found.rows, row_numbers=found.row_numbers,
                 encoding=None, delimiter=None)


def records_blob(records: list) -> bytes:
    """The rows as kept with their batch (read back by `read_records`)."""
    return json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_records(data: bytes) -> Sheet:
    """The sheet of rows kept by `records_blob`."""
    return sheet_from_records(json.loads(data))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _refused(code: str, **numbers) -> SheetRefused:
    """The file's refusal, worded for rows rather than a file where the wording differs."""
    messages = {
        table.TOO_MANY_ROWS: lambda: _(
            "More than %(limit)d rows: one batch takes at most %(limit)d. Send the clients "
            "in several batches.", limit=numbers["limit"]),
        table.TOO_MANY_COLUMNS: lambda: _(
            "The rows have more than %(limit)d different keys. Send only the values the "
            "documents need.", limit=numbers["limit"]),
        table.CELL_TOO_LONG: lambda: _(
            "Row %(row)d: a value is longer than %(limit)d characters.",
            row=numbers["row"], limit=numbers["limit"]) if numbers["row"] else _(
            "A key is longer than %(limit)d characters.", limit=numbers["limit"]),
        table.EMPTY: lambda: _("Send at least one row."),
        table.NO_ROWS: lambda: _("Send at least one row."),
        table.EMPTY_HEADER: lambda: _("A key of the rows is empty: name every value."),
        table.DUPLICATE_HEADER: lambda: _(
            "The keys “%(name)s” and another one differ only in capitals; use one spelling.",
            name=numbers.get("name", "")),
    }
    if code in messages:
        return SheetRefused(messages[code](), code)
    return refusal(code, **numbers)

