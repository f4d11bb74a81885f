"""Forms of the role screens (the grid itself is read from plain "section.action" fields)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.auth.admin_forms import optional_id
from portal.auth.role_services import DESCRIPTION_MAX, NAME_MAX


class RoleForm(FlaskForm):
    name = StringField(_l("Role name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)],
        description=_l("Optional. Who should hold this role, in a sentence."),
    )


class DeleteRoleForm(FlaskForm):
    replacement = SelectField(_l("Give them this role instead"), coerce=optional_id,
                              validate_choice=True)

    def set_replacements(self, choices: list[tuple[int, str]]) -> None:
        self.replacement.choices = [SelectChoice("", _l("— Choose a role —")),
                                    *(SelectChoice(str(v), text) for v, text in choices)]
