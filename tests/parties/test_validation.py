"""Shared contact checks (portal/validation.py): what people type becomes one stored form."""

import pytest
from flask_wtf import FlaskForm
from wtforms import StringField

from portal import create_app
from portal.validation import (
    EmailAddress,
    InvalidContact,
    PhoneNumber,
    normalise_email_address,
    normalise_phone,
)


@pytest.fixture
def bare_app(tmp_path):
    """An app without a database: these checks never touch one."""
    return create_app({
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "WTF_CSRF_ENABLED": False,
        "SIGNET_PHONE_REGION": None,
    })


class ContactForm(FlaskForm):
    email = StringField("Email", validators=[EmailAddress()])
    phone = StringField("Phone", validators=[PhoneNumber()])


@pytest.mark.parametrize(("typed", "stored"), [
    ("  Maria.Silva@Example.COM ", "maria.silva@example.com"),
    ("info@vektor.example", "info@vektor.example"),
    ("иван@пример.рф", "иван@пример.рф"),
])
def test_email_addresses_are_trimmed_and_lower_cased(typed, stored):
    assert normalise_email_address(typed) == stored


@pytest.mark.parametrize("typed", ["not-an-email", "a@b", "two@@example.com", "", "   "])
def test_bad_email_addresses_are_refused_with_a_message(typed):
    with pytest.raises(InvalidContact) as refused:
        normalise_email_address(typed)
    assert isinstance(refused.value, ValueError)
    assert "email address" in refused.value.message


@pytest.mark.parametrize(("typed", "stored"), [
    ("+7 916 123-45-67", "+79161234567"),
    ("+7 (916) 123 45 67", "+79161234567"),
    ("+351 912 345 678", "+351912345678"),
    ("+1 (202) 555-0143", "+12025550143"),
])
def test_international_numbers_become_e164(typed, stored):
    assert normalise_phone(typed, None) == stored


def test_national_numbers_need_a_region():
    assert normalise_phone("8 916 123-45-67", "RU") == "+79161234567"
    assert normalise_phone("912 345 678", "PT") == "+351912345678"
    with pytest.raises(InvalidContact) as refused:
        normalise_phone("8 916 123-45-67", None)
    assert "+7 916 123-45-67" in refused.value.message
    assert "+351 912 345 678" in refused.value.message


@pytest.mark.parametrize("typed", ["12", "+7 123", "call me", "+999 123 456 789", ""])
def test_impossible_numbers_are_refused(typed):
    with pytest.raises(InvalidContact):
        normalise_phone(typed, "RU")


def test_form_validators_normalise_in_place(bare_app):
    with bare_app.test_request_context(
        method="POST", data={"email": " Ann@Example.com", "phone": "+7 916 123-45-67"}
    ):
        form = ContactForm()
        assert form.validate()
        assert (form.email.data, form.phone.data) == ("ann@example.com", "+79161234567")


def test_form_validators_report_errors_and_keep_what_was_typed(bare_app):
    with bare_app.test_request_context(method="POST", data={"email": "not-an-email",
                                                            "phone": "12"}):
        form = ContactForm()
        assert not form.validate()
        assert form.email.data == "not-an-email" and form.phone.data == "12"
        assert "valid email address" in form.email.errors[0]
        assert "+7 916 123-45-67" in form.phone.errors[0]


def test_form_validators_leave_empty_fields_alone(bare_app):
    with bare_app.test_request_context(method="POST", data={"email": "  ", "phone": ""}):
        form = ContactForm()
        assert form.validate()
        assert (form.email.data, form.phone.data) == ("", "")


def test_phone_validator_reads_the_configured_region(bare_app):
    bare_app.config["SIGNET_PHONE_REGION"] = "RU"
    with bare_app.test_request_context(method="POST", data={"phone": "8 (916) 123-45-67"}):
        form = ContactForm()
        assert form.validate()
        assert form.phone.data == "+79161234567"
