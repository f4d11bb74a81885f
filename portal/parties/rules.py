"""How each field of a company or counterparty is cleaned and checked.

One table serves the forms (field errors as people type) and the services (the final word,
also for callers that never saw a form).
"""

import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation

from portal.config import LANGUAGES
from portal.parties.zones import is_zone_name
from portal.validation import InvalidContact, normalise_email_address, normalise_phone

TEXT = "text"  # one line: surrounding and repeated spaces removed
MULTILINE = "multiline"  # notes: line breaks kept
COMPACT = "compact"  # codes and account numbers: no spaces, upper case
EMAIL = "email"
PHONE = "phone"
ZONE = "zone"  # an IANA time zone name from portal.parties.zones


class InvalidValue(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Rule:
    max_length: int
    style: str = TEXT
    required: bool = False
    pattern: str | None = None
    pattern_message: object = None
    field_flags: dict = field(default_factory=dict)


def rule(max_length, style=TEXT, required=False, pattern=None, pattern_message=None) -> Rule:
    return Rule(max_length, style, required, pattern, pattern_message,
                {"required": True} if required else {})


# Codes of many countries: letters, digits and the separators people use in them.
_CODE = r"[A-Z0-9./\-]+"

REQUISITE_RULES = {
    "tax_id": rule(32, COMPACT, pattern=_CODE, pattern_message=_l(
        "Use letters and digits only, e.g. 7707083893 or PT123456789.")),
    "kpp": rule(16, COMPACT, pattern=r"\d{4}[0-9A-Z]{2}\d{3}", pattern_message=_l(
        "A KPP has 9 characters, e.g. 770701001.")),
    "registration_number": rule(32),
    "address": rule(500),
    "bank_name": rule(200),
    "bank_account": rule(64, COMPACT, pattern=_CODE, pattern_message=_l(
        "Use letters and digits only, e.g. 40702810900000000001 or GB29NWBK60161331926819.")),
    "correspondent_account": rule(64, COMPACT, pattern=_CODE, pattern_message=_l(
        "Use digits only, e.g. 30101810400000000225.")),
    "bank_code": rule(32, COMPACT, pattern=_CODE, pattern_message=_l(
        "Use letters and digits only, e.g. 044525225 (BIK) or BARCGB22 (SWIFT).")),
}

COMPANY_RULES = {
    "legal_name": rule(300, required=True),
    "short_name": rule(120),
    "email": rule(254, EMAIL),
    "phone": rule(32, PHONE),
    **REQUISITE_RULES,
    "signer_name": rule(200, required=True),
    "signer_position": rule(200),
    "signer_email": rule(254, EMAIL),
    "signer_phone": rule(32, PHONE),
    "language": rule(8, pattern="|".join(LANGUAGES), pattern_message=_l(
        "Choose one of the offered languages.")),
    "time_zone": rule(64, ZONE),
}

COUNTERPARTY_RULES = {
    "name": rule(300, required=True),
    "representative_name": rule(200),
    "representative_position": rule(200),
    "email": rule(254, EMAIL),
    "phone": rule(32, PHONE),
    "notes": rule(5000, MULTILINE),
    **REQUISITE_RULES,
}

# Retention periods of a company, in days after completion (0 or empty: never); about a century
# at most, so a typo of extra digits is refused rather than read as "forever".
RETENTION_FIELDS = ("retention_files_days", "retention_mask_days")
RETENTION_MAX_DAYS = 36500


def clean_days(value) -> int:
    """A retention period as stored (0: off), or InvalidValue."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise InvalidValue(_("Enter a whole number of days.")) from None
    if not 0 <= days <= RETENTION_MAX_DAYS:
        raise InvalidValue(_("Enter a number of days from %(low)d to %(high)d (0 or empty: "
                             "never).", low=0, high=RETENTION_MAX_DAYS))
    return days


# Only a company counterparty has these; a person's are emptied on save.
COMPANY_ONLY_FIELDS = ("representative_name", "representative_position", *REQUISITE_RULES)


def _tidy(value, style: str) -> str:
    text = "" if value is None else str(value)
    if style == MULTILINE:
        return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    if style == COMPACT:
        return "".join(text.split()).upper()
    return " ".join(text.split())


def clean_value(checked: Rule, value) -> str:
    """The value in its stored form, or InvalidValue with a message for the user."""
    text = _tidy(value, checked.style)
    if not text:
        if checked.required:
            raise InvalidValue(_("This field is required."))
        return ""
    try:
        if checked.style == EMAIL:
            return normalise_email_address(text)
        if checked.style == PHONE:
            return normalise_phone(text, current_app.config.get("SIGNET_PHONE_REGION"))
    except InvalidContact as error:
        raise InvalidValue(error.message) from error
    if len(text) > checked.max_length:
        raise InvalidValue(
            _("Too long: at most %(max)d characters, this has %(length)d.",
              max=checked.max_length, length=len(text))
        )
    if checked.style == ZONE and not is_zone_name(text):
        raise InvalidValue(_("Choose one of the offered time zones."))
    if checked.pattern and not re.fullmatch(checked.pattern, text):
        raise InvalidValue(str(checked.pattern_message))
    return text


def clean_fields(data: dict, rules: dict) -> tuple[dict, dict]:
    """(cleaned values, errors by field name) for every field in `rules`; missing means empty."""
    cleaned, errors = {}, {}
    for name, checked in rules.items():
        try:
            cleaned[name] = clean_value(checked, data.get(name))
        except InvalidValue as error:
            errors[name] = error.message
    return cleaned, errors


class Check:
    """WTForms validator applying a Rule: the field shows the stored form or the error."""

    def __init__(self, checked: Rule):
        self.rule = checked
        self.field_flags = checked.field_flags

    def __call__(self, form, field):
        try:
            field.data = clean_value(self.rule, field.data)
        except InvalidValue as error:
            raise StopValidation(error.message) from error
