"""Every audit event type, declared once: its name, its label, its payload, who hears of it.

`record` refuses a type not declared here and details that do not match the declaration;
the labels (audit.labels), the rule triggers (automation.triggers), the webhook events and
their OpenAPI schemas (api.openapi) are all read from this list.

A base layer: it imports nothing of Signet beyond translations, so any module may use it.
Labels reuse the msgids they had before the catalogue, so their translations stay.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

# The kinds a payload field may have. Details are stored as JSON: a `datetime` field holds
# an ISO 8601 text, and a `list` or `dict` holds JSON values.
KINDS = (str, int, bool, datetime, list, dict)
# Added by `record` itself to an event a rule caused (see audit.service), never by callers.
AUTOMATION_DEPTH = "automation_depth"
# Details that only make sense inside Signet (outbox rows): kept out of webhook bodies.
PRIVATE_DETAILS = frozenset({"message_id", "messages"})


class UndeclaredEvent(LookupError):
    """An event type nobody declared: the code names an event the catalogue does not know."""


class PayloadMismatch(ValueError):
    """An event's details do not match its declared payload."""


@dataclass(frozen=True)
class PayloadField:
    """One detail of an event: its name, the kinds its value may have, whether it may be left
    out (an optional field may also be None)."""

    name: str
    kinds: tuple[type, ...]
    optional: bool = False

    def accepts(self, value) -> bool:
        if value is None:
            return self.optional
        return any(_is_kind(value, kind) for kind in self.kinds)


