"""The template editor form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

try:  # WTForms >= 3.3 wants choices as SelectChoice; older versions take (value, label)
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)

from portal.config import LANGUAGES
from portal.doctemplates.models import TEMPLATE_KINDS

KIND_LABELS = {
    "act": _l("Act of completed work"),
    "invoice": _l("Invoice"),
    "contract": _l("Contract"),
    "other": _l("Other document"),
}

ROLE_LABELS = {
    "approver": _l("Approver"),
    "company": _l("Our company"),
    "client": _l("Client"),
    "cc": _l("Copy recipient"),
}
FIELD_TYPE_LABELS = {
    "signature": _l("Signature"),
    "initials": _l("Initials"),
    "stamp": _l("Stamp"),
    "date": _l("Date"),
    "text": _l("Text"),
    "number": _l("Number"),
    "requisites": _l("Name and requisites"),
    "checkbox": _l("Checkbox"),
}


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(_l("Give the template a name.")),
                                               Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(kind, KIND_LABELS[kind]) for kind in TEMPLATE_KINDS],
        description=_l("Gives the document number its prefix (ACT, INV, CON, DOC)."),
    )
    language = SelectField(
        _l("Language of the document"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()],
        description=_l("Dates and amounts are written the way this language writes them."),
    )
    body_html = TextAreaField(
        _l("HTML"),
        validators=[InputRequired(_l("The template needs its HTML."))],
        render_kw={"rows": 26, "spellcheck": "false", "autocomplete": "off",
                   "autocapitalize": "off"},
    )

    def values(self) -> dict:
        return {"name": self.name.data, "kind": self.kind.data, "language": self.language.data,
                "body_html": self.body_html.data}

    def show_errors(self, errors: dict) -> None:
        """Attach a service's errors (field name -> message) to the fields."""
        for name, message in errors.items():
            field = self._fields.get(name, self.body_html)
            field.errors = [*field.errors, message]
