"""Every audit event type has a translated name, from one list (portal/audit/labels.py), and
no page, certificate or message shows a raw key like `field.filled`. Automation lines and
staff messages speak their reader's language."""

import ast
import html
import re
import subprocess
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from portal.audit import catalogue
from portal.audit.catalogue import EventType
from portal.audit.labels import EVENT_LABELS, OUTCOMES, event_label, outcome_text
from portal.audit.service import events_for, record
from portal.auth.users import UserFields, create_user
from portal.automation.models import RuleRun
from portal.delivery.models import Message
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from portal.sealing.certificate import certificate_pages
from portal.sealing.finalize import _failure_text, seal_failure_text
from portal.sealing.pades import TimestampUnavailable
from portal.workflow.order import expire_overdue
from tests.audit.support import sample_details, write_undeclared_event
from tests.automation.support import rule
from tests.factories import make_user
from tests.helpers import post_form, sign_in
from tests.progress.support import sent_document

PORTAL = Path(__file__).resolve().parents[2] / "portal"
LANGUAGES = ("en", "ru", "pt")
# An event type written by an older or newer version: it must not show as its key either.
LEGACY_TYPE = "legacy.thing_done"
KEY_LIKE = re.compile(r"\b[a-z]+\.[a-z_]+\b")
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


# --- the list covers what the code records ------------------------------------------------

def _call_name(node: ast.Call) -> str | None:
    return getattr(node.func, "id", None) or getattr(node.func, "attr", None)


def _is_security_log(node: ast.Call) -> bool:
    # The security log's record() has its own catalogue (security_log.KINDS), checked there.
    return getattr(getattr(node.func, "value", None), "id", None) == "security_log"


def _hands_on_event_type(function: ast.FunctionDef, names: set[str]) -> bool:
    return any(isinstance(call, ast.Call) and _call_name(call) in names and call.args
               and isinstance(call.args[0], ast.Name) and call.args[0].id == "event_type"
               for call in ast.walk(function))


def _recording_functions(trees) -> set[str]:
    """record() and every wrapper that passes its `event_type` on to it (or to a wrapper)."""
    functions = [node for tree in trees for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef) and node.args.args
                 and node.args.args[0].arg == "event_type"]
    names, grown = {"record"}, True
    while grown:
        wrappers = {function.name for function in functions
                    if _hands_on_event_type(function, names)}
        grown = not wrappers <= names
        names |= wrappers
    return names


def _string_constants(tree) -> dict[str, str]:
    """Module-level NAME = "a.b" assignments (e.g. REMINDED = "party.reminded")."""
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)}


def _catalogue_constants() -> dict[str, str]:
    """The catalogue's constants (PARTY_REMINDED -> "party.reminded"), as call sites name them."""
    return {name: value.name for name, value in vars(catalogue).items()
            if isinstance(value, EventType)}


def _catalogue_constant(node, constants: dict[str, str]) -> str | None:
    """The event named by `PARTY_REMINDED` or `catalogue.PARTY_REMINDED`, if that is one."""
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.Attribute):
        return constants.get(node.attr)
    return None


def recorded_types() -> tuple[set[str], list[str]]:
    """Every event type passed to record() or a wrapper; calls whose type cannot be read."""
    trees = {path: ast.parse(path.read_text(), str(path)) for path in PORTAL.rglob("*.py")}
    functions = _recording_functions(trees.values())
    declared = _catalogue_constants()
    found, unreadable = set(), []
    for path, tree in trees.items():
        constants = _string_constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            if _call_name(node) not in functions or _is_security_log(node):
                continue
            first = node.args[0]
            if isinstance(first, ast.Name) and first.id == "event_type":
                continue  # a wrapper handing its own argument on
            if isinstance(first, ast.Name) and first.id in constants:
                found.add(constants[first.id])
                continue
            if _catalogue_constant(first, declared):
                found.add(_catalogue_constant(first, declared))
                continue
            strings = [item.value for item in ast.walk(first)
                       if isinstance(item, ast.Constant) and isinstance(item.value, str)]
            if not strings:
                unreadable.append(f"{path.relative_to(PORTAL.parent)}:{node.lineno}")
            found.update(strings)
    return found, unreadable


