"""The work-leases migration on a filled database: documents that failed to seal under the old
sweep (retried every 30 minutes for ever) get a due next try; the others are left as they were."""

from datetime import UTC, datetime

import flask_migrate
import pytest
from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, Table, select, text

from portal import create_app
from portal.extensions import db
from tests.services import create_postgres_database, drop_postgres_database, service_missing

BEFORE = "f1a2b3c4d5e6"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'leases.db'}"
        return
    try:
        url, name = create_postgres_database()
    except Exception as error:
        service_missing("PostgreSQL", error)
    yield url
    drop_postgres_database(name)


def _insert(connection, name: str, **values) -> int:
    """A row with the given values, every other required column given a plain value."""
    table = Table(name, MetaData(), autoload_with=connection)
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None \
                or column.primary_key:
            continue
        if isinstance(column.type, DateTime):
            row[column.name] = datetime.now(UTC)
        elif isinstance(column.type, Boolean):
            row[column.name] = False
        elif isinstance(column.type, Integer):
            row[column.name] = 0
        elif isinstance(column.type, JSON):
            row[column.name] = {}
        else:
            row[column.name] = column.name[:8]
    return connection.execute(table.insert().values(**row)).inserted_primary_key[0]


def test_failed_unsealed_documents_get_a_due_next_try(empty_database, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            company = _insert(connection, "companies", legal_name="Old LLC")
            user = _insert(connection, "users", email="old@example.com")
            made = {"company_id": company, "responsible_id": user, "created_by_id": user}
            failed = _insert(connection, "documents", number="A-1", verification_code="code-a",
                             stage="completed", seal_attempts=3, seal_error="[error] x", **made)
            fresh = _insert(connection, "documents", number="A-2", verification_code="code-b",
                            stage="completed", seal_attempts=0, **made)
            draft = _insert(connection, "documents", number="A-3", verification_code="code-c",
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
