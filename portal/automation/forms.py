"""The rule form. It keeps what was typed; services.clean_rule has the final word."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField

from portal.automation.actions import ACTIONS, EMAIL_RECIPIENTS
from portal.automation.triggers import STUCK_STAGES, TRIGGERS
from portal.documents.forms import ServiceErrorsMixin
from portal.documents.labels import STAGE_LABELS

AMOUNT_OP_LABELS = {"gt": _l("more than"), "lt": _l("less than")}
KIND_LABELS = {"person": _l("a person"), "company": _l("a company")}
# The fields the service reads (the rest of the form is the CSRF token).
VALUE_FIELDS = ("name", "trigger", "stage", "stuck_days", "company_id", "template_id",
                "responsible_id", "department_id", "counterparty_kind", "amount_op", "amount",
                "action", "note", "recipient", "address", "subject", "body", "user_id", "url",
                "secret", "new_template_id", "send")
CONDITION_FIELDS = ("company_id", "template_id", "responsible_id", "department_id",
                    "counterparty_kind", "amount_op", "amount")


def _select(label, choices=(), **kwargs) -> SelectField:
    # Choices are checked by the service, which reports every problem at once.
    return SelectField(label, choices=list(choices), validate_choice=False, **kwargs)


def _any(label) -> list[SelectChoice]:
    return [SelectChoice("", label)]


class RuleForm(ServiceErrorsMixin, FlaskForm):
    name = StringField(_l("Name"), render_kw={"maxlength": 200, "autocomplete": "off"})
    trigger = _select(_l("Event"), [SelectChoice(key, label) for key, (label, _stage)
                                   in TRIGGERS.items()])
    stage = _select(_l("Stage"), [SelectChoice(key, STAGE_LABELS[key]) for key in STUCK_STAGES])
    stuck_days = StringField(_l("Days in the stage"),
                             render_kw={"inputmode": "numeric", "maxlength": 3,
                                        "autocomplete": "off"})
    company_id = _select(_l("Company"))
    template_id = _select(_l("Template"))
    responsible_id = _select(_l("Responsible"))
    department_id = _select(_l("Department"),
                            description=_l("The responsible's, or one below it."))
    counterparty_kind = _select(_l("Client is"), _any(_l("Anyone"))
                                + [SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    amount_op = _select(_l("Amount"), _any(_l("Any amount"))
                        + [SelectChoice(k, v) for k, v in AMOUNT_OP_LABELS.items()])
    amount = StringField(_l("Sum with VAT"), render_kw={"inputmode": "decimal", "maxlength": 20,
                                                        "autocomplete": "off"})
    action = _select(_l("Action"), [SelectChoice(key, label) for key, label in ACTIONS.items()])
    note = TextAreaField(_l("Note in the email"), render_kw={"rows": 3, "maxlength": 5000})
    recipient = _select(_l("To"), [SelectChoice(k, v) for k, v in EMAIL_RECIPIENTS.items()])
    address = StringField(_l("Email address"), render_kw={"inputmode": "email",
                                                          "autocomplete": "off",
                                                          "maxlength": 254})
    subject = StringField(_l("Subject"), render_kw={"maxlength": 300, "autocomplete": "off"})
    body = TextAreaField(_l("Text"), render_kw={"rows": 6, "maxlength": 5000})
    user_id = _select(_l("Hand the document over to"))
    url = StringField(_l("Receiver's address (URL)"),
                      render_kw={"inputmode": "url", "maxlength": 2000, "autocomplete": "off",
                                 "placeholder": "https://"})
    secret = StringField(_l("Secret"), render_kw={"maxlength": 100, "autocomplete": "off"})
    new_template_id = _select(_l("Template of the new document"))
    send = BooleanField(_l("Send it for signing at once"))

    def set_choices(self, companies, templates, users, departments) -> None:
        """The pickers' options: (id, label) pairs; a stored value no longer offered stays."""
        anyone = {"company_id": _l("Any company"), "template_id": _l("Any template"),
                  "responsible_id": _l("Anyone"), "department_id": _l("Any department")}
        pickers = {"company_id": companies, "template_id": templates, "responsible_id": users,
                   "department_id": departments, "user_id": users, "new_template_id": templates}
        for name, pairs in pickers.items():
            field = self[name]
            choices = [SelectChoice(str(value), label) for value, label in pairs]
            current = str(field.data or "")
            if current and current not in {choice.value for choice in choices}:
                choices.append(SelectChoice(current, _l("(no longer available)")))
            blank = anyone.get(name, _l("Choose…"))
            field.choices = [SelectChoice("", blank), *choices]

    def values(self) -> dict:
        """What the service reads; an unticked "send" box is a no (not the default yes)."""
        values = {name: self[name].data for name in VALUE_FIELDS}
        values["send"] = "1" if self.send.data else ""
        return values

    def has_conditions(self) -> bool:
        return any(self[name].data or self[name].errors for name in CONDITION_FIELDS)


def rule_form(rule=None, submitted: bool = False, stage: str | None = None) -> RuleForm:
    """The posted form, an existing rule's form, or a new one suggested for a board column."""
    if submitted:
        return RuleForm()
    if rule is not None:
        return RuleForm(formdata=None, data=rule_data(rule))
    return RuleForm(formdata=None, data=suggestion(stage))


def suggestion(stage: str | None) -> dict:
    """A new rule for a column: its event, or "stuck" where a document waits (draft, approval)."""
    data = {"send": True, "recipient": "address"}
    if stage in STUCK_STAGES:
        data["stage"] = stage
    events = [key for key, (_label, column) in TRIGGERS.items() if column == stage]
    if stage in ("draft", "approval"):
        data.update(trigger="stuck", stuck_days="3")
    elif events:
        data["trigger"] = events[0]
    return data


def rule_data(rule) -> dict:
    """The form's values for a stored rule."""
    params, conditions = rule.params or {}, rule.conditions or {}
    data = {"name": rule.name, "trigger": rule.trigger, "stage": rule.stage,
            "stuck_days": str(rule.stuck_days or ""), "action": rule.action,
            **{key: str(conditions.get(key) if conditions.get(key) is not None else "")
               for key in CONDITION_FIELDS}}
    data.update({key: params.get(key, "") for key in ("note", "recipient", "address",
                                                      "subject", "body", "url")})
    data["user_id"] = str(params.get("user_id") or "")
    data["new_template_id"] = str(params.get("template_id") or "")
    data["send"] = bool(params.get("send", True))
    data["secret"] = ""  # blank keeps the stored secret; the edit form shows it apart
    return data
