"""Forms for companies and counterparties; the checks come from portal.parties.rules."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional, ValidationError

try:  # WTForms >= 3.3 wants choices as SelectChoice; older versions take (value, label)
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)

from portal.config import LANGUAGES
from portal.parties.models import PARTY_KINDS
from portal.parties.rules import (
    COMPANY_ONLY_FIELDS,
    COMPANY_RULES,
    COUNTERPARTY_RULES,
    REQUISITE_RULES,
    RETENTION_FIELDS,
    RETENTION_MAX_DAYS,
    Check,
)
from portal.parties.stamps import InvalidStamp, check_stamp, read_upload
from portal.parties.zones import default_time_zone, zone_names
from portal.validation import EmailAddress, PhoneNumber

NEED_A_CONTACT = _l("Add an email or a phone: signing links are sent by email or SMS.")
SIGNER_NEEDS_A_CONTACT = _l(
    "The signer needs an email or a phone: signing links are sent by email or SMS."
)


def _text(label, checked, description=None):
    return StringField(label, validators=[Check(checked)], description=description)


def _email(label):
    return EmailField(label, validators=[EmailAddress()],
                      render_kw={"autocomplete": "off", "inputmode": "email"})


def _phone(label):
    return TelField(label, validators=[PhoneNumber()],
                    description=_l("E.g. +7 916 123-45-67 or +351 912 345 678."))


def _days(label, description):
    return IntegerField(
        label, validators=[Optional(), NumberRange(min=0, max=RETENTION_MAX_DAYS, message=_l(
            "Enter a number of days from %(min)s to %(max)s (0 or empty: never)."))],
        description=description,
        render_kw={"inputmode": "numeric", "min": 0, "max": RETENTION_MAX_DAYS,
                   "placeholder": _l("Never")})


def _blank(field) -> bool:
    return not (field.data or "").strip()


class ContactErrorsMixin:
    """Messages about a group of fields (e.g. "email or phone"), shown beside that group."""

    def group_errors(self, group: str) -> list[str]:
        return getattr(self, "_group_errors", {}).get(group, [])

    def add_group_error(self, group: str, message) -> None:
        if not hasattr(self, "_group_errors"):
            self._group_errors = {}
        self._group_errors.setdefault(group, []).append(str(message))

    def show_errors(self, errors: dict, groups=()) -> None:
        """Attach a service's errors (field name -> message) to the fields or groups."""
        for name, message in errors.items():
            if name in groups:
                self.add_group_error(name, message)
            elif name in self._fields:
                self._fields[name].errors = [*self._fields[name].errors, message]
            else:
                self.add_group_error("form", message)


class RequisitesForm(ContactErrorsMixin, FlaskForm):
    tax_id = _text(_l("Tax ID (INN / VAT / NIF)"), REQUISITE_RULES["tax_id"])
    kpp = _text(_l("KPP"), REQUISITE_RULES["kpp"],
                _l("Russian companies only: 9 characters."))
    registration_number = _text(_l("Registration number (OGRN / company no.)"),
                                REQUISITE_RULES["registration_number"])
    address = TextAreaField(_l("Legal address"), validators=[Check(REQUISITE_RULES["address"])],
                            render_kw={"rows": 2})
    bank_name = _text(_l("Bank"), REQUISITE_RULES["bank_name"])
    bank_account = _text(_l("Bank account / IBAN"), REQUISITE_RULES["bank_account"])
    correspondent_account = _text(_l("Correspondent account"),
                                  REQUISITE_RULES["correspondent_account"])
    bank_code = _text(_l("Bank code (BIK / SWIFT)"), REQUISITE_RULES["bank_code"])


