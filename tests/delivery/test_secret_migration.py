"""The migration that seals links and codes, on a database filled by the version before it."""

import hashlib
import json

import flask_migrate
from sqlalchemy import MetaData, Table, select

from portal import create_app
from portal.delivery.models import Message
from portal.delivery.redaction import MASK, as_sent
from portal.documents.links import current_link_token
from portal.documents.models import Party
from portal.extensions import db
from tests.migration_support import insert_row

BEFORE = "b7e4c1d9a2f0"
TOKEN = "Zr3kq-Hw0PpE1vN8sY_4tLmA6bC9dEfGhIjKlMnOpQr"
CODE = "008801"


def _fill(connection) -> dict[str, int]:
    company = insert_row(connection, "companies", legal_name="Old LLC")
    user = insert_row(connection, "users", email="old@example.com", active=True)
    document = insert_row(connection, "documents", company_id=company, responsible_id=user,
                          created_by_id=user, stage="company_signing", number="ACT-1",
                          language="en")
    party = insert_row(connection, "parties", document_id=document, role="company",
                       channel="email", email="director@signet.example", status="sent",
                       token_hash=hashlib.sha256(TOKEN.encode()).hexdigest())
    link = f"http://localhost/s/{TOKEN}"
    return {
        "party": party,
        "delivered": insert_row(
            connection, "messages", channel="email", recipient="director@signet.example",
            kind="signing-invitation", status="sent", backend="smtp", attempts=1,
            subject="Please sign ACT-1", body_text=f"Review and sign:\n{link}\n",
            body_html=f'<a href="{link}">Review and sign</a> {link}'),
        "kept": insert_row(
            connection, "messages", channel="email", recipient="director@signet.example",
            kind="signing_code", status="sent", backend="outbox", attempts=1,
            subject=f"Your signing code: {CODE}", body_text=f"Your code:\n\n{CODE}\n",
            body_html=f"<p>{CODE}</p><p>ACT-1</p>"),
        "other": insert_row(
            connection, "messages", channel="email", recipient="boss@example.com",
            kind="document-expired", status="sent", backend="smtp", attempts=1,
            subject="Expired: ACT-1", body_text="Order 123456 expired", body_html=""),
    }


def test_links_and_codes_of_existing_messages_are_sealed_or_redacted(empty_database, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "old-and-kept"})
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            ids = _fill(connection)
        flask_migrate.upgrade()  # through this migration and the ones after it

        delivered, kept, other = (db.session.get(Message, ids[key])
                                  for key in ("delivered", "kept", "other"))
        # Delivered by a real server: redacted for good.
        stored = delivered.subject + delivered.body_text + delivered.body_html
        assert TOKEN not in stored and delivered.secrets is None and as_sent(delivered) is None
        # Only in the outbox so far: sealed beside the body, put back exactly when sent.
        assert CODE not in kept.subject + kept.body_text + kept.body_html and kept.secrets
        assert as_sent(kept).subject == f"Your signing code: {CODE}"
        assert as_sent(kept).body_html == f"<p>{CODE}</p><p>ACT-1</p>"
        assert other.body_text == "Order 123456 expired"  # no signer's secret: untouched
        # The party's working link, found in its invitation, is sealed on the party.
        assert current_link_token(db.session.get(Party, ids["party"])) == TOKEN
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            table = Table("messages", MetaData(), autoload_with=connection)
            rows = {row.id: row for row in connection.execute(select(table))}
        assert rows[ids["kept"]].subject == f"Your signing code: {CODE}"
        assert f"http://localhost/s/{MASK}" in rows[ids["delivered"]].body_text
        assert "secrets" not in json.dumps(list(rows[ids["kept"]]._mapping))
        db.engine.dispose()
