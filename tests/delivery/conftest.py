"""Fixtures of the delivery tests."""

import pytest

from tests.delivery.support import RefusingSMTP


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
