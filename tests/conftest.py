"""Test harness: every app-level test runs on SQLite and on PostgreSQL (when reachable)."""

import shutil
from pathlib import Path

import pytest

from portal import create_app
from portal.extensions import db, limiter
from portal.sealing.store import forget_certificates
from tests import engines_once, routes_once, templates_once
from tests.factories import make_user
from tests.helpers import sign_in
from tests.services import (
    REDIS_TEST_URL,
    LiveServer,
    LocalRedis,
    SMSGateway,
    SMTPServer,
    connect_redis,
    create_postgres_database,
    drop_postgres_database,
    redis_server_available,
    service_missing,
)


def base_config(tmp_path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": "",
        # The embedded default's counter, also when a test gives a REDIS_URL for its queues.
        "RATELIMIT_STORAGE_URI": "signet-memory://",
        "SMTP_HOST": "",
        "SIGNET_BASE_URL": "http://localhost",
        "SIGNET_PHONE_REGION": None,
        "SIGNET_SWEEP_SECONDS": 0,  # no sweep timer in tests unless a test asks for one
    }


def _create_schema(tmp_path, url: str) -> None:
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()


class WorkerDatabases:
    """Each kind of test database made once per test process, on first use.

    pytest sets a session fixture's parameter up again each time the tests switch between
    sqlite and postgresql (per module under --dist loadscope): making the database anew each
    time cost ~1-3 s (a PostgreSQL database and every table); emptying it costs ~10 ms.
    """

    def __init__(self, tmp_path_factory):
        self._tmp_path_factory = tmp_path_factory
        self._made: dict[str, tuple[object, str]] = {}  # kind -> (folder, url)
        self._postgres_names: list[str] = []

    def url(self, kind: str) -> str:
        if kind in self._made:
            folder, url = self._made[kind]
            _empty_database(folder, url)  # a module's tests start on an empty one, as before
            return url
        folder = self._tmp_path_factory.mktemp(kind)
        if kind == "sqlite":
            url = f"sqlite:///{folder / 'signet.db'}"
        else:
            try:
                url, name = create_postgres_database()
            except Exception as error:  # any connection failure means "not reachable"
                service_missing("PostgreSQL", error)
            self._postgres_names.append(name)
        _create_schema(folder, url)
        engines_once.share(url)
        self._made[kind] = (folder, url)
        return url

    def drop(self) -> None:
        for name in self._postgres_names:
            drop_postgres_database(name)


@pytest.fixture(scope="session")
def worker_databases(tmp_path_factory):
    databases = WorkerDatabases(tmp_path_factory)
    yield databases
    databases.drop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, worker_databases):
    """A database with the current schema; each test leaves it empty."""
    return worker_databases.url(request.param)


def _empty_database(folder, url: str) -> None:
    app = create_app(base_config(folder, url))
    with app.app_context():
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


def _empty_all_tables() -> None:
    # Row by row, children first: on the few rows a test leaves, DELETE takes ~9 ms where
    # PostgreSQL's TRUNCATE of every table took ~140 ms (a new file per table) after each test.
    # Plain SQL written once per process: the statements of ~45 tables built and compiled for
    # each test's new engine cost more than running them. PostgreSQL takes them in one round
    # trip (statements without parameters may share one query).
    connection = db.session.connection()
    statements = _emptying_statements(connection.dialect)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("; ".join(statements))
    else:
        for statement in statements:
            connection.exec_driver_sql(statement)
    db.session.commit()


_emptying: dict[str, list[str]] = {}


