"""A run's outcome lives on the run: the run log reads it there, not in the audit trail."""

from sqlalchemy import delete

from portal.audit.models import AuditEvent
from portal.automation.models import RuleRun
from portal.extensions import db
from tests.automation.support import rule
from tests.documents.support import user
from tests.factories import make_user
from tests.helpers import login, post_form, text_of
from tests.progress.support import sent_document


def test_the_outcome_is_kept_on_the_run_and_shown_in_the_readers_language(app):
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True)
        rule(user(boss.id), name="Tell the boss", trigger="sent", action="notify_responsible")
        sent_document(boss.id)  # the rule runs when this context ends
    with app.app_context():
        [run] = db.session.scalars(db.select(RuleRun)).all()
        assert run.status == "succeeded"
        assert run.outcome == {"key": "emailed_responsible",
                               "params": {"address": "boss@example.com"}}
        db.session.execute(delete(AuditEvent).where(AuditEvent.type == "automation.ran"))
        db.session.commit()
    client = app.test_client()
    login(client, "boss@example.com", "correct horse battery")
    post_form(client, "/language", {"locale": "pt", "next": "/"})
    html = text_of(client.get("/automation/runs"))
    assert "Enviado por email para boss@example.com" in html and "Emailed" not in html
