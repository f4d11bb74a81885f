"""Document numbers per company: a pattern such as ACT-{year}-{seq:05d} and a counter per scope.

The scope is the pattern rendered with everything but {seq} ("ACT-2026-{seq}"), so each
document type and year (or month) counts from 1 on its own.
"""

import hashlib
import string
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.documents.errors import NumberPatternInvalid
from portal.documents.models import NumberSequence
from portal.extensions import db

PLACEHOLDERS = ("type", "year", "month", "seq")
MAX_NUMBER_LENGTH = 64
_FORMATTER = string.Formatter()
_SAMPLE = {"type": "ACT", "year": 2026, "month": 12, "seq": 123456}


def _parts(pattern: str) -> list[tuple[str, str | None, str, str | None]]:
    try:
        return list(_FORMATTER.parse(pattern or ""))
    except ValueError as error:
        raise NumberPatternInvalid(_(
            "The number pattern has an unmatched { or }. Write literal braces twice: {{ }}."
        )) from error


def _render(parts, values: dict, keep_seq: bool = False) -> str:
    out = []
    for literal, name, spec, _conversion in parts:
        out.append(literal)
        if name is None:
            continue
        if name == "seq" and keep_seq:
            out.append("{seq}")
        else:
            out.append(format(values[name], spec or ""))
    return "".join(out)


def check_pattern(pattern: str) -> list:
    """The parsed pattern, or NumberPatternInvalid saying what is wrong with it."""
    parts = _parts(pattern)
    names = [name for _literal, name, _spec, _conv in parts if name is not None]
    for name in names:
        if name not in PLACEHOLDERS:
            raise NumberPatternInvalid(_(
                "The number pattern uses an unknown placeholder {%(name)s}. "
                "Use {type}, {year}, {month} and {seq}, e.g. {type}-{year}-{seq:05d}.",
                name=name,
            ))
    if any(conversion for _literal, _name, _spec, conversion in parts):
        raise NumberPatternInvalid(_("The number pattern may not use conversions such as !r."))
    if names.count("seq") != 1:
        raise NumberPatternInvalid(_(
            "The number pattern needs {seq} exactly once (the running number), "
            "e.g. {type}-{year}-{seq:05d}."
        ))
    try:
        sample = _render(parts, _SAMPLE)
    except (ValueError, TypeError) as error:
        raise NumberPatternInvalid(_(
            "A format in the number pattern does not fit its placeholder: %(error)s. "
            "Numbers take formats such as {seq:05d} or {month:02d}.",
            error=str(error),
        )) from error
    if len(sample) > MAX_NUMBER_LENGTH:
        raise NumberPatternInvalid(_(
            "The number pattern makes numbers longer than %(max)d characters.",
            max=MAX_NUMBER_LENGTH,
        ))
    return parts


def local_today() -> date:
    """Today in the portal's time zone (numbers change year at local midnight)."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    return datetime.now(zone).date()


def _scope_key(scope: str) -> str:
    # The column holds 64 characters; a longer scope is named by its digest instead.
    if len(scope) <= 64:
        return scope
    return hashlib.sha256(scope.encode()).hexdigest()


def _bump(company_id: int, scope: str) -> int | None:
    table = NumberSequence.__table__
    where = (table.c.company_id == company_id) & (table.c.scope == scope)
    statement = update(table).where(where).values(last_value=table.c.last_value + 1)
    if db.engine.dialect.update_returning:
        return db.session.execute(statement.returning(table.c.last_value)).scalar_one_or_none()
    if db.session.execute(statement).rowcount == 0:
        return None
    return db.session.execute(select(table.c.last_value).where(where)).scalar_one()


def _increment(company_id: int, scope: str) -> int:
    """Add one to the counter and return it; the row stays locked until the caller commits.

    The UPDATE locks the counter row, so a concurrent creator waits for our commit and then
    reads the next value. On first use two creators may both try to insert the row: the
    loser's savepoint rolls back and it retries the UPDATE, which now finds the row.
    """
    for _attempt in range(5):
        value = _bump(company_id, scope)
        if value is not None:
            return value
        try:
            with db.session.begin_nested():
                db.session.execute(insert(NumberSequence.__table__).values(
                    company_id=company_id, scope=scope, last_value=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not advance the number sequence {company_id}/{scope}")


def next_number(company, template_kind_code: str, today: date | None = None) -> str:
    """The company's next document number for this type ("ACT"), e.g. ACT-2026-00042."""
    parts = check_pattern(company.number_pattern)
    today = today or local_today()
    values = {"type": template_kind_code, "year": today.year, "month": today.month}
    scope = _scope_key(_render(parts, values, keep_seq=True))
    return _render(parts, {**values, "seq": _increment(company.id, scope)})
