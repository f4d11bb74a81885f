"""The bulk upload form; the services have the final word on what it names."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField

ACCEPTED_SHEETS = (".csv,.txt,.tsv,.xlsx,.xlsm,text/csv,"
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class UploadForm(FlaskForm):
    template_id = SelectField(_l("Template"), validate_choice=False)
    company_id = SelectField(_l("Our company"), validate_choice=False)
    file = FileField(_l("Spreadsheet"), render_kw={"accept": ACCEPTED_SHEETS},
                     description=_l("A CSV (UTF-8 or Windows Cyrillic, separated by commas or "
                                    "semicolons) or an Excel workbook (.xlsx): one row per "
                                    "client, the column names in the first row."))
    # The batch's values (as the new-document form names them): a row's empty cell takes them.
    place = StringField(_l("Place"), description=_l("The city where the documents are drawn "
                                                    "up, unless a row gives its own."))
    date = StringField(_l("Date"), render_kw={"type": "date"},
                       description=_l("Leave empty for the day each document is made."))
    currency = StringField(_l("Currency"), render_kw={"maxlength": "3", "autocomplete": "off"})
    vat_rate = StringField(_l("VAT, %"), render_kw={"inputmode": "decimal"},
                           description=_l("Leave empty when VAT does not apply."))

    def batch_values(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in BATCH_VALUE_FIELDS}


BATCH_VALUE_FIELDS = ("place", "date", "currency", "vat_rate")
