"""Reading JSON bodies and query values, with a message for each bad value."""

import json
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import request
from flask_babel import gettext as _

from portal.api.errors import ApiError, invalid

MAX_INT = 2**31 - 1  # the database's integer columns


def json_body():
    """The request body parsed as JSON; a 400 when it is missing or malformed."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, _("Send a JSON body."))
    try:
        body = json.loads(raw)
    except ValueError as error:  # includes UnicodeDecodeError
        raise ApiError(400, _("The body is not valid JSON: %(error)s", error=str(error)),
                       code="invalid_json") from None
    except RecursionError:
        raise ApiError(400, _("The JSON is nested too deeply."), code="invalid_json") from None
    refuse_nul(body)
    return body


def refuse_nul(value) -> None:
    """422 if any text holds a NUL character (PostgreSQL cannot store one)."""
    pending = [value]
    while pending:  # a loop, not recursion: the JSON may be nested deeply
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ApiError(422, _("Text must not contain NUL characters (\\u0000)."))
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def json_object() -> dict:
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, _("Send a JSON object ({...})."), code="invalid_json")
    return body


def json_list(key: str) -> list:
    """A list sent bare ([...]) or wrapped ({"<key>": [...]})."""
    body = json_body()
    if isinstance(body, dict) and key in body:
        body = body[key]
    if not isinstance(body, list):
        raise invalid({key: _("Send a list: {\"%(key)s\": [...]}.", key=key)})
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            raise invalid({f"{key}[{index}]": _("Each entry must be an object ({...}).")})
    return body


class Reader:
    """Reads typed values out of a dict, collecting one message per bad field."""

    def __init__(self, data: dict, prefix: str = "", errors: dict | None = None):
        self.data = data
        self.prefix = prefix
        self.errors = {} if errors is None else errors

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(self.prefix + name, message)

    def has(self, name: str) -> bool:
        return self.data.get(name) not in (None, "")

    def _absent(self, name: str, required: bool) -> bool:
        if self.has(name):
            return False
        if required:
            self.fail(name, _("This value is required."))
        return True

    def integer(self, name: str, required: bool = False) -> int | None:
        if self._absent(name, required):
            return None
        value = self.data[name]
        # Form fields arrive as text: accept "12" as well as 12, never 12.5 or true.
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_INT:
            self.fail(name, _("Must be a positive whole number."))
            return None
        return value

    def text(self, name: str, required: bool = False, max_length: int = 300) -> str | None:
        if self._absent(name, required):
            return None
        value = self.data[name]
        if not isinstance(value, str):
            self.fail(name, _("Must be text."))
            return None
        value = value.strip()
        if len(value) > max_length:
            self.fail(name, _("At most %(max)d characters.", max=max_length))
            return None
        return value

    def decimal(self, name: str, required: bool = False, minimum: Decimal = Decimal(0),
                maximum: Decimal = Decimal("1e12")) -> Decimal | None:
        if self._absent(name, required):
            return None
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(name, _("Must be a number."))
            return None
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.fail(name, _("Must be a number."))
            return None
        if not minimum <= number <= maximum:
            self.fail(name, _("Must be between %(low)s and %(high)s.", low=minimum, high=maximum))
            return None
        return number

    def day(self, name: str, required: bool = False) -> date | None:
        if self._absent(name, required):
            return None
        value = self.data[name]
        try:
            return date.fromisoformat(value.strip())
        except (AttributeError, ValueError):
            self.fail(name, _("Must be a date as YYYY-MM-DD."))
            return None

    def choice(self, name: str, choices, required: bool = False) -> str | None:
        if self._absent(name, required):
            return None
        value = self.data[name]
        if value not in choices:
            self.fail(name, _("Must be one of: %(choices)s.", choices=", ".join(choices)))
            return None
        return value

    def mapping(self, name: str) -> dict | None:
        if self._absent(name, False):
            return None
        value = self.data[name]
        if not isinstance(value, dict):
            self.fail(name, _("Must be an object ({...})."))
            return None
        return value

    def check(self) -> None:
        """Raise a 422 naming every bad field, if any."""
        if self.errors:
            raise invalid(self.errors)


def query_int(name: str, default: int, maximum: int) -> int:
    """A positive integer from the query string, else a 422 naming it."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or not 0 < int(raw) <= maximum:
        raise invalid({name: _("Must be a whole number from 1 to %(max)d.", max=maximum)})
    return int(raw)
