"""The profile page's token form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from portal.api.tokens import NAME_MAX


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[
            InputRequired(_l("Give the token a name, e.g. the program that will use it.")),
            Length(max=NAME_MAX, message=_l("Keep the name under %(max)d characters.")),
        ],
        description=_l("So you recognise it later, e.g. “CRM integration”."),
    )
