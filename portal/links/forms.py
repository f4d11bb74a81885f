"""Forms of the public links: publishing one (staff) and a visitor's details (public)."""

from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional

from portal.documents.forms import DocumentValuesMixin, SelectChoice, ServiceErrorsMixin
from portal.parties.models import RequisitesMixin

REQUISITE_FIELDS = RequisitesMixin.REQUISITE_FIELDS


class PublishForm(ServiceErrorsMixin, DocumentValuesMixin, FlaskForm):
    title = StringField(_l("Title"), description=_l("Shown to visitors and given to every "
                                                    "document; the template's name if empty."))
    company_id = SelectField(_l("Our company"), validate_choice=False)
    channel = SelectField(_l("Visitors confirm their"), validate_choice=False,
                          choices=[SelectChoice("email", _l("Email address")),
                                   SelectChoice("sms", _l("Phone number (SMS)"))])
    expires_at = DateTimeLocalField(_l("Expires"), format=["%Y-%m-%dT%H:%M",
                                                           "%Y-%m-%dT%H:%M:%S"],
                                    validators=[Optional()],
                                    description=_l("Time in UTC. Empty: never."))
    max_uses = IntegerField(_l("Maximum uses"), validators=[Optional(), NumberRange(min=1)],
                            description=_l("Documents the link may make. Empty: no limit."))
    allowed_domains = TextAreaField(_l("Allowed email domains"), render_kw={"rows": 2},
                                    description=_l("For example: example.com, example.org. "
                                                   "Empty: any address."))
    per_address_limit = IntegerField(_l("Uses per address a day"), default=3,
                                     validators=[Optional(), NumberRange(min=1, max=100)])
    presigned = BooleanField(_l("Pre-signed by our company (an offer)"),
                             description=_l("Our company's signer signs once, now; every "
                                            "document then carries that signature and is "
                                            "complete when the visitor signed. The link "
                                            "takes visitors once it is signed."))

    def values(self) -> dict:
        expires = self.expires_at.data
        return {"title": self.title.data, "company_id": self.company_id.data,
                "channel": self.channel.data,
                "expires_at": expires.replace(tzinfo=UTC) if expires else None,
                "max_uses": self.max_uses.data, "allowed_domains": self.allowed_domains.data,
                "per_address_limit": self.per_address_limit.data or 3,
                "presigned": bool(self.presigned.data), "values": self.document_values()}


class LinkValuesForm(ServiceErrorsMixin, DocumentValuesMixin, FlaskForm):
    """A link's title and the values of the documents it makes from now on."""

    title = StringField(_l("Title"), description=_l("Shown to visitors and given to every "
                                                    "document; the template's name if empty."))


KIND_CHOICES = [SelectChoice("person", _l("A person")),
                SelectChoice("company", _l("A company"))]


class VisitorForm(ServiceErrorsMixin, FlaskForm):
    kind = RadioField(_l("I sign as"), choices=KIND_CHOICES, default="person",
                      validate_choice=False)
    name = StringField(_l("Full name, or the company's name"),
                       render_kw={"autocomplete": "name"})
    representative_name = StringField(_l("Who signs for the company"),
                                      render_kw={"autocomplete": "name"})
    representative_position = StringField(_l("Their position"),
                                          render_kw={"autocomplete": "organization-title"})
    email = StringField(_l("Email"), render_kw={"autocomplete": "email", "inputmode": "email",
                                               "type": "email"})
    phone = StringField(_l("Phone"), render_kw={"autocomplete": "tel", "inputmode": "tel",
                                               "type": "tel"})

    # A company's requisites; the page shows those the template prints (visitors.asked).
    tax_id = StringField(_l("Tax ID (INN / VAT / NIF)"))
    kpp = StringField(_l("KPP"), description=_l("Russian companies only: 9 characters."))
    registration_number = StringField(_l("Registration number (OGRN / company no.)"))
    address = TextAreaField(_l("Legal address"), render_kw={"rows": 2,
                                                           "autocomplete": "street-address"})
    bank_name = StringField(_l("Bank"))
    bank_account = StringField(_l("Bank account / IBAN"))
    correspondent_account = StringField(_l("Correspondent account"))
    bank_code = StringField(_l("Bank code (BIK / SWIFT)"))

    def values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in (
            "kind", "name", "representative_name", "representative_position", "email",
            "phone", *REQUISITE_FIELDS)}


class CodeForm(ServiceErrorsMixin, FlaskForm):
    code = StringField(_l("Code"), render_kw={"autocomplete": "one-time-code",
                                              "inputmode": "numeric", "maxlength": 12})
