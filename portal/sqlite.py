"""SQLite (the embedded default) with real transactions, and writers that wait their turn.

pysqlite's own transaction handling does not emit BEGIN before a SAVEPOINT, so releasing a
savepoint commits it for good and a later rollback cannot undo it. SQLAlchemy's documented
remedy: let the driver stay out of it and emit BEGIN ourselves.

Which BEGIN: SQLite has one writer at a time. A plain (deferred) transaction that has read and
then wants to write fails at once with "database is locked" when another writer holds the
lock or committed since its read; the busy timeout does not help it, by design (waiting could
not make its snapshot current). So every transaction that may write starts with
BEGIN IMMEDIATE, which takes the write lock first and waits its turn for up to
SIGNET_SQLITE_TIMEOUT seconds: requests with an unsafe method (POST, PUT, PATCH, DELETE; they
receive their whole body before the first query), jobs, commands, the sweep, anything outside
a request. GET, HEAD and OPTIONS requests begin deferred, so pages and downloads never queue
behind writers (WAL: readers and the writer do not block each other). The few GET paths that
write end their read first and write first in a fresh transaction (see `api.tokens.touch`,
`signing.services.open_link`): a deferred transaction whose first statement writes waits for
the lock like an immediate one.

PostgreSQL is untouched: it locks rows, and numbering locks the counter row.
"""

import sqlite3
import threading

from flask import Flask, g, has_app_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_writer = threading.local()


class WriteLockHeldByThisThread(RuntimeError):
    """This thread already holds SQLite's write lock on another connection.

    Waiting could never end (the holder is this very thread), so it fails at once instead of
    after the busy timeout: end the caller's transaction before work that opens a connection of
    its own (an in-process job).
    """


def init_app(app: Flask) -> None:
    """Call before the database is set up: the busy timeout goes into the engine options."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # A file has no server connection to lose: a ping on every checkout would be pure cost.
    options["pool_pre_ping"] = False
    options["connect_args"] = {**options.get("connect_args", {}),
                               "timeout": float(app.config["SIGNET_SQLITE_TIMEOUT"])}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    # Registered before every other hook, so even the first query of a request (the rate
    # limiter's token lookup, the logged-in user) begins the right kind of transaction.
    @app.before_request
    def declare_reads_only():
        g.sqlite_reads_only = request.method in READ_METHODS
        if not g.sqlite_reads_only:
            # The whole body before the first query takes the write lock: a client uploading
            # slowly must not keep every other writer waiting meanwhile.
            request.get_data(parse_form_data=True)

    @app.teardown_request
    def forget_reads_only(_error=None):
        # A test may run requests inside its own app context: the flag must not outlive one.
        g.pop("sqlite_reads_only", None)


def _reads_only() -> bool:
    # An in-process job runs in an app context of its own, so it writes even inside a GET.
    return has_app_context() and g.get("sqlite_reads_only", False)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # Readers must not block the writer: an in-process job writes on its own connection
    # while the request that started it may still hold a read transaction.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection):
    if connection.dialect.name != "sqlite":
        return
    if _reads_only():
        connection.exec_driver_sql("BEGIN")
        return
    dbapi_connection = connection.connection.dbapi_connection
    _refuse_waiting_on_ourselves(dbapi_connection)
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    _writer.connection = dbapi_connection


def _refuse_waiting_on_ourselves(dbapi_connection) -> None:
    other = getattr(_writer, "connection", None)
    if other is None or other is dbapi_connection:
        return
    try:
        holding = other.in_transaction
    except sqlite3.ProgrammingError:  # closed meanwhile
        holding = False
    if holding:
        raise WriteLockHeldByThisThread(
            "This thread already holds the SQLite write lock on another connection; "
            "end that transaction before starting one that writes.")


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _released(connection):
    if connection.dialect.name != "sqlite" or connection.invalidated:
        return  # an invalidated connection is closed: the check above sees it holds nothing
    if getattr(_writer, "connection", None) is connection.connection.dbapi_connection:
        _writer.connection = None
