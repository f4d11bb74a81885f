"""The Alembic history builds exactly the models' schema on an empty database."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal import create_app
from portal.extensions import db


def _schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_matches_the_models_and_downgrade_empties(empty_database, tmp_path):
    app = create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": empty_database,
    })
    with app.app_context():
        flask_migrate.upgrade()
        assert _schema_differences() == []
        assert {"users", "departments", "companies", "counterparties"} <= set(
            inspect(db.engine).get_table_names()
        )
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_upgrade_keeps_existing_rows(empty_database, tmp_path):
    """A database with data from an older version upgrades without losing or refusing rows."""
    from sqlalchemy import text

    app = create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": empty_database,
    })
    with app.app_context():
        flask_migrate.upgrade(revision="5e520ea6dc0c")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO companies (legal_name, short_name, email, phone, signer_name,"
                " signer_position, signer_email, signer_phone, tax_id, kpp, registration_number,"
                " address, bank_name, bank_account, correspondent_account, bank_code,"
                " number_pattern, created_at, updated_at) VALUES ('Old LLC', '', '', '', 'Ann',"
                " '', '', '', '', '', '', '', '', '', '', '', '{type}-{seq}',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            row = connection.execute(
                text("SELECT legal_name, signing_agreement FROM companies")
            ).one()
        assert tuple(row) == ("Old LLC", "")
        db.engine.dispose()


def test_administrators_keep_their_rights_when_roles_arrive(empty_database, tmp_path):
    """Users from before roles: administrators get the Administrator role, everyone Employee."""
    from sqlalchemy import text

    app = create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": empty_database,
    })
    with app.app_context():
        flask_migrate.upgrade(revision="d2545b6ec0a9")
        with db.engine.begin() as connection:
            for email, admin in (("boss@example.com", True), ("clerk@example.com", False)):
                connection.execute(text(
                    "INSERT INTO users (email, name, position, phone, is_admin, active,"
                    " session_version, created_at, updated_at) VALUES (:email, 'N', '', '',"
                    " :admin, TRUE, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ), {"email": email, "admin": admin})
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            held = connection.execute(text(
                "SELECT users.email, roles.key FROM user_roles"
                " JOIN users ON users.id = user_roles.user_id"
                " JOIN roles ON roles.id = user_roles.role_id ORDER BY 1, 2"
            )).all()
        assert [tuple(row) for row in held] == [
            ("boss@example.com", "administrator"), ("boss@example.com", "employee"),
            ("clerk@example.com", "employee"),
        ]
        db.engine.dispose()
