"""Forms of the document pages. The services have the final word; these keep what was typed."""

from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import Optional

from portal.config import LANGUAGES

KIND_CHOICES = [SelectChoice("person", _l("A person")), SelectChoice("company", _l("A company"))]
CHANNEL_CHOICES = [SelectChoice("email", _l("Email")), SelectChoice("sms", _l("SMS"))]
ACCEPTED_FILES = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


# Contacts, lengths and choices are checked by the services, which report every problem at
# once (a form validator would stop at the first and hide the rest).
def _email(label=None):
    return EmailField(label or _l("Email"),
                      render_kw={"autocomplete": "off", "inputmode": "email"})


def _phone(label=None):
    return TelField(label or _l("Phone"),
                    description=_l("E.g. +7 916 123-45-67 or +351 912 345 678."))


class ServiceErrorsMixin:
    """Attach a service's errors ("name" or "items.0.name") to the fields; others to the form."""

    def form_errors_list(self) -> list[str]:
        return getattr(self, "_form_errors", [])

    def add_form_error(self, message) -> None:
        if not hasattr(self, "_form_errors"):
            self._form_errors = []
        self._form_errors.append(str(message))

    def show_errors(self, errors: dict, aliases: dict | None = None) -> None:
        for key, message in errors.items():
            field = _find_field(self, (aliases or {}).get(key, key))
            if field is None:
                self.add_form_error(message)
            else:
                field.errors = [*field.errors, message]


def _find_field(form, key: str):
    """The field a key names: "title", "items.0.name" or "copies-2-email"; else None."""
    node = form
    for part in key.replace(".", "-").split("-"):
        if isinstance(node, FieldList):
            node = next((entry for entry in node.entries
                         if entry.short_name.rsplit("-", 1)[-1] == part), None)
        elif isinstance(node, FormField):
            node = node.form._fields.get(part)
        elif hasattr(node, "_fields"):
            node = node._fields.get(part)
        else:
            return None
        if node is None:
            return None
    return None if isinstance(node, FormField | FieldList) else node


class ClientFieldsMixin:
    """The client: picked from the directory (counterparty_id) or typed in."""

    counterparty_id = StringField(_l("Client"))
    client_kind = RadioField(_l("The new client is"), choices=KIND_CHOICES, default="person")
    client_name = StringField(_l("Name"),
                              description=_l("A person's full name or the company's name."))
    client_representative_name = StringField(_l("Representative who signs"))
    client_representative_position = StringField(_l("Representative's position"))
    client_email = _email()
    client_phone = _phone()

    def client_values(self) -> tuple[int | None, dict | None]:
        """(directory id, None) or (None, the typed-in client)."""
        chosen = (self.counterparty_id.data or "").strip()
        if chosen:
            return (int(chosen) if chosen.isdigit() else -1), None
        return None, {
            "kind": self.client_kind.data, "name": self.client_name.data,
            "representative_name": self.client_representative_name.data,
            "representative_position": self.client_representative_position.data,
            "email": self.client_email.data, "phone": self.client_phone.data,
        }


class ItemForm(Form):
    name = StringField(_l("Item"))
    quantity = StringField(_l("Quantity"), default="1", render_kw={"inputmode": "decimal"})
    unit = StringField(_l("Unit"))
    price = StringField(_l("Price"), render_kw={"inputmode": "decimal"})

    def is_blank(self) -> bool:
        return not any((self[name].data or "").strip() for name in ("name", "price"))


ITEM_KEYS = ("name", "quantity", "unit", "price")


class DocumentValuesMixin:
    """A document's own values: place, currency, VAT rate and the items table (the new-document
    form, and a public link's values for every document it makes)."""

    place = StringField(_l("Place"),
                        description=_l("The city where the document is drawn up."))
    currency = StringField(_l("Currency"), default="RUB")
    vat_rate = StringField(_l("VAT, %"), render_kw={"inputmode": "decimal"},
                           description=_l("Leave empty when VAT does not apply."))
    items = FieldList(FormField(ItemForm), min_entries=1, max_entries=200)

    def item_values(self) -> list[dict]:
        """Rows that are not entirely empty, keyed by their position in the form."""
        return [{name: entry.form[name].data for name in ITEM_KEYS}
                for entry in self.items.entries if not entry.form.is_blank()]

    def item_aliases(self) -> dict:
        """Service keys count non-empty rows only; map them to the rows of the form."""
        rows = [entry for entry in self.items.entries if not entry.form.is_blank()]
        return {f"items.{index}.{name}": f"{entry.name}-{name}"
                for index, entry in enumerate(rows) for name in ITEM_KEYS}

    def document_values(self) -> dict:
        """As documents.services.create.document_values takes them."""
        return {"place": self.place.data, "items": self.item_values(),
                "vat_rate": (self.vat_rate.data or "").strip() or None,
                "currency": self.currency.data}

    def fill_document_values(self, values: dict) -> None:
        """Show stored values (Document.variables' form) for editing."""
        self.place.data = values.get("place", "")
        self.currency.data = values.get("currency", self.currency.data)
        self.vat_rate.data = values.get("vat_rate") or ""
        items = values.get("items") or []
        if items:
            while len(self.items.entries):
                self.items.pop_entry()
            for item in items:
                self.items.append_entry({name: item.get(name, "") for name in ITEM_KEYS})


