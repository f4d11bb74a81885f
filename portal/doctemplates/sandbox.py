"""The Jinja sandbox document templates run in: no files, no Python internals, bounded output."""

import operator
import traceback
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_decimal
from flask_babel import gettext as _
from jinja2 import ChainableUndefined, TemplateSyntaxError, pass_context
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from portal.errors import DomainError
from portal.validation import format_phone

MAX_OUTPUT_CHARS = 2 * 1024 * 1024  # the HTML a template may produce
MAX_SOURCE_CHARS = 200_000
MAX_RANGE = 1000
MAX_STRING = 200_000  # any single string a template builds with *, % or a filter
TEMPLATE_NAME = "<template>"

# Babel locales per document language: pt_PT groups thousands with a space, like ru.
BABEL_LOCALES = {"en": "en_US", "ru": "ru_RU", "pt": "pt_PT"}

# str methods a template may call; padding and format methods are left out (a width of a
# billion would allocate gigabytes).
SAFE_STR_METHODS = frozenset({
    "upper", "lower", "title", "capitalize", "casefold", "swapcase", "strip", "lstrip",
    "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "partition",
    "rpartition", "removeprefix", "removesuffix", "count", "find", "rfind", "isdigit",
    "isalpha", "isalnum", "isspace", "isupper", "islower",
})

# Built-in filters kept: none of them reaches files, Python internals or unbounded sizes.
KEPT_FILTERS = (
    "abs", "batch", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first",
    "float", "groupby", "int", "items", "join", "last", "length", "list", "lower", "map",
    "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "select",
    "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "trim", "truncate",
    "unique", "upper", "wordcount", "wordwrap",
)
# Filters whose result is a string that could grow with their arguments.
SIZE_CHECKED_FILTERS = ("join", "replace", "wordwrap")


class TemplateRefused(DomainError):
    """A template cannot be rendered: syntax, a forbidden construct, or a PDF error."""

    status = 422

    def __init__(self, message: str, line: int | None = None):
        full = _("Line %(line)s: %(message)s", line=line, message=message) if line else message
        super().__init__(full)
        self.detail = message
        self.line = line


def _check_size(value):
    if isinstance(value, str | list | tuple) and len(value) > MAX_STRING:
        raise SecurityError(f"a value longer than {MAX_STRING} characters was built")
    return value


def _size_checked(function):
    def checked(*args, **kwargs):
        return _check_size(function(*args, **kwargs))

    checked.__dict__.update(function.__dict__)  # keeps jinja's pass_* markers
    return checked


def safe_range(*args):
    """range() capped at MAX_RANGE items."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE} items")
    return numbers


def to_decimal(value) -> Decimal | None:
    """A Decimal from a number or a numeric string ("1 234,5" included), else None."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def babel_locale(language: str) -> str:
    return BABEL_LOCALES.get(language, "en_US")


def format_money(value, language: str, currency: str | None = None) -> str:
    """1,234.50 (en) or 1 234,50 (ru, pt), with the currency code after when given."""
    number = to_decimal(value)
    if number is None:
        return ""
    # Babel rounds half to even; accountants (and our totals) round half up.
    number = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format_decimal(number, format="#,##0.00", locale=babel_locale(language))
    return f"{text}\u00a0{currency}" if currency else text


def format_number(value, language: str) -> str:
    """A quantity: grouped, with only the decimals it has (2.5, 1 000)."""
    number = to_decimal(value)
    if number is None:
        return ""
    return format_decimal(number.normalize(), format="#,##0.###", locale=babel_locale(language))


