"""The work-leases migration on a filled database: documents that failed to seal under the old
sweep (retried every 30 minutes for ever) get a due next try; the others are left as they were."""


import flask_migrate
from sqlalchemy import MetaData, Table, select, text

from portal import create_app
from portal.extensions import db
from tests.migration_support import insert_row

BEFORE = "f1a2b3c4d5e6"


def test_failed_unsealed_documents_get_a_due_next_try(empty_database, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            company = insert_row(connection, "companies", legal_name="Old LLC")
            user = insert_row(connection, "users", email="old@example.com")
            made = {"company_id": company, "responsible_id": user, "created_by_id": user}
            failed = insert_row(connection, "documents", number="A-1", verification_code="code-a",
                             stage="completed", seal_attempts=3, seal_error="[error] x", **made)
            fresh = insert_row(connection, "documents", number="A-2", verification_code="code-b",
                            stage="completed", seal_attempts=0, **made)
            draft = insert_row(connection, "documents", number="A-3", verification_code="code-c",
                            stage="draft", **made)
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            documents = Table("documents", MetaData(), autoload_with=connection)
            rows = dict(connection.execute(
                select(documents.c.id, documents.c.seal_next_at)).all())
            leases = connection.execute(text(
                "SELECT COUNT(*) FROM documents WHERE seal_lease_until IS NOT NULL")).scalar()
        assert rows[failed] is not None
        assert rows[fresh] is None and rows[draft] is None
        assert leases == 0
        flask_migrate.downgrade(revision=BEFORE)
        db.engine.dispose()
