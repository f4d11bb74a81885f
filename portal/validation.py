"""Shared checks for contact details: email addresses and phone numbers.

Both normalise what people type (spaces, dashes, brackets, letter case) to one stored form,
so lookups and duplicate checks compare like with like.
"""

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from wtforms.validators import StopValidation

PHONE_EXAMPLES = "+7 916 123-45-67, +351 912 345 678"


class InvalidContact(ValueError):
    """An email address or phone number that cannot be used; `message` is for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def normalise_email_address(value: str) -> str:
    """The address in its stored form (lower case), or InvalidContact."""
    value = (value or "").strip()
    if not value:
        raise InvalidContact(_("Enter an email address."))
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidContact(
            _("Enter a valid email address, like name@example.com.")
        ) from error
    # Mail servers treat the part before @ case-insensitively in practice, and logins and
    # duplicate checks compare lower-cased addresses: store one spelling.
    return result.normalized.lower()


def _phone_error(region: str | None) -> InvalidContact:
    if region:
        return InvalidContact(
            _("Enter a valid phone number, e.g. %(examples)s.", examples=PHONE_EXAMPLES)
        )
    return InvalidContact(
        _(
            "Enter the phone number in international format, starting with + and the country "
            "code, e.g. %(examples)s.",
            examples=PHONE_EXAMPLES,
        )
    )


def normalise_phone(value: str, region: str | None) -> str:
    """The number in E.164 (+79161234567), or InvalidContact.

    `region` (ISO code such as "RU") lets people type national numbers; None demands +.
    """
    value = (value or "").strip()
    if not value:
        raise InvalidContact(_("Enter a phone number."))
    if len(value) > 40:
        raise _phone_error(region)
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException as error:
        raise _phone_error(region) from error
    if not phonenumbers.is_valid_number(number):
        raise _phone_error(region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str) -> str:
    """An E.164 number spaced for reading (+7 916 123-45-67); anything else as it is."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value or ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class EmailAddress:
    """WTForms validator: normalises field.data in place; an empty field is left alone."""

    def __call__(self, form, field):
        if not (field.data or "").strip():
            field.data = ""
            return
        try:
            field.data = normalise_email_address(field.data)
        except InvalidContact as error:
            raise StopValidation(error.message) from error


class PhoneNumber:
    """WTForms validator: normalises field.data to E.164; an empty field is left alone.

    The default region comes from SIGNET_PHONE_REGION; without it numbers need a leading +.
    """

    def __call__(self, form, field):
        if not (field.data or "").strip():
            field.data = ""
            return
        region = current_app.config.get("SIGNET_PHONE_REGION")
        try:
            field.data = normalise_phone(field.data, region)
        except InvalidContact as error:
            raise StopValidation(error.message) from error