def test_every_type_the_code_records_has_a_label_and_every_label_is_recorded():
    found, unreadable = recorded_types()
    assert unreadable == [], "event types the test cannot read: pass a catalogue constant"
    assert {"field.filled", "party.code_sent", "automation.ran", "webhook.resent",
            "role.assigned", "party.reminded"} <= found  # the scan reaches every wrapper
    assert sorted(found - set(EVENT_LABELS)) == [], "recorded without a label"
    assert sorted(set(EVENT_LABELS) - found) == [], "labelled but recorded nowhere"


def test_every_label_is_translated_and_unknown_types_never_show_their_key(app):
    with app.test_request_context():
        for language in LANGUAGES:
            with force_locale(language):
                assert event_label(LEGACY_TYPE) == str(event_label("no.such_type"))
                assert not KEY_LIKE.search(event_label(LEGACY_TYPE))
                labels = {name: event_label(name) for name in EVENT_LABELS}
            assert len(set(labels.values())) == len(labels), "two types share a name"
            if language == "en":
                english = labels
                continue
            for name, label in labels.items():
                assert label != english[name], (language, name)
                if language == "ru":
                    assert CYRILLIC.search(label), (name, label)


# --- the document's history and its certificate -------------------------------------------

DETAILS = {
    "party.invited": {"name": "Maria Silva"},
    "document.stage_changed": {"stage": "client_signing"},
    "document.fields_set": {"count": 2},
    "document.stopped": {"reason": "Wrong amount"},
    "automation.ran": {"rule": "Tell the boss", "result": "Emailed boss@example.com",
                       "outcome": {"key": "emailed_responsible",
                                   "params": {"address": "boss@example.com"}}},
}


@pytest.fixture
def every_event(app, admin):
    """A sent document with one event of every type, and one of a type nobody knows."""
    with app.app_context():
        document_id = sent_document(admin["id"])
        for name in EVENT_LABELS:
            record(name, document_id, None, None, **sample_details(name, **DETAILS.get(name, {})))
        write_undeclared_event(LEGACY_TYPE, document_id)
        db.session.commit()
    return document_id


def _raw_keys(text: str) -> set[str]:
    return set(KEY_LIKE.findall(text)) & {*EVENT_LABELS, LEGACY_TYPE}


def _labels_in(app, language: str) -> dict[str, str]:
    with app.test_request_context(), force_locale(language):
        return {name: event_label(name) for name in [*EVENT_LABELS, LEGACY_TYPE]}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_history_names_every_event_in_the_readers_language(app, admin_client,
                                                               every_event, language):
    post_form(admin_client, "/language", {"locale": language, "next": "/"})
    page = html.unescape(admin_client.get(f"/documents/{every_event}").get_data(as_text=True))
    timeline = page[page.index('id="audit-timeline"'):]
    timeline = timeline[:timeline.index("</section>")]
    for name, label in _labels_in(app, language).items():
        assert f"<strong>{label}</strong>" in timeline, (name, label)
    assert _raw_keys(page) == set()
    with app.test_request_context(), force_locale(language):
        emailed = outcome_text(DETAILS["automation.ran"]["outcome"])
    assert emailed in timeline
    if language != "en":
        assert "Emailed" not in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_certificate_names_every_event_in_the_documents_language(app, every_event,
                                                                     language):
    with app.app_context():
        document = db.session.get(Document, every_event)
        document.language = language
        events = events_for(document.id)
        pdf = certificate_pages(document, original_sha256="0" * 64, events=events,
                                chain_head=events[-1].hash, verify_url="http://localhost/v")
        db.session.rollback()
    # pypdf keeps each table cell's lines together; pdftotext reads the page as printed.
    cells = " ".join(" ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
                     .split())
    printed = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                             check=True).stdout.decode()
    for name, label in _labels_in(app, language).items():
        assert label in cells, (name, label)
    assert _raw_keys(cells) == set() and _raw_keys(printed) == set()
    assert "field.filled" not in printed


# --- automation lines and staff messages -------------------------------------------------

