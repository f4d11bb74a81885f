"""Forms of two-factor sign-in."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.auth.two_factor.passkeys import NAME_MAX


class CodeForm(FlaskForm):
    """The login's second step: a code from the app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 6-digit code your authenticator app shows now, or "
                                      "one of your recovery codes."))


class ConfirmTotpForm(FlaskForm):
    code = StringField(_l("Code from the app"), validators=[DataRequired(), Length(max=40)])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=256)])


class PasskeyForm(FlaskForm):
    """A new passkey: its name typed here, the browser's answer filled in by passkeys.js."""

    name = StringField(_l("Passkey name"), validators=[DataRequired(), Length(max=NAME_MAX)],
                       description=_l("Where it lives, such as “Work laptop” or “Phone”."))
    credential = HiddenField()


class PasskeySignInForm(FlaskForm):
    credential = HiddenField()


class RoleRequirementForm(FlaskForm):
    require_two_factor = BooleanField(_l("Require two-factor sign-in"))
