"""Paging the list by position instead of by offset: "the rows after this one" reads as few
rows at page 400 as at page 1.

The list sorts by one column (nulls last, either direction) with the id breaking ties. A cursor
names a row's place in that order: whether its sort value is null, the value, and the id.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_

from portal.documents.services.common import as_utc


@dataclass(frozen=True)
class Position:
    is_null: bool
    value: object
    id: int


def cursor_of(value, row_id: int) -> str:
    """The cursor of a row with this sort value and id (opaque to the reader, kept in URLs)."""
    if value is None:
        return f"1~~{row_id}"
    shown = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"0~{shown}~{row_id}"


def parse_position(cursor: str, is_time: bool) -> Position | None:
    """The position a cursor names; None when it is malformed (the list then starts over)."""
    try:
        flag, rest = str(cursor or "").split("~", 1)
        shown, row_id = rest.rsplit("~", 1)
        if flag not in ("0", "1"):
            return None
        is_null = flag == "1"
        value = None if is_null else (as_utc(datetime.fromisoformat(shown)) if is_time
                                      else shown)
        return Position(is_null, value, int(row_id))
    except ValueError:
        return None


def after(column, id_column, descending: bool, position: Position):
    """Rows after `position` in the order (column nulls last, id), both ascending or both
    descending."""
    beyond = (lambda a, b: a < b) if descending else (lambda a, b: a > b)
    if position.is_null:
        return and_(column.is_(None), beyond(id_column, position.id))
    return or_(column.is_(None), beyond(column, position.value),
               and_(column == position.value, beyond(id_column, position.id)))


def before(column, id_column, descending: bool, position: Position):
    """Rows before `position` in the same order."""
    behind = (lambda a, b: a > b) if descending else (lambda a, b: a < b)
    if position.is_null:
        return or_(column.is_not(None), and_(column.is_(None), behind(id_column, position.id)))
    return and_(column.is_not(None),
                or_(behind(column, position.value),
                    and_(column == position.value, behind(id_column, position.id))))


def ordering(column, id_column, descending: bool, *, reverse: bool = False) -> tuple:
    """ORDER BY for the list (reverse: read backwards from a cursor, nulls first)."""
    if descending != reverse:
        ordered, tiebreak = column.desc(), id_column.desc()
    else:
        ordered, tiebreak = column.asc(), id_column.asc()
    return (ordered.nulls_first() if reverse else ordered.nulls_last(), tiebreak)
