"""The workflow owns a document's stage: its moves, its lock, its events and the unit of work."""

import ast
from pathlib import Path

import pytest

from portal import bus, unit
from portal.audit.service import events_for
from portal.documents import services
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from portal.workflow.lock import lock_document
from portal.workflow.machine import IllegalMove, can_move, change_stage
from portal.workflow.order import expire_overdue
from tests.documents.support import META, ready_draft, user
from tests.factories import make_user
from tests.progress.support import load, messages_to, sent_document

PORTAL = Path(__file__).resolve().parents[2] / "portal"
DIRECTOR = "director@signet.example"


def _stage_assignments(path: Path) -> list[int]:
    """Lines of `path` that set a document's stage: `x.stage = ...` or `.values(stage=...)`."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "stage" for t in targets):
                lines.append(node.lineno)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "values":
            lines += [node.lineno for k in node.keywords if k.arg == "stage"]
    return lines


def test_the_stage_is_assigned_in_the_workflow_package_only():
    outside = {}
    for path in PORTAL.rglob("*.py"):
        found = _stage_assignments(path)
        if found and path.parent.name != "workflow":
            outside[str(path.relative_to(PORTAL))] = found
    assert outside == {}
    assert _stage_assignments(PORTAL / "workflow" / "machine.py")


def test_open_stages_follow_the_turn_and_ended_stages_never_change():
    assert can_move("draft", "company_signing") and can_move("approval", "client_signing")
    # A client who signs first hands the turn back to our company (a public link's document).
    assert can_move("client_signing", "company_signing")
    assert not can_move("draft", "client_signing")
    for ended in ("completed", "declined", "stopped", "expired"):
        assert not any(can_move(ended, to) for to in ("draft", "approval", "stopped"))
    document = Document(stage="completed")
    with pytest.raises(IllegalMove):
        change_stage(document, "stopped", utcnow())
    assert document.stage == "completed"


def test_sending_stamps_the_moment_and_records_one_event(app):
    with app.app_context():
        sender = make_user().id
        document_id = sent_document(sender)
        document = load(document_id)
        assert document.stage == "company_signing"
        assert document.sent_at == document.stage_changed_at is not None
        types = [event.type for event in events_for(document_id)]
        assert types.count("document.sent") == 1 and "party.invited" in types


def test_a_failing_reaction_never_undoes_the_change(app):
    def broken(_happened):
        db.session.execute(db.text("SELECT 1"))
        raise RuntimeError("a reaction with a bug")

    bus.subscribe("document.stopped", broken)
    try:
        with app.app_context():
            sender = make_user().id
            document_id = sent_document(sender)
            services.stop(user(sender), META, document_id, "The client asked for changes")
            assert load(document_id).stage == "stopped"
            # The other reactions still ran: the invited director hears of the stop.
            assert [m.kind for m in messages_to(DIRECTOR)] == ["signing-invitation",
                                                                "signing-stopped"]
    finally:
        bus._reactions["document.stopped"].remove(broken)


def test_a_lock_never_commits_the_callers_changes(app):
    with app.app_context():
        sender = make_user().id
        document = ready_draft(sender)
        document.title = "Changed but not saved"
        with pytest.raises(RuntimeError, match="holds changes"):
            lock_document(document.id)
        db.session.rollback()
        assert load(document.id).title != "Changed but not saved"


def test_work_handed_to_the_commit_runs_after_it_and_never_after_a_rollback(app):
    ran = []
    with app.app_context():
        make_user()
        unit.after_commit(lambda: ran.append("rolled back"))
        unit.rollback()
        unit.after_commit(lambda: ran.append("committed"))
        unit.commit()
        with pytest.raises(ValueError), unit.unit_of_work():
            unit.after_commit(lambda: ran.append("failed block"))
            raise ValueError("a refusal")
    assert ran == ["committed"]


def test_expiry_goes_through_the_workflow_once(app):
    with app.app_context():
        sender = make_user().id
        document_id = sent_document(sender)
        db.session.execute(db.update(Document).where(Document.id == document_id)
                           .values(deadline_at=utcnow()))
        db.session.commit()
        assert expire_overdue() == 1
        assert expire_overdue() == 0
        assert load(document_id).stage == "expired"
        assert [e.type for e in events_for(document_id)].count("document.expired") == 1
