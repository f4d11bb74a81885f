"""The retention migration on a database with rows: every new column has its default."""

import flask_migrate
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from tests.migration_support import insert_row

BEFORE = "c9e1f3a5b7d9"


def test_upgrade_gives_old_rows_retention_off_and_no_hold(empty_database, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            user_id = insert_row(connection, "users", email="old@example.com")
            company_id = insert_row(connection, "companies", legal_name="Old LLC")
            document_id = insert_row(connection, "documents", company_id=company_id,
                                     responsible_id=user_id, created_by_id=user_id,
                                     verification_code="OLD-CODE", stage="completed")
            insert_row(connection, "audit_events", document_id=document_id,
                       type="document.completed", actor_type="system")
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            company = connection.execute(text(
                "SELECT retention_files_days, retention_mask_days FROM companies")).one()
            document = connection.execute(text(
                "SELECT legal_hold, legal_hold_reason, legal_hold_at, files_purged_at,"
                " contacts_masked_at FROM documents")).one()
            event = connection.execute(text("SELECT masked_at FROM audit_events")).one()
        assert tuple(company) == (0, 0)
        assert (bool(document[0]), *document[1:]) == (False, "", None, None, None)
        assert tuple(event) == (None,)
        flask_migrate.downgrade(revision=BEFORE)
        db.engine.dispose()
