"""One database engine per URL and options in a test process, not one per app.

Each test builds an app, and each app used to build its own engine: a new PostgreSQL connection
(a server process forked, ~10 ms), and SQLAlchemy's statement cache, which lives on the engine,
empty again so every query compiled anew. The engine holds no app state: the app reaches it
through Flask-SQLAlchemy, and the SQLite hooks listen on every engine. A test that disposes the
engine only empties the shared pool; the next checkout connects again. Only the test process's
own databases are shared: a test's private database keeps an engine of its own, closed with it.
"""

from flask_sqlalchemy import extension
from sqlalchemy.engine import make_url

_make = extension.SQLAlchemy._make_engine
_made: dict = {}
_shared_urls: set[str] = set()


def _plain(url) -> str:
    return make_url(url).render_as_string(hide_password=False)


def share(url: str) -> None:
    _shared_urls.add(_plain(url))


def _engine_key(options: dict) -> str:
    return repr(sorted(options.items(), key=lambda item: item[0]))


def _make_once(self, bind_key, options, app):
    if _plain(options["url"]) not in _shared_urls:
        return _make(self, bind_key, options, app)
    key = _engine_key(options)
    engine = _made.get(key)
    if engine is None:
        engine = _made[key] = _make(self, bind_key, options, app)
    return engine


def install() -> None:
    extension.SQLAlchemy._make_engine = _make_once
