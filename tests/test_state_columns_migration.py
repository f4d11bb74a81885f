"""The state-in-columns migration fills the new columns from the events that told it before."""

from datetime import UTC, datetime, timedelta

import flask_migrate
from sqlalchemy import MetaData, Table, select

from portal import create_app
from portal.automation.models import RuleRun
from portal.delivery.models import Message
from portal.documents.models import Party
from portal.extensions import db
from portal.models_base import as_utc
from tests.migration_support import insert_row

BEFORE = "a9b8c7d6e5f4"
NOW = datetime.now(UTC).replace(microsecond=0)
SWEEP_AT = NOW - timedelta(days=1)  # the sweep's own clock, kept in the event as `at`
BY_HAND_AT = NOW - timedelta(hours=3)
OUTCOME = {"key": "emailed_responsible", "params": {"address": "boss@example.com"}}


def _fill(connection) -> dict[str, int]:
    company = insert_row(connection, "companies", legal_name="Old LLC")
    user = insert_row(connection, "users", email="old@example.com", active=True)
    document = insert_row(connection, "documents", company_id=company, responsible_id=user,
                          created_by_id=user, stage="company_signing", number="ACT-1",
                          language="en")
    signer, quiet = (insert_row(connection, "parties", document_id=document, role=role,
                                channel="email", email=f"{role}@example.com", status="sent")
                     for role in ("company", "client"))
    invitation, code = (insert_row(connection, "messages", channel="email", kind=kind,
                                   recipient="company@example.com", status="sent")
                        for kind in ("signing-invitation", "signing_code"))
    other = insert_row(connection, "messages", channel="email", kind="document-expired",
                       recipient="old@example.com", status="sent")
    rules = Table("automation_rules", MetaData(), autoload_with=connection)
    rule = connection.execute(rules.insert().values(
        name="Tell", trigger="sent", stage="company_signing", action="notify_responsible",
        conditions={}, params={}, position=0, enabled=True, created_at=NOW, updated_at=NOW)
        .returning(rules.c.id)).scalar_one()
    run = insert_row(connection, "automation_runs", rule_id=rule, document_id=document,
                     event_key="e1", trigger="sent", status="succeeded")

    def event(event_type, created_at, **details):
        insert_row(connection, "audit_events", document_id=document, type=event_type,
                   actor_type="party" if event_type == "party.code_sent" else "system",
                   actor_id=signer if event_type == "party.code_sent" else None,
                   created_at=created_at, details=details, hash="h")

    event("party.invited", NOW - timedelta(days=3), party_id=signer, message_id=invitation)
    event("party.reminded", SWEEP_AT + timedelta(seconds=5), party_id=signer,
          at=SWEEP_AT.isoformat(), automatic=True)
    event("party.reminded", BY_HAND_AT, party_id=signer)
    for minutes in (90, 20, 10):  # the first is out of the hourly window already
        event("party.code_sent", NOW - timedelta(minutes=minutes), message_id=code)
    event("automation.ran", NOW, run_id=run, outcome=OUTCOME, result="Emailed")
    return {"signer": signer, "quiet": quiet, "invitation": invitation, "code": code,
            "other": other, "run": run, "document": document}


def test_reminders_code_sends_documents_and_outcomes_come_from_the_events(empty_database,
                                                                          tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            ids = _fill(connection)
        flask_migrate.upgrade()

        signer, quiet = (db.session.get(Party, ids[key]) for key in ("signer", "quiet"))
        assert signer.reminders_sent == 2
        assert as_utc(signer.last_reminded_at) == BY_HAND_AT  # the later of the two
        assert (quiet.reminders_sent, quiet.last_reminded_at, quiet.recent_code_sends) \
            == (0, None, None)
        assert [as_utc(datetime.fromisoformat(moment)) for moment in signer.recent_code_sends] \
            == [NOW - timedelta(minutes=20), NOW - timedelta(minutes=10)]
        documents = {key: db.session.get(Message, ids[key]).document_id
                     for key in ("invitation", "code", "other")}
        assert documents == {"invitation": ids["document"], "code": ids["document"],
                             "other": None}
        assert db.session.get(RuleRun, ids["run"]).outcome == OUTCOME
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            parties = Table("parties", MetaData(), autoload_with=connection)
            messages = Table("messages", MetaData(), autoload_with=connection)
            assert "last_reminded_at" not in parties.c and "document_id" not in messages.c
            assert len(connection.execute(select(messages)).all()) == 3
        db.engine.dispose()
