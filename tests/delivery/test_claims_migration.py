"""The message-claims migration on a database filled by the version before it."""

from datetime import timedelta

import flask_migrate
from sqlalchemy import MetaData, Table, select

from portal import create_app
from portal.delivery.models import Message
from portal.delivery.services import deliver_due_messages
from portal.extensions import db
from tests.migration_support import insert_row

BEFORE = "e4a7b2c8d1f6"
SMTP_ID = "<170000.1.2@mail.example>"


def _fill(connection) -> dict[str, int]:
    def message(**values):
        return insert_row(connection, "messages", **{
            "channel": "email", "recipient": "a@example.com", "subject": "Hi",
            "body_text": "Hello", "body_html": "", "kind": "test", "provider_id": "",
            "last_error": "", "attempts": 1, **values})

    return {
        "queued": message(status="queued", backend="", attempts=0),
        "sent": message(status="sent", backend="smtp", provider_id=SMTP_ID),
        "failed": message(status="failed", backend="smtp", last_error="Connection refused"),
        "sms": message(status="sent", backend="sms-gateway", provider_id="sms-7",
                       channel="sms", recipient="+351912345678"),
    }


def test_statuses_stay_and_every_message_gets_one_message_id(empty_database, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "kept"})
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            ids = _fill(connection)
        flask_migrate.upgrade()

        rows = {key: db.session.get(Message, row_id) for key, row_id in ids.items()}
        assert {key: row.status for key, row in rows.items()} == {
            "queued": "queued", "sent": "sent", "failed": "failed", "sms": "sent"}
        assert rows["sent"].message_id_header == SMTP_ID  # the id the server was given
        headers = [row.message_id_header for row in rows.values()]
        assert len(set(headers)) == len(headers)
        assert all(header.startswith("<") and "@" in header for header in headers)
        assert all(row.queued_at is not None for row in rows.values())
        db.session.remove()

        # The queued one is due; the failed one stays failed (its tries belong to the past).
        assert deliver_due_messages(queued_grace=timedelta(0)) == 1
        db.session.remove()
        assert db.session.get(Message, ids["queued"]).status == "sent"
        assert db.session.get(Message, ids["failed"]).status == "failed"
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            table = Table("messages", MetaData(), autoload_with=connection)
            assert "message_id_header" not in table.c
            assert len(connection.execute(select(table)).all()) == 4
        db.engine.dispose()