def _is_kind(value, kind: type) -> bool:
    if kind is datetime:
        return isinstance(value, str) and _is_iso_moment(value)
    if kind is int:  # a bool is an int to Python, not to a reader of the trail
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _is_iso_moment(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def field(name: str, *kinds: type) -> PayloadField:
    """A detail every event of the type carries."""
    return PayloadField(name, kinds)


def optional(name: str, *kinds: type) -> PayloadField:
    """A detail only some events of the type carry (or carry as None)."""
    return PayloadField(name, kinds, optional=True)


@dataclass(frozen=True)
class EventType:
    name: str
    label: object  # a lazy string: the English msgid, read in the reader's language
    payload: tuple[PayloadField, ...] = ()
    webhook: bool = False  # integrations can subscribe to it
    rule_trigger: bool = False  # automation rules can be set off by it

    def field_named(self, name: str) -> PayloadField | None:
        return next((item for item in self.payload if item.name == name), None)

    def mismatches(self, details: dict) -> list[str]:
        """What is wrong with these details for this type (empty when they match)."""
        problems = [f"unknown detail {key!r}" for key in details
                    if key != AUTOMATION_DEPTH and self.field_named(key) is None]
        for item in self.payload:
            if item.name not in details:
                if not item.optional:
                    problems.append(f"missing detail {item.name!r}")
            elif not item.accepts(details[item.name]):
                kinds = "/".join(kind.__name__ for kind in item.kinds)
                problems.append(f"detail {item.name!r} should be {kinds}, "
                                f"not {type(details[item.name]).__name__}")
        return problems


_DECLARED: dict[str, EventType] = {}


def declare(name: str, label, *payload: PayloadField, webhook: bool = False,
            rule_trigger: bool = False) -> EventType:
    """Add an event type to the catalogue (once: a second declaration of a name is a bug)."""
    if name in _DECLARED:
        raise ValueError(f"Event type {name!r} is declared twice")
    for item in payload:
        if not item.kinds or not all(kind in KINDS for kind in item.kinds):
            raise ValueError(f"{name}.{item.name}: kinds must be among {KINDS}")
    declared = EventType(name, label, tuple(payload), webhook, rule_trigger)
    _DECLARED[name] = declared
    return declared


def lookup(name: "EventType | str") -> EventType:
    """The declared type of this name; UndeclaredEvent for a name nobody declared."""
    if isinstance(name, EventType):
        return name
    try:
        return _DECLARED[name]
    except (KeyError, TypeError):
        raise UndeclaredEvent(
            f"Audit event type {name!r} is not declared in portal/audit/catalogue.py"
        ) from None


def is_declared(name: str) -> bool:
    return name in _DECLARED


def checked(name: "EventType | str", details: dict) -> EventType:
    """The declared type, once the details are seen to match it; raises otherwise."""
    declared = lookup(name)
    problems = declared.mismatches(details)
    if problems:
        raise PayloadMismatch(f"Audit event {declared.name!r}: " + "; ".join(problems))
    return declared


def all_types() -> Iterator[EventType]:
    """Every declared type, in the order of declaration."""
    return iter(tuple(_DECLARED.values()))


def webhook_types() -> tuple[EventType, ...]:
    return tuple(item for item in _DECLARED.values() if item.webhook)


def rule_trigger_types() -> tuple[EventType, ...]:
    return tuple(item for item in _DECLARED.values() if item.rule_trigger)


# --- the catalogue ------------------------------------------------------------------------------
# Ordered as a document lives; webhook events keep the order integrations have seen them in.

_PARTY = (field("party_id", int), field("name", str), field("channel", str),
          field("contact", str))
_RULE = (field("rule_id", int), field("name", str), field("trigger", str),
         field("action", str))
_ENDPOINT = (field("endpoint_id", int), field("url", str), field("events", list, str))

# a document's life
DOCUMENT_CREATED = declare(
    "document.created", _l("Created"),
    field("source", str), field("number", str), field("title", str), field("sha256", str),
    field("page_count", int),
    # from a template
    optional("template_id", int), optional("template", str), optional("fields", int),
    optional("skipped_fields", int),
    # from an upload (what was cut out of it, and the upload's own digest)
    optional("filename", str), optional("kind", str), optional("removed_content", list),
    optional("uploaded_sha256", str),
    # made for a visitor of a public link
    optional("public_link_id", int),
    webhook=True)
DOCUMENT_UPDATED = declare("document.updated", _l("Details changed"), field("changes", dict))
DOCUMENT_PARTIES_SET = declare("document.parties_set", _l("Parties changed"),
                               field("parties", list), field("removed_fields", int))
DOCUMENT_FIELDS_SET = declare(
    "document.fields_set", _l("Fields placed"),
    field("op", str), field("count", int), optional("field_id", int), optional("type", str),
    optional("page", int), optional("changed", list))
DOCUMENT_DRAFT_DELETED = declare("document.draft_deleted", _l("Draft deleted"),
                                 field("deleted_document_id", int), optional("number", str),
                                 field("title", str))
DOCUMENT_SENT = declare(
    "document.sent", _l("Sent for signing"),
    field("stage", str), field("source_sha256", str), field("page_count", int),
    field("parties", list), field("fields", int),
    webhook=True, rule_trigger=True)
DOCUMENT_STAGE_CHANGED = declare("document.stage_changed", _l("Next stage"),
                                 field("previous_stage", str), field("stage", str),
                                 webhook=True)
# its signers
PARTY_INVITED = declare("party.invited", _l("Invitation sent"),
                        *_PARTY, field("role", str), field("message_id", int), webhook=True)
PARTY_INVITATION_RESENT = declare("party.invitation_resent", _l("Invitation sent again"),
                                  *_PARTY, field("previous_contact", str),
                                  field("message_id", int))
PARTY_OPENED = declare("party.opened", _l("Document opened"), webhook=True)
# `occurred_at`: the moment it really happened, when recorded later (a batch ceremony's
# consent and code, written into each document's trail as it is signed).
PARTY_CONSENT = declare("party.consent", _l("Agreement accepted"),
                        field("agreement_sha256", str), field("language", str),
                        optional("occurred_at", datetime))
PARTY_CODE_SENT = declare("party.code_sent", _l("Confirmation code sent"),
                          field("channel", str), field("message_id", int),
                          optional("occurred_at", datetime))
PARTY_CODE_CONFIRMED = declare(
    "party.code_confirmed", _l("Code confirmed"), field("attempt", int), field("session", str),
    # confirmed on a public link before the document existed: the link, the channel, the
    # masked address and the moments the code was sent and confirmed
    optional("public_link_id", int), optional("channel", str), optional("contact", str),
    optional("code_sent_at", datetime), optional("confirmed_at", datetime),
    optional("occurred_at", datetime))
PARTY_CODE_FAILED = declare("party.code_failed", _l("Wrong code entered"),
                            field("attempts_left", int))
FIELD_FILLED = declare("field.filled", _l("Field filled in"),
                       field("field_id", int), field("field_type", str), field("session", str),
                       optional("method", str))
PARTY_SIGNED = declare("party.signed", _l("Signed"), field("fields", int), field("session", str),
                       webhook=True, rule_trigger=True)
# the company signer signed this document among a bulk batch's, in one ceremony: when it
# accepted the agreement and confirmed the code there (portal/signing/bundles.py)
PARTY_SIGNED_IN_BATCH = declare(
    "party.signed_in_batch", _l("Signed in a batch ceremony"),
    field("bundle_id", int), field("batch_id", int), field("documents", int),
    field("consent_at", datetime), field("code_confirmed_at", datetime))
PARTY_INVITED_ALONE = declare(
    "party.invited_alone", _l("Invited on its own: the batch invitation could not go"),
    field("party_id", int), field("bundle_id", int), field("reason", str), field("detail", str))
# our company's signer pre-signed a public link: every document it makes carries the signature
PARTY_PRESIGNED = declare(
    "party.presigned", _l("Pre-signed for a public link"), field("public_link_id", int),
    field("title", str), field("presigned_at", datetime), field("signature_method", str),
    optional("stamp_method", str))
PARTY_DECLINED = declare("party.declined", _l("Declined to sign"),
                         field("reason", str), field("session", str), webhook=True)
PARTY_REMINDED = declare(
    "party.reminded", _l("Reminder sent"), *_PARTY, field("message_id", int),
    # the sweep's reminders: automatic, with the moment they were due and the link renewed
    optional("role", str), optional("automatic", bool), optional("new_link", bool),
    optional("at", datetime),
    webhook=True)
# how it ends
DOCUMENT_COMPLETED = declare("document.completed", _l("Signed by everyone"),
                             field("previous_stage", str), webhook=True, rule_trigger=True)
DOCUMENT_FINALIZED = declare("document.finalized", _l("Final PDF issued"),
                             field("sha256", str), field("size", int), field("attempts", int),
                             field("certificate_chain_head", str), webhook=True)
DOCUMENT_DECLINED = declare("document.declined", _l("Declined"),
                            field("party_id", int), field("reason", str),
                            webhook=True, rule_trigger=True)
DOCUMENT_DECLINE_NOTIFIED = declare("document.decline_notified",
                                    _l("Parties told of the decline"), field("messages", int))
DOCUMENT_STOPPED = declare("document.stopped", _l("Stopped"),
                           field("reason", str), field("previous_stage", str),
                           webhook=True, rule_trigger=True)
DOCUMENT_EXPIRED = declare("document.expired", _l("Expired"),
                           field("previous_stage", str), field("deadline", datetime),
                           webhook=True, rule_trigger=True)
# at any time
DOCUMENT_REASSIGNED = declare("document.reassigned", _l("Responsible changed"),
                              field("from_user", dict), field("to_user", dict), webhook=True)
DOCUMENT_DEADLINE_CHANGED = declare("document.deadline_changed", _l("Deadline changed"),
                                    optional("previous", datetime), field("deadline", datetime),
                                    webhook=True)
# retention: a legal hold keeps a document whole; the company's periods delete its PDFs and
# mask its signers' contacts (the document row and its digests stay for /verify)
DOCUMENT_LEGAL_HOLD_SET = declare("document.legal_hold_set", _l("Legal hold set"),
                                  field("reason", str))
DOCUMENT_LEGAL_HOLD_LIFTED = declare("document.legal_hold_lifted", _l("Legal hold lifted"),
                                     field("reason", str))
DOCUMENT_FILES_PURGED = declare("document.files_purged", _l("PDF files deleted (retention)"),
                                field("files", list), field("days", int),
                                field("completed_at", datetime))
DOCUMENT_CONTACTS_MASKED = declare("document.contacts_masked",
                                   _l("Contacts masked (retention)"),
                                   field("parties", int), field("events", int),
                                   field("days", int), field("completed_at", datetime))
# public links
_LINK = (field("link_id", int), field("title", str), field("template_id", int))
LINK_PUBLISHED = declare("link.published", _l("Public link published"), *_LINK,
                         field("channel", str), optional("expires_at", datetime),
                         optional("max_uses", int), field("allowed_domains", list),
                         optional("document_values", dict))
LINK_VALUES_CHANGED = declare("link.values_changed", _l("Public link's document values changed"),
                              *_LINK, field("document_values", dict), field("previous", dict))
LINK_PAUSED = declare("link.paused", _l("Public link paused"), *_LINK)
LINK_RESUMED = declare("link.resumed", _l("Public link resumed"), *_LINK)
LINK_DELETED = declare("link.deleted", _l("Public link deleted"), *_LINK, field("uses", int))
LINK_PRESIGN_REQUESTED = declare("link.presign_requested",
                                 _l("Pre-signature asked of our signer"), *_LINK,
                                 field("signer", str), field("message_id", int))
LINK_PRESIGNED = declare("link.presigned", _l("Public link pre-signed"), *_LINK,
                         field("signer", str), field("agreement_sha256", str),
                         field("signature_method", str), optional("stamp_method", str))
LINK_PRESIGN_REVOKED = declare("link.presign_revoked", _l("Pre-signature revoked"), *_LINK,
                               field("presigning", bool))
# automation and integrations
AUTOMATION_RAN = declare(
    "automation.ran", _l("Automation rule ran"),
    field("rule_id", int), field("rule", str), field("action", str), field("result", str),
    field("outcome", dict), field("run_id", int))
AUTOMATION_RULE_CREATED = declare("automation.rule_created", _l("Automation rule created"),
                                  *_RULE, optional("copied_from", int))
AUTOMATION_RULE_UPDATED = declare("automation.rule_updated", _l("Automation rule changed"),
                                  *_RULE)
AUTOMATION_RULE_ENABLED = declare("automation.rule_enabled", _l("Automation rule switched on"),
                                  *_RULE)
AUTOMATION_RULE_DISABLED = declare("automation.rule_disabled",
                                   _l("Automation rule switched off"), *_RULE)
AUTOMATION_RULE_DELETED = declare("automation.rule_deleted", _l("Automation rule deleted"),
                                  *_RULE)
AUTOMATION_RULE_MOVED = declare("automation.rule_moved", _l("Automation rule moved"),
                                *_RULE, field("position", int))
WEBHOOK_ENDPOINT_CREATED = declare("webhook.endpoint_created", _l("Webhook added"), *_ENDPOINT)
WEBHOOK_ENDPOINT_UPDATED = declare("webhook.endpoint_updated", _l("Webhook changed"),
                                   *_ENDPOINT)
WEBHOOK_ENDPOINT_DELETED = declare("webhook.endpoint_deleted", _l("Webhook deleted"),
                                   *_ENDPOINT)
WEBHOOK_SECRET_ROTATED = declare("webhook.secret_rotated", _l("Webhook secret replaced"),
                                 *_ENDPOINT)
WEBHOOK_RESENT = declare("webhook.resent", _l("Webhook delivery sent again"),
                         field("delivery_id", int), field("endpoint_id", int),
                         field("event", str))
# settings
ROLE_CREATED = declare("role.created", _l("Role created"),
                       field("role_id", int), field("name", str), optional("copied_from", int))
ROLE_UPDATED = declare(
    "role.updated", _l("Role changed"), field("role_id", int),
    # renamed or described anew: [before, after]; its grants changed: the name and the cells
    optional("name", list, str), optional("description", list), optional("grants", list),
    optional("require_two_factor", list))
ROLE_DELETED = declare("role.deleted", _l("Role deleted"),
                       field("role_id", int), field("name", str),
                       optional("replacement_id", int), field("users", list),
                       field("departments", list))
ROLE_ASSIGNED = declare(
    "role.assigned", _l("Roles assigned"), field("added", list), field("removed", list),
    # held by a user or by a department
    optional("user_id", int), optional("email", str), optional("department_id", int),
    optional("department", str))
DOCUMENT_RESTAMPED = declare("document.restamped", _l("Archive time stamp added"),
                             field("previous_sha256", str), field("sha256", str),
                             field("size", int))
SEAL_CERTIFICATE_REVOKED = declare("seal.certificate_revoked", _l("Seal certificate revoked"),
                                   field("serial", str), field("reason", str),
                                   field("subject", str), field("new_fingerprint", str))
SEAL_CERTIFICATE_REPLACED = declare("seal.certificate_replaced", _l("Seal certificate replaced"),
                                    field("subject", str), field("fingerprint", str))