class TemplateDocumentForm(ServiceErrorsMixin, ClientFieldsMixin, DocumentValuesMixin, FlaskForm):
    company_id = SelectField(_l("Our company"), validate_choice=False)
    template_id = SelectField(_l("Template"), validate_choice=False)
    title = StringField(_l("Title"),
                        description=_l("Leave empty to use the template's name."))
    date = DateField(_l("Date"), validators=[Optional()])


class UploadDocumentForm(ServiceErrorsMixin, ClientFieldsMixin, FlaskForm):
    company_id = SelectField(_l("Our company"), validate_choice=False)
    title = StringField(_l("Title"))
    file = FileField(_l("File"), render_kw={"accept": ACCEPTED_FILES},
                     description=_l("A PDF, or a PNG or JPEG scan (it becomes a PDF page)."))


class DetailsForm(ServiceErrorsMixin, FlaskForm):
    title = StringField(_l("Title"))
    responsible_id = SelectField(_l("Responsible"), validate_choice=False)
    language = SelectField(_l("Language of the document's messages"),
                           choices=_choices(LANGUAGES.items()), validate_choice=False)
    deadline = DateTimeLocalField(_l("Deadline"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                  validators=[Optional()],
                                  description=_l("Time in UTC. At least 5 minutes from now."))

    def deadline_utc(self):
        value = self.deadline.data
        return value.replace(tzinfo=UTC) if value is not None else None


class ReassignForm(ServiceErrorsMixin, FlaskForm):
    responsible_id = SelectField(_l("Hand over to"), validate_choice=False)


class StopForm(ServiceErrorsMixin, FlaskForm):
    reason = TextAreaField(_l("Reason"),
                           render_kw={"rows": 2},
                           description=_l("The parties and the audit trail will show it."))


class PartyForm(Form):
    id = HiddenField()
    kind = RadioField(_l("The client is"), choices=KIND_CHOICES, default="person")
    name = StringField(_l("Full name"))
    position = StringField(_l("Position"))
    organization = StringField(_l("Company name"))
    email = _email()
    phone = _phone()
    channel = RadioField(_l("Send the link by"), choices=CHANNEL_CHOICES, default="email")
    stamp_required = BooleanField(_l("Ask for the company's stamp"))


class CopyForm(Form):
    id = HiddenField()
    name = StringField(_l("Name"))
    email = _email()

    def is_blank(self) -> bool:
        return not ((self.name.data or "").strip() or (self.email.data or "").strip())


class PartiesForm(ServiceErrorsMixin, FlaskForm):
    company = FormField(PartyForm)
    client = FormField(PartyForm)
    with_approver = BooleanField(_l("An approver checks the document before our signer"))
    approver = FormField(PartyForm)
    copies = FieldList(FormField(CopyForm), min_entries=0, max_entries=50)

    def party_list(self) -> tuple[list[dict], dict]:
        """The parties for set_parties, and where each one's errors belong (index -> prefix)."""
        parties, homes = [], {}
        ours = self._party(self.company.form, "company", "company")
        parties.append(ours)
        homes[0] = "company"
        parties.append(self._party(self.client.form, "client", self.client.form.kind.data))
        homes[1] = "client"
        if self.with_approver.data:
            homes[len(parties)] = "approver"
            parties.append(self._party(self.approver.form, "approver", "person"))
        for entry in self.copies.entries:
            if entry.form.is_blank():
                continue
            homes[len(parties)] = entry.name
            parties.append({"id": entry.form.id.data or None, "role": "cc", "kind": "person",
                            "name": entry.form.name.data, "email": entry.form.email.data,
                            "channel": "email"})
        return parties, homes

    @staticmethod
    def _party(form: PartyForm, role: str, kind: str) -> dict:
        is_company_client = role == "client" and kind == "company"
        return {
            "id": form.id.data or None, "role": role, "kind": kind, "name": form.name.data,
            "position": form.position.data,
            "organization": form.organization.data if role == "company" or is_company_client
            else "",
            "email": form.email.data, "phone": form.phone.data, "channel": form.channel.data,
            # The checkbox is hidden for a person; whatever it holds, a person is never asked.
            "stamp_required": bool(form.stamp_required.data) and is_company_client,
        }
