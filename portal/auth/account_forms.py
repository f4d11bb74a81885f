"""Forms of a user's own account: the password change."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length

from portal.auth.admin_forms import PASSWORD_MAX, PasswordForm


class ChangePasswordForm(PasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)]
    )
    revoke_tokens = BooleanField(_l("Also revoke my API tokens (programs using them stop)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password.label.text = _l("New password")