def _subjects(address: str) -> list[str]:
    db.session.commit()
    return list(db.session.scalars(db.select(Message.subject).where(Message.recipient == address)
                                   .order_by(Message.id)))


def test_a_rules_line_and_its_notice_follow_their_readers_not_the_job(make_app):
    # The portal speaks Russian by default; the responsible chose Portuguese.
    app = make_app(BABEL_DEFAULT_LOCALE="ru")
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True)
        boss.locale = "pt"
        db.session.commit()
        rule(boss, name="Tell the boss", trigger="sent", action="notify_responsible")
        document_id = sent_document(boss.id)  # the rule runs when this context ends
    with app.app_context():
        [run] = db.session.scalars(db.select(RuleRun)).all()
        assert (run.status, run.result) == ("succeeded", "Emailed boss@example.com")
        [ran] = [e for e in events_for(document_id) if e.type == "automation.ran"]
        assert ran.details["outcome"] == {"key": "emailed_responsible",
                                          "params": {"address": "boss@example.com"}}
        assert _subjects("boss@example.com")[-1].startswith("Documento enviado: ")

    client = app.test_client()
    sign_in(client, "boss@example.com")
    expected = {"en": "Emailed boss@example.com", "ru": "Письмо отправлено на boss@example.com",
                "pt": "Enviado por email para boss@example.com"}
    for language, line in expected.items():
        post_form(client, "/language", {"locale": language, "next": "/"})
        document_page = client.get(f"/documents/{document_id}").get_data(as_text=True)
        runs_page = client.get("/automation/runs").get_data(as_text=True)
        for page in (document_page, runs_page):
            assert line in page, language
            if language != "en":
                assert "Emailed" not in page


def test_outcomes_of_old_rows_and_unknown_keys_show_as_they_were_stored(app):
    with app.test_request_context(), force_locale("ru"):
        assert outcome_text(None, "Emailed old@example.com") == "Emailed old@example.com"
        assert outcome_text({"key": "gone"}, "as stored") == "as stored"
        assert outcome_text({"plain": "HTTP 200: ok"}) == "HTTP 200: ok"
        assert outcome_text({"key": "emailed", "params": {}}, "as stored") == "as stored"
        for key in OUTCOMES:
            assert not KEY_LIKE.fullmatch(str(OUTCOMES[key]))


def test_staff_notices_use_their_own_language_else_the_portals(make_app):
    app = make_app(BABEL_DEFAULT_LOCALE="ru")
    with app.app_context():
        chooser = make_user(email="pt@example.com", name="Paula", is_admin=True)
        chooser.locale = "pt"
        silent = make_user(email="none@example.com", name="Nina", is_admin=True)
        db.session.commit()
        ids = {}
        for person in (chooser, silent):
            ids[person.email] = sent_document(person.id)
            document = db.session.get(Document, ids[person.email])
            document.language = "en"
            document.deadline_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert expire_overdue() == 2
        assert _subjects("pt@example.com")[-1].startswith("Expirado: ")
        assert _subjects("none@example.com")[-1].startswith("Просрочен: ")

        # An invitation speaks the portal's language, not the inviting admin's.
        with app.test_request_context(), force_locale("pt"):
            create_user(chooser, UserFields(email="new@example.com", name="New Person"))
        assert _subjects("new@example.com") == ["Приглашение в Signet"]


def test_a_sealing_failure_is_kept_neutral_and_shown_in_the_readers_language(app):
    stored = _failure_text(TimestampUnavailable("None of the 2 authorities answered."))
    assert stored.startswith("[timestamp_unavailable] None of the 2")
    crash = _failure_text(ValueError("bad xref"))
    with app.test_request_context():
        with force_locale("ru"):
            assert CYRILLIC.search(seal_failure_text(stored))
            assert seal_failure_text(crash).endswith("ValueError: bad xref")
            assert "Sealing failed" not in seal_failure_text(crash)
        with force_locale("pt"):
            assert "carimbo de tempo" in seal_failure_text(stored)
        with force_locale("en"):
            assert seal_failure_text("ValueError: from an old row") == "ValueError: from an old row"
