"""Fixtures of the fault tests: a Redis of their own, the faulty SMTP server, worker processes."""

import pytest

from tests.conftest import base_config
from tests.faults.processes import OwnRedis, Workers, Zygote
from tests.faults.smtp import FaultySMTP
from tests.services import redis_server_available, service_missing

# Short periods so a scenario ends in seconds: the sweep every second, a dead worker's
# scheduler lock taken over after 3 s, claims lapsing and retries due within seconds.
FAST = {
    "SIGNET_SWEEP_SECONDS": 1,
    "SIGNET_SCHEDULER_LOCK_SECONDS": 3,
    "SMTP_TIMEOUT": 1.5,
    "SIGNET_MESSAGE_LEASE_SECONDS": 3,
    "SIGNET_MESSAGE_RETRY_SECONDS": [1, 1, 2, 2, 3],
}


@pytest.fixture(scope="session")
def own_redis(tmp_path_factory):
    if not redis_server_available():
        service_missing("redis-server", "not installed (apt-get install redis-server)")
    server = OwnRedis(tmp_path_factory.mktemp("own-redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def zygote(tmp_path_factory):
    """Forks the worker processes (the portal imported once, not in every worker)."""
    forker = Zygote(tmp_path_factory.mktemp("zygote"))
    yield forker
    forker.stop()


@pytest.fixture
def redis_client(own_redis):
    """The own Redis, running and empty at the start of the test (a test may kill it)."""
    if own_redis.process is None or own_redis.process.poll() is not None:
        own_redis.start()
    client = own_redis.client()
    client.flushall()
    return client


@pytest.fixture
def smtp():
    server = FaultySMTP()
    yield server
    server.stop()


@pytest.fixture
def fault_config(database_url, tmp_path, own_redis, redis_client, smtp) -> dict:
    """The settings of the test's app and of its worker processes."""
    return {**base_config(tmp_path, database_url), **FAST, "REDIS_URL": own_redis.url,
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}


@pytest.fixture
def app(make_app, fault_config):
    return make_app(**fault_config)


@pytest.fixture
def workers(app, fault_config, tmp_path, zygote):
    """Worker processes, started by the test; stopped (or already killed) after it."""
    running = Workers(tmp_path, fault_config, zygote)
    yield running
    running.stop()