def format_long_date(value, language: str) -> str:
    """A long date in the document's language: March 5, 2026 / 5 марта 2026 г."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            return value
    if not isinstance(value, date):
        return ""
    return format_date(value, format="long", locale=babel_locale(language))


def _language(context) -> str:
    return context.get("language") or "en"


@pass_context
def money_filter(context, value, currency=None):
    return format_money(value, _language(context), currency)


@pass_context
def number_filter(context, value):
    return format_number(value, _language(context))


@pass_context
def date_filter(context, value):
    return format_long_date(value, _language(context))


def phone_filter(value) -> str:
    """A stored number (+74950000001) spaced for reading (+7 495 000-00-01); other text as is."""
    return format_phone(str(value)) if value else ""


def nl2br(value) -> Markup:
    """Line breaks kept (addresses, terms), everything else escaped."""
    text = "" if value is None else str(value)
    return Markup("<br/>").join(escape(line) for line in text.splitlines())


class DocumentSandbox(ImmutableSandboxedEnvironment):
    """No loader, no globals but ours, a short list of filters, size-checked operators."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self):
        super().__init__(autoescape=True, undefined=ChainableUndefined, loader=None)
        self.globals.clear()
        self.globals["range"] = safe_range
        self.filters = {name: self.filters[name] for name in KEPT_FILTERS}
        for name in SIZE_CHECKED_FILTERS:
            self.filters[name] = _size_checked(self.filters[name])
        self.filters.update(money=money_filter, number=number_filter, date=date_filter,
                            phone=phone_filter, nl2br=nl2br)

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if isinstance(obj, str) and callable(value) and attr not in SAFE_STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value):
        # str.format is not in SAFE_STR_METHODS ("{:999999999}" allocates gigabytes).
        return None

    def unsafe_undefined(self, obj, attribute):
        # Refuse loudly: a silent empty value would hide the attempt from the author.
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} is not allowed")

    def call_binop(self, context, operator_name, left, right):
        if operator_name == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not available; use ~ and filters")
        if operator_name == "**" and isinstance(right, int | float | Decimal) and abs(right) > 64:
            raise SecurityError("exponents above 64 are not allowed")
        if operator_name == "*":
            for sequence, count in ((left, right), (right, left)):
                if (isinstance(sequence, str | list | tuple) and isinstance(count, int)
                        and len(sequence) * count > MAX_STRING):
                    raise SecurityError(f"a value longer than {MAX_STRING} characters was built")
        return BINOPS[operator_name](left, right)

    def _load_template(self, name, globals):
        raise SecurityError("include, import and extends are not available in document templates")


BINOPS = {"*": operator.mul, "**": operator.pow, "%": operator.mod}


@lru_cache(maxsize=1)
def sandbox() -> DocumentSandbox:
    return DocumentSandbox()


@lru_cache(maxsize=64)
def _compile(source: str):
    return sandbox().from_string(source)


def _line_of(error: BaseException) -> int | None:
    """The template line an error was raised on (Jinja rewrites tracebacks to point there)."""
    line = getattr(error, "lineno", None)
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == TEMPLATE_NAME:
            line = frame.lineno
    return line


def _refusal(error: Exception) -> TemplateRefused:
    if isinstance(error, TemplateRefused):
        # Raised by one of our helpers (anchor): add the line it was called from.
        return error if error.line else TemplateRefused(error.detail, _line_of(error))
    if isinstance(error, TemplateSyntaxError):
        return TemplateRefused(_("Syntax error: %(error)s", error=error.message), error.lineno)
    if isinstance(error, SecurityError):
        message = _("Not allowed in a document template: %(error)s", error=str(error))
    elif isinstance(error, TemplateError):
        message = str(error.message or error)
    else:
        message = f"{type(error).__name__}: {error}"
    return TemplateRefused(message, _line_of(error))


def compile_template(source: str):
    """The compiled template, or TemplateRefused with the line of a syntax error."""
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateRefused(_("The template is too long (more than %(count)s characters).",
                                count=MAX_SOURCE_CHARS))
    try:
        return _compile(source)
    except Exception as error:  # syntax errors and sandbox refusals at compile time
        raise _refusal(error) from error


def render_html(source: str, context: dict) -> str:
    """Render the template's HTML in the sandbox, stopping once the output is too large."""
    template = compile_template(source)
    parts, size = [], 0
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateRefused(_("The template produces more than %(size)s MB of HTML.",
                                        size=MAX_OUTPUT_CHARS // (1024 * 1024)))
            parts.append(chunk)
    except Exception as error:  # any failure inside the template is the author's to fix
        raise _refusal(error) from error
    return "".join(parts)