def _emptying_statements(dialect) -> list[str]:
    if dialect.name not in _emptying:
        tables = list(reversed(db.metadata.sorted_tables))
        statements = [str(table.delete().compile(dialect=dialect)) for table in tables]
        if dialect.name == "postgresql":  # ids start at 1 again, as TRUNCATE's RESTART did
            restarts = ", ".join(f"setval(pg_get_serial_sequence('\"{t.name}\"', 'id'), 1, false)"
                                 for t in tables if "id" in t.c)
            statements.append(f"SELECT {restarts}")
        _emptying[dialect.name] = statements
    return _emptying[dialect.name]


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the test database with extra settings; tables are emptied after."""
    apps = []

    def build(**overrides):
        app = create_app({**base_config(tmp_path, database_url), **overrides})
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            if app is apps[0]:
                _empty_all_tables()


class SharedApps:
    """One app per database in a test process, put back as new after each test.

    Building an app costs ~25 ms (every route and extension), paid by each of ~4,000 tests.
    What a test can change is put back: the settings, the rate limiter's counts, the tables and
    the instance folder (files, previews, the seal certificates). A test that needs other
    settings from the start builds its own app with make_app.
    """

    def __init__(self, tmp_path_factory):
        self._tmp_path_factory = tmp_path_factory
        self._apps: dict[str, tuple[object, dict]] = {}  # url -> (app, settings as built)

    def app_for(self, url: str):
        if url not in self._apps:
            folder = self._tmp_path_factory.mktemp("app")
            app = create_app(base_config(folder, url))
            self._apps[url] = (app, dict(app.config))
        return self._apps[url][0]

    def put_back(self, url: str) -> None:
        app, settings = self._apps[url]
        with app.app_context():
            db.session.remove()
            _empty_all_tables()
            limiter.reset()
        app.config.clear()
        app.config.update(settings)
        forget_certificates(app.instance_path)
        _empty_folder(Path(app.instance_path))


def _empty_folder(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@pytest.fixture(scope="session")
def shared_apps(tmp_path_factory):
    return SharedApps(tmp_path_factory)


@pytest.fixture
def app(database_url, shared_apps):
    """The app; no context is pushed, so each request gets a fresh session as in production."""
    yield shared_apps.app_for(database_url)
    shared_apps.put_back(database_url)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin(app):
    with app.app_context():
        user = make_user(email="admin@example.com", name="Ada Admin", is_admin=True)
        return {"id": user.id, "email": user.email, "password": "correct horse battery"}


@pytest.fixture
def employee(app):
    with app.app_context():
        user = make_user(email="emp@example.com", name="Emil Employee")
        return {"id": user.id, "email": user.email, "password": "correct horse battery"}


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    sign_in(client, admin["email"])
    return client


@pytest.fixture
def employee_client(app, employee):
    client = app.test_client()
    sign_in(client, employee["email"])
    return client


# --- external services ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis: the machine's (db 15) or, failing that, one started on a unix socket."""
    try:
        connect_redis(REDIS_TEST_URL)
        yield REDIS_TEST_URL
        return
    except Exception as error:
        first_error = error
    if not redis_server_available():
        service_missing("Redis", first_error)
    local = LocalRedis(tmp_path_factory.mktemp("redis"))
    try:
        connect_redis(local.url)
    except Exception as error:
        local.stop()
        service_missing("Redis", error)
    yield local.url
    local.stop()


@pytest.fixture
def redis_client(redis_url):
    client = connect_redis(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def smtp_server():
    server = SMTPServer()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server):
    """The loopback SMTP server's received mail, empty at the start of the test."""
    smtp_server.mailbox.clear()
    return smtp_server.mailbox


@pytest.fixture(scope="session")
def sms_gateway():
    gateway = SMSGateway()
    yield gateway
    gateway.stop()


# --- browser ---------------------------------------------------------------------------------

def pytest_configure(config):
    routes_once.install()  # an app per test: compile each route's URL builder only once
    templates_once.install()  # ... and each template
    engines_once.install()  # ... and one engine per database, its connections and its cache


def pytest_collection_modifyitems(config, items):
    """Browser tests drive the UI, not the database: SQLite only, as are tests of SQLite's own
    locking. Concurrency tests need real concurrent writers: PostgreSQL only."""
    kept, dropped = [], []
    for item in items:
        on_postgres = "[postgresql" in item.nodeid or "-postgresql" in item.nodeid
        on_sqlite = "[sqlite" in item.nodeid or "-sqlite" in item.nodeid
        unwanted = (on_postgres and (item.get_closest_marker("browser")
                                     or item.get_closest_marker("sqlite_only"))) or (
            on_sqlite and item.get_closest_marker("postgres"))
        (dropped if unwanted else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download needed)."""
    import shutil

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        service_missing("Chromium", "no chromium on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on loopback, for the browser."""
    server = LiveServer(app)
    yield server
    server.stop()


def _page(browser, live_server, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  base_url=live_server.url)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    return context, page


@pytest.fixture
def phone(browser, live_server):
    """A page in a 390 x 844 viewport (a phone); console errors are collected."""
    context, page = _page(browser, live_server, 390, 844)
    yield page
    context.close()


@pytest.fixture
def desktop(browser, live_server):
    """A page in a 1280 x 900 viewport; console errors are collected."""
    context, page = _page(browser, live_server, 1280, 900)
    yield page
    context.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """An empty database of each kind, for a migration test to upgrade and fill."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    try:
        url, name = create_postgres_database()
    except Exception as error:
        service_missing("PostgreSQL", error)
    yield url
    drop_postgres_database(name)
