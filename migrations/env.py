"""Alembic environment: runs inside the Flask app, so it migrates whatever DATABASE_URL names."""

from alembic import context
from flask import current_app

config = context.config
database = current_app.extensions["migrate"].db


def _options() -> dict:
    return {
        "target_metadata": database.metadata,
        "compare_type": True,
        # SQLite cannot ALTER most things; batch mode recreates tables where needed.
        "render_as_batch": True,
        **current_app.extensions["migrate"].configure_args,
    }


def run_offline() -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def _skip_empty_autogenerate(migration_context, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        print("No changes in the schema; no migration written.")


def run_online() -> None:
    with database.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode drops and recreates tables; with foreign keys on, dropping a parent
            # table would cascade-delete its children's rows (user_roles when users is rebuilt).
            # The pragma only works outside a transaction: run it on the driver connection
            # before SQLAlchemy begins one.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        context.configure(
            connection=connection,
            process_revision_directives=_skip_empty_autogenerate,
            **_options(),
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
