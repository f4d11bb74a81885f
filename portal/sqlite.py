"""SQLite (the embedded default) with real transactions.

pysqlite's own transaction handling does not emit BEGIN before a SAVEPOINT, so releasing a
savepoint commits it for good and a later rollback cannot undo it. SQLAlchemy's documented
remedy: let the driver stay out of it and emit BEGIN ourselves.
"""

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # Readers must not block the writer: an in-process job writes on its own connection
    # while the request that started it still holds a read transaction.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
