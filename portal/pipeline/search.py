"""Case-insensitive matching that folds Cyrillic as well as Latin on both databases.

PostgreSQL's lower() folds every script under a UTF-8 locale; SQLite's folds ASCII only, so
on SQLite we register Python's casefold() as a SQL function.
"""

import sqlite3

from sqlalchemy import event, func
from sqlalchemy.engine import Engine

from portal.extensions import db
from portal.parties.search import fold, like_pattern

SQLITE_FOLD = "signet_fold"


@event.listens_for(Engine, "connect")
def _register_fold(dbapi_connection, _record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(SQLITE_FOLD, 1, _fold_or_none, deterministic=True)


def _fold_or_none(value):
    return None if value is None else str(value).casefold()


def folded(column):
    """`column` in lower case, Cyrillic included, on the database in use."""
    if db.engine.dialect.name == "sqlite":
        return getattr(func, SQLITE_FOLD)(column)
    return func.lower(column)


def contains(column, text: str):
    """`column` contains `text`, ignoring case (wildcards in `text` taken literally)."""
    return folded(column).like(like_pattern(text), escape="\\")


__all__ = ["contains", "fold", "folded"]
