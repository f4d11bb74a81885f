"""Fixtures of the delivery tests."""

import pytest

from tests.delivery.support import RefusingSMTP
from tests.services import create_postgres_database, drop_postgres_database, service_missing


@pytest.fixture(scope="session")
def refusing_smtp_server():
    server = RefusingSMTP()
    yield server
    server.stop()


@pytest.fixture
def refusing_smtp(refusing_smtp_server):
    """A loopback SMTP server that refuses (451) the next `refuse_next` messages."""
    refusing_smtp_server.reset()
    yield refusing_smtp_server
    refusing_smtp_server.reset()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """An empty database of each kind, for the migration tests to fill."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'filled.db'}"
        return
    try:
        url, name = create_postgres_database()
    except Exception as error:
        service_missing("PostgreSQL", error)
    yield url
    drop_postgres_database(name)
