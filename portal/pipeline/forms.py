"""The manager's forms on the side panel; the services have the final word on every value."""

from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField
from wtforms.validators import Optional

from portal.documents.forms import CHANNEL_CHOICES, ServiceErrorsMixin, StopForm


class DeadlineForm(ServiceErrorsMixin, FlaskForm):
    deadline = DateTimeLocalField(_l("New deadline"), format=["%Y-%m-%dT%H:%M",
                                                             "%Y-%m-%dT%H:%M:%S"],
                                  validators=[Optional()],
                                  description=_l("Time in UTC. At least 5 minutes from now."))

    def deadline_utc(self):
        value = self.deadline.data
        return value.replace(tzinfo=UTC) if value is not None else None


class ResendForm(ServiceErrorsMixin, FlaskForm):
    channel = SelectField(_l("Send by"), choices=CHANNEL_CHOICES, validate_choice=False)
    contact = StringField(_l("Corrected email or phone"),
                          render_kw={"autocomplete": "off", "maxlength": 254})


def deadline_form(document, submitted: bool = False) -> DeadlineForm:
    if submitted:
        return DeadlineForm(prefix="deadline")
    deadline = document.deadline_at
    return DeadlineForm(formdata=None, prefix="deadline",
                        data={"deadline": deadline.replace(tzinfo=None) if deadline else None})


def resend_form(party, submitted: bool = False) -> ResendForm:
    prefix = f"resend-{party.id}"
    if submitted:
        return ResendForm(prefix=prefix)
    return ResendForm(formdata=None, prefix=prefix, data={
        "channel": party.channel, "contact": party.contact})


def stop_form(submitted: bool = False) -> StopForm:
    return StopForm(prefix="stop") if submitted else StopForm(formdata=None, prefix="stop")
