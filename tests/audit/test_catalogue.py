"""Every audit event type is declared once (portal/audit/catalogue.py): recording anything else
fails, details must match the declaration, and labels, rule triggers and the webhook schemas
are read from the declarations."""

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from portal.audit import catalogue
from portal.audit.catalogue import (
    AUTOMATION_DEPTH,
    PRIVATE_DETAILS,
    EventType,
    PayloadMismatch,
    UndeclaredEvent,
    all_types,
    declare,
    field,
    lookup,
    optional,
)
from portal.audit.labels import EVENT_LABELS
from portal.audit.models import AuditEvent
from portal.audit.service import events_for, record
from portal.auth.models import User
from portal.automation.hooks import DEPTH
from portal.automation.triggers import WATCHED_EVENTS, WEBHOOK_EVENTS, trigger_of
from portal.automation.webhooks import event_payload
from portal.documents.trail import audit
from portal.extensions import db
from tests.audit.support import sample_details
from tests.automation.support import rule, sign_as
from tests.progress.support import load, sent_document

PORTAL = Path(__file__).resolve().parents[2] / "portal"
TRANSLATIONS = PORTAL / "translations"


def _document_id(admin) -> int:
    return sent_document(admin["id"])


def _count_events() -> int:
    return db.session.scalar(db.select(db.func.count(AuditEvent.id)))


# --- recording ---------------------------------------------------------------------------------

def test_recording_an_undeclared_type_fails_and_writes_nothing(app, admin):
    with app.app_context():
        document_id = _document_id(admin)
        before = _count_events()
        with pytest.raises(UndeclaredEvent, match="party.waved.*portal/audit/catalogue.py"):
            record("party.waved", document_id, None, None)
        with pytest.raises(UndeclaredEvent):
            audit("document.teleported", load(document_id), None, None)
        assert _count_events() == before


def test_details_must_match_the_declaration(app, admin):
    with app.app_context():
        document_id = _document_id(admin)
        before = _count_events()
        valid = sample_details(catalogue.DOCUMENT_STOPPED)
        with pytest.raises(PayloadMismatch, match="unknown detail 'colour'"):
            record(catalogue.DOCUMENT_STOPPED, document_id, colour="red", **valid)
        with pytest.raises(PayloadMismatch, match="missing detail 'reason'"):
            record(catalogue.DOCUMENT_STOPPED, document_id, previous_stage="draft")
        with pytest.raises(PayloadMismatch, match="'previous_stage' should be str, not int"):
            record(catalogue.DOCUMENT_STOPPED, document_id, reason="Wrong", previous_stage=3)
        with pytest.raises(PayloadMismatch, match="'deadline' should be datetime"):
            record(catalogue.DOCUMENT_EXPIRED, document_id, previous_stage="client_signing",
                   deadline="next Tuesday")
        with pytest.raises(PayloadMismatch, match="'fields' should be int, not bool"):
            record(catalogue.PARTY_SIGNED, document_id, fields=True, session="abc")
        assert _count_events() == before


def test_optional_details_may_be_left_out_or_none_and_depth_is_added_by_record(app, admin):
    with app.app_context():
        document_id = _document_id(admin)
        record("document.deadline_changed", document_id, previous=None,
               deadline="2026-05-01T10:00:00+00:00")
        record(catalogue.PARTY_REMINDED, document_id,
               **sample_details(catalogue.PARTY_REMINDED))
        token = DEPTH.set(2)
        try:
            caused = record(catalogue.DOCUMENT_STOPPED, document_id, reason="A rule did it",
                            previous_stage="client_signing")
        finally:
            DEPTH.reset(token)
        db.session.commit()
        assert caused.type == "document.stopped"
        assert caused.details[AUTOMATION_DEPTH] == 2
        assert lookup(caused.type).mismatches(caused.details) == []


def test_a_name_is_declared_once_with_known_kinds():
    with pytest.raises(ValueError, match="declared twice"):
        declare("party.signed", "Signed again")
    with pytest.raises(ValueError, match="kinds must be among"):
        declare("party.hummed", "Hummed", field("tune", float))
    with pytest.raises(ValueError, match="kinds must be among"):
        declare("party.whistled", "Whistled", optional("tune"))
    assert not catalogue.is_declared("party.hummed")
    assert not catalogue.is_declared("party.whistled")


def test_every_constant_is_its_declaration_and_every_declaration_has_a_constant():
    constants = {value.name: value for value in vars(catalogue).values()
                 if isinstance(value, EventType)}
    assert list(constants.values()) == list(all_types())
    for declared in all_types():
        assert lookup(declared.name) is declared
        assert declared.name.count(".") == 1


