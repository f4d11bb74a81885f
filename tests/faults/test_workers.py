"""A worker process and Redis: it starts while Redis is away, waits, serves once Redis is
there, and a SIGTERM stops it even while Redis is away again."""

import pytest

from tests.faults.support import finish, queue_invitations, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


def test_a_worker_waits_for_redis_serves_and_stops_on_sigterm(
        app, smtp, redis_client, workers, own_redis):
    own_redis.kill()
    workers.start(1)
    wait_until(lambda: "the worker waits and reconnects" in "".join(workers.log_texts()),
               "the worker waiting for Redis", workers.logs)
    own_redis.start()
    with app.app_context():
        ids = queue_invitations(5)
        finish(ids, smtp, redis_client, workers, one_copy=True)

    own_redis.kill()
    [worker] = workers.processes
    wait_until(lambda: _noticed_redis_away_since_it_was_back(workers.log_texts()[0]),
               "the worker meeting Redis away again", workers.logs)
    worker.terminate()  # SIGTERM, as systemd stops a unit
    wait_until(lambda: worker.poll() is not None, "the worker stopped", workers.logs)
    assert worker.returncode == 0
    assert workers.log_texts()[0].count("the worker goes on") == 1  # back once, not twice


def _noticed_redis_away_since_it_was_back(log: str) -> bool:
    since = log[log.rfind("Redis is back"):]
    return "Redis is away" in since or "could not connect to Redis" in since
