"""Forms of the administration screens and of the invitation page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.auth.users import PASSWORD_MIN, UserFields
from portal.validation import EmailAddress, PhoneNumber

PASSWORD_MAX = 256


def optional_id(value) -> int | None:
    """Coerce a select's value: "" means "none"; anything else must be a number."""
    if value in (None, "", "None"):
        return None
    return int(value)


def _with_none(label, choices: list[tuple[int, str]]) -> list[SelectChoice]:
    """Choices for an optional select: "" (none) first, then (id, label) pairs."""
    return [SelectChoice("", label), *(SelectChoice(str(v), text) for v, text in choices)]


class RoleChoices(SelectMultipleField):
    """Roles as a list of checkboxes (every role; the holder gets the ticked ones)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label, **kwargs):
        super().__init__(label, coerce=int, validate_choice=True, **kwargs)

    def set_roles(self, choices: list[tuple[int, str]]) -> None:
        self.choices = [SelectChoice(role_id, name) for role_id, name in choices]


def _password_fields():
    password = PasswordField(
        _l("Password"),
        validators=[Length(max=PASSWORD_MAX)],
        description=_l("At least %(min)d characters.", min=PASSWORD_MIN),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
    )
    return password, confirm


def _check_length(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationError(_l("Use at least %(min)d characters.", min=PASSWORD_MIN))


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), EmailAddress()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=32), PhoneNumber()],
        description=_l("Optional. With the country code, e.g. +44 20 7946 0000."),
    )
    department = SelectField(_l("Department"), coerce=optional_id, validate_choice=True)
    roles = RoleChoices(
        _l("Roles"),
        description=_l("The user may do what any of these roles allows, and what their "
                       "department's roles allow."),
    )

    def set_departments(self, choices: list[tuple[int, str]]) -> None:
        self.department.choices = _with_none(_l("— No department —"), choices)

    def fields(self) -> UserFields:
        return UserFields(
            email=self.email.data or "",
            name=self.name.data or "",
            position=self.position.data or "",
            phone=self.phone.data or "",
            department_id=self.department.data,
            role_ids=list(self.roles.data or []),
        )


class NewUserForm(UserForm):
    setup = RadioField(
        _l("How does the user get a password?"),
        choices=[
            SelectChoice("invite", _l("Send an invitation by email")),
            SelectChoice("password", _l("Set a password now")),
        ],
        default="invite",
    )
    password, confirm = _password_fields()

    def validate_password(self, field):
        if self.setup.data != "password":
            return
        if not field.data:
            raise ValidationError(_l("Enter a password, or choose to send an invitation."))
        _check_length(field.data)

    def chosen_password(self) -> str | None:
        return self.password.data if self.setup.data == "password" else None


class PasswordForm(FlaskForm):
    password, confirm = _password_fields()

    def validate_password(self, field):
        if not field.data:
            raise ValidationError(_l("Enter a password."))
        _check_length(field.data)


def give_unique_ids(form: FlaskForm, prefix: str) -> None:
    """Prefix the fields' HTML ids (not their names), for pages that show several such forms."""
    for field in form:
        field.id = f"{prefix}-{field.name}"
        field.label.field_id = field.id


class DepartmentForm(FlaskForm):
    name = StringField(_l("Department name"), validators=[DataRequired(), Length(max=120)])
    parent = SelectField(_l("Parent department"), coerce=optional_id, validate_choice=True)
    roles = RoleChoices(
        _l("Roles for its members"),
        description=_l("Everyone in this department and in its subdepartments holds these "
                       "roles, besides their own."),
    )

    def set_parents(self, choices: list[tuple[int, str]]) -> None:
        self.parent.choices = _with_none(_l("— Top level —"), choices)