class CompanyForm(RequisitesForm):
    legal_name = _text(_l("Legal name"), COMPANY_RULES["legal_name"],
                       _l("As in the registration documents, e.g. Signet Demo LLC."))
    short_name = _text(_l("Short name"), COMPANY_RULES["short_name"],
                       _l("Shown in lists and messages; leave empty to use the legal name."))
    email = _email(_l("Email"))
    phone = _phone(_l("Phone"))
    signer_name = _text(_l("Full name"), COMPANY_RULES["signer_name"])
    signer_position = _text(_l("Position"), COMPANY_RULES["signer_position"],
                            _l("E.g. Director, acting under the Charter."))
    signer_email = _email(_l("Email"))
    signer_phone = _phone(_l("Phone"))
    language = SelectField(
        _l("Language of its documents"), validators=[Check(COMPANY_RULES["language"])],
        validate_choice=False,
        choices=[SelectChoice("", _l("Any language")),
                 *(SelectChoice(code, name) for code, name in LANGUAGES.items())],
        description=_l("A new document from a template in this language starts with this "
                       "company."))
    time_zone = SelectField(
        _l("Time zone"), validators=[Check(COMPANY_RULES["time_zone"])], validate_choice=False,
        description=_l("The signing certificate and the audit trail of its documents show "
                       "every time in this zone, with its offset from UTC."))
    # The help text names the configured size limit: the template writes it.
    retention_files_days = _days(
        _l("Delete the PDFs after (days)"),
        _l("Days after a document is completed when the signed PDF and the PDF sent for "
           "signing are deleted from the portal. The document's record stays, and a kept copy "
           "still checks as authentic on the verify page. Empty or 0: keep them forever."))
    retention_mask_days = _days(
        _l("Mask the signers' contacts after (days)"),
        _l("Days after completion when the signers' emails, phones and addresses, and the IP "
           "addresses and browsers in the history, are replaced with ***. Names and signing "
           "times stay. Empty or 0: never."))
    stamp = FileField(_l("Stamp image"), render_kw={"accept": "image/png,image/jpeg"})
    remove_stamp = BooleanField(_l("Remove the current stamp"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form: the portal's default zone is a setting of the running app.
        self.time_zone.choices = [
            SelectChoice("", _l("The portal's default (%(zone)s)", zone=default_time_zone())),
            *(SelectChoice(name, name.replace("_", " ")) for name in zone_names())]

    def uploaded_stamp(self):
        """The chosen stamp file, or None when the field was left empty."""
        upload = self.stamp.data
        return upload if upload is not None and getattr(upload, "filename", "") else None

    def validate_stamp(self, field):
        # Checked here too so a bad image is reported together with the other mistakes.
        upload = self.uploaded_stamp()
        if upload is None:
            return
        try:
            check_stamp(read_upload(upload, current_app.config["SIGNET_STAMP_MAX_BYTES"]))
        except InvalidStamp as refused:
            raise ValidationError(refused.message) from refused
        finally:
            upload.stream.seek(0)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if _blank(self.signer_email) and _blank(self.signer_phone):
            self.add_group_error("signer_contact", SIGNER_NEEDS_A_CONTACT)
            valid = False
        return valid

    def values(self) -> dict:
        """Field values for the service (the stamp travels separately)."""
        return {name: self._fields[name].data for name in (*COMPANY_RULES, *RETENTION_FIELDS)}


class CounterpartyForm(RequisitesForm):
    kind = RadioField(
        _l("Kind"),
        choices=[SelectChoice(kind, label) for kind, label in zip(
            PARTY_KINDS, (_l("Person"), _l("Company")), strict=True)],
        default="person",
    )
    name = _text(_l("Name"), COUNTERPARTY_RULES["name"])
    representative_name = _text(_l("Representative"), COUNTERPARTY_RULES["representative_name"],
                                _l("The person who signs for the company."))
    representative_position = _text(_l("Representative's position"),
                                    COUNTERPARTY_RULES["representative_position"])
    email = _email(_l("Email"))
    phone = _phone(_l("Phone"))
    notes = TextAreaField(_l("Notes"), validators=[Check(COUNTERPARTY_RULES["notes"])],
                          render_kw={"rows": 3})

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data == "person":
            # Hidden for a person and dropped on save: nothing there may block the form.
            for name in COMPANY_ONLY_FIELDS:
                self._fields[name].errors = []
            valid = not self.form_errors and not any(f.errors for f in self)
        if _blank(self.email) and _blank(self.phone):
            self.add_group_error("contact", NEED_A_CONTACT)
            valid = False
        return valid

    def values(self) -> dict:
        return {"kind": self.kind.data,
                **{name: self._fields[name].data for name in COUNTERPARTY_RULES}}