def test_the_catalogue_is_a_base_layer():
    """It may be imported from anywhere, so it imports nothing of Signet's own."""
    tree = ast.parse((PORTAL / "audit" / "catalogue.py").read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    assert {module for module in modules if module.startswith("portal")} == set()
    assert modules <= {"collections.abc", "dataclasses", "datetime", "flask_babel"}


# --- a whole document's life ---------------------------------------------------------------

def test_every_event_of_a_documents_whole_life_is_declared_and_matches(app, admin):
    """Created, sent, signed by both through the ceremony, completed, sealed; rules ran."""
    with app.app_context():
        boss = db.session.get(User, admin["id"])
        rule(boss, name="On send", trigger="sent", action="notify_responsible")
        rule(boss, name="On completion", trigger="all_signed", action="notify_responsible")
        document_id = sent_document(admin["id"])
    with app.app_context():
        sign_as(document_id, "company")
    with app.app_context():
        sign_as(document_id, "client")
    with app.app_context():
        assert load(document_id).stage == "completed"
        events = events_for(document_id)
        trail = {event.type for event in events}
        assert {"document.created", "document.fields_set", "document.sent", "party.invited",
                "party.consent", "party.code_sent", "party.code_confirmed", "party.signed",
                "document.stage_changed", "document.completed",
                "automation.ran"} <= trail, trail
        for event in events:
            assert catalogue.is_declared(event.type), event.type
            assert lookup(event.type).mismatches(event.details or {}) == [], event.type


# --- what is read from the catalogue --------------------------------------------------------

def _translations(language: str) -> dict[str, str]:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {message.id: message.string for message in read_po(po) if message.id}


@pytest.mark.parametrize("language", ["ru", "pt"])
def test_every_label_is_in_the_languages_catalog(app, language):
    catalog = _translations(language)
    with app.app_context(), force_locale("en"):
        msgids = {declared.name: str(declared.label) for declared in all_types()}
    missing = sorted(name for name, msgid in msgids.items() if not catalog.get(msgid))
    assert missing == [], f"labels without a {language} translation"


def test_labels_are_the_catalogues():
    assert list(EVENT_LABELS) == [declared.name for declared in all_types()]
    assert all(EVENT_LABELS[declared.name] is declared.label for declared in all_types())


def test_rule_triggers_and_webhook_events_come_from_the_catalogue():
    webhook = [declared.name for declared in all_types() if declared.webhook]
    triggers = {declared.name for declared in all_types() if declared.rule_trigger}
    assert list(WEBHOOK_EVENTS) == webhook
    assert set(webhook) | triggers == WATCHED_EVENTS
    for name in triggers:
        assert trigger_of(name, {}, "client") is not None, name
    for declared in all_types():
        if not declared.rule_trigger:
            assert trigger_of(declared.name, {}, "client") is None, declared.name


def test_openapi_lists_each_webhook_event_with_its_declared_details(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    mapping = schemas["WebhookEvent"]["discriminator"]["mapping"]
    assert set(mapping) == set(WEBHOOK_EVENTS)  # JSON sorts the keys
    assert len(schemas["WebhookEvent"]["oneOf"]) == len(WEBHOOK_EVENTS)
    for declared in catalogue.webhook_types():
        schema = schemas[mapping[declared.name].rsplit("/", 1)[1]]
        assert schema["properties"]["type"] == {"const": declared.name}
        details = schema["properties"]["details"]
        public = {item.name for item in declared.payload} - PRIVATE_DETAILS
        assert set(details["properties"]) == public | {AUTOMATION_DEPTH}
        assert set(details["required"]) == {item.name for item in declared.payload
                                             if not item.optional} - PRIVATE_DETAILS
    reminded = schemas["WebhookEvent.party.reminded"]["properties"]["details"]["properties"]
    assert reminded["at"] == {"anyOf": [{"type": "string", "format": "date-time"},
                                        {"type": "null"}]}
    assert "message_id" not in reminded
    assert "party.code_sent" not in mapping and "field.filled" not in mapping


def test_a_webhook_body_carries_the_declared_details_but_no_private_ones(app, admin):
    with app.app_context():
        document_id = _document_id(admin)
        [invited] = [event for event in events_for(document_id) if event.type == "party.invited"]
        with app.test_request_context():
            payload = event_payload(invited, load(document_id))
        assert payload["type"] == catalogue.PARTY_INVITED.name
        assert "message_id" not in payload["details"]
        assert set(payload["details"]) <= {item.name for item in catalogue.PARTY_INVITED.payload}
