"""The bulk upload form; the services have the final word on what it names."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField

ACCEPTED_SHEETS = (".csv,.txt,.tsv,.xlsx,.xlsm,text/csv,"
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class UploadForm(FlaskForm):
    template_id = SelectField(_l("Template"), validate_choice=False)
    company_id = SelectField(_l("Our company"), validate_choice=False)
    file = FileField(_l("Spreadsheet"), render_kw={"accept": ACCEPTED_SHEETS},
                     description=_l("A CSV (UTF-8 or Windows Cyrillic, separated by commas or "
                                    "semicolons) or an Excel workbook (.xlsx): one row per "
                                    "client, the column names in the first row."))
