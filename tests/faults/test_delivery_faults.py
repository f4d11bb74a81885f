"""Every invitation arrives exactly once, whatever fails (issue 14's table), with real worker
processes, a Redis of our own that we kill, and an SMTP server that fails on purpose.

Each scenario queues invitations through the real outbox and dispatch, injects its fault, and
polls until the outbox says every message was sent and the server has every one; then, with
no mail job left in Redis, it checks:
- nothing lost: every recipient got its invitation;
- one message identity each: all copies a recipient got carry one Message-ID, so a receiver
  drops any extra copy (at-least-once only where the server took a message and its reply was
  lost: then the copies carry the same Message-ID);
- exactly one copy where nothing was ambiguous (the server never took a message twice);
- the outbox matches: every row `sent`, with the Message-ID the server received.
No manual command runs; the sweep and the workers do everything.
"""

import pytest

from tests.faults.conftest import FAST
from tests.faults.support import (
    as_if_queued_a_while_ago,
    finish,
    outcome,
    queue_invitations,
    scheduler_holder,
    wait_until,
)

# The whole table on PostgreSQL (as in production and CI); on SQLite, to keep the directory
# near a minute, the plain run and the double dispatch (the rest pass there too, ~45 s more).
pytestmark = [pytest.mark.faults]
on_postgres = pytest.mark.postgres

COUNT = 30


def _received_at_least(smtp, count: int):
    wait_until(lambda: len(smtp.copies()) >= count, f"{count} messages received")


def test_no_fault(app, smtp, redis_client, workers):
    with app.app_context():
        workers.start(2)  # booting while the invitations are queued
        ids = queue_invitations(COUNT)
        finish(ids, smtp, redis_client, workers, one_copy=True)


@on_postgres
def test_smtp_refused_for_a_while(app, smtp, redis_client, workers):
    smtp.refuse_for(3)  # 421 at the greeting, as a server in maintenance
    with app.app_context():
        workers.start(2)  # booting while the invitations are queued
        ids = queue_invitations(COUNT)
        finish(ids, smtp, redis_client, workers, one_copy=True)
    assert smtp.refused >= COUNT  # each message was refused at least once


@on_postgres
def test_redis_killed_and_restarted_empty(app, smtp, redis_client, workers, own_redis):
    smtp.reply_delay = 0.05  # a run long enough to break in the middle
    with app.app_context():
        workers.start(2)  # booting while the invitations are queued
        ids = queue_invitations(COUNT)
        _received_at_least(smtp, 10)
        as_if_queued_a_while_ago(ids)
        own_redis.restart_empty()  # every queued job and the sweep's booking are gone
        wait_until(lambda: redis_client.keys("rq:job:signet-sweep-*"), "the sweep booked again")
        finish(ids, smtp, redis_client, workers, one_copy=True)
    assert len(workers.pids) == 2  # they waited for Redis and went on
    for log in workers.log_texts():  # a line when Redis went away, not one per retry
        ours, rqs = log.count("the worker waits and reconnects"), log.count("could not connect")
        assert ours <= 1 and rqs <= 1 and ours + rqs >= 1  # RQ's own loop may have waited
        assert "Traceback" not in log


@on_postgres
def test_a_worker_killed_mid_run(app, smtp, redis_client, workers):
    smtp.reply_delay = 0.05
    with app.app_context():
        workers.start(2)  # booting while the invitations are queued
        ids = queue_invitations(COUNT)
        _received_at_least(smtp, 10)
        holder = wait_until(lambda: scheduler_holder(redis_client), "a scheduler holding mail")
        workers.kill(holder)  # the one scheduling, maybe mid-send: its claim lapses
        # A job it took but had not claimed yet leaves its row queued: the sweep hands it over
        # once the grace for a just-queued row has passed (as if it had passed already).
        as_if_queued_a_while_ago(ids)
        [survivor] = workers.pids
        wait_until(lambda: scheduler_holder(redis_client) == survivor,
                   "the scheduler's locks taken over")
        finish(ids, smtp, redis_client, workers, one_copy=False)


@on_postgres
def test_smtp_refused_and_redis_restarted_empty(app, smtp, redis_client, workers, own_redis):
    smtp.refuse_for(3, code="451")  # "try again later" to every MAIL
    with app.app_context():
        workers.start(2)  # booting while the invitations are queued
        ids = queue_invitations(COUNT)
        wait_until(lambda: outcome(ids, smtp).statuses.get("queued", 0) < COUNT,
                   "the first tries made")
        as_if_queued_a_while_ago(ids)
        own_redis.restart_empty()  # the retries RQ kept are gone; the rows keep theirs
        finish(ids, smtp, redis_client, workers, one_copy=True)
    assert smtp.refused > 0


@on_postgres
def test_the_reply_to_data_is_lost(app, smtp, redis_client, workers):
    smtp.drops_left = 5  # taken, then the connection drops before "250"
    with app.app_context():
        workers.start(2)  # booting while the invitations are queued
        ids = queue_invitations(COUNT)
        result = finish(ids, smtp, redis_client, workers, one_copy=False)
    # At-least-once: each of the five arrived again, under the same Message-ID.
    assert len(result.copies) == COUNT + 5
    assert len({copy["message_id"] for copy in result.copies}) == COUNT


@on_postgres
def test_the_server_answers_after_the_client_gave_up(app, smtp, redis_client, workers):
    smtp.slow_replies_left = 3  # taken, but "250" comes after the client's SMTP_TIMEOUT
    smtp.slow_reply_seconds = FAST["SMTP_TIMEOUT"] + 1
    with app.app_context():
        workers.start(2)  # booting while the invitations are queued
        ids = queue_invitations(COUNT)
        result = finish(ids, smtp, redis_client, workers, one_copy=False)
    assert len(result.copies) == COUNT + 3  # at-least-once, under one Message-ID each
    assert len({copy["message_id"] for copy in result.copies}) == COUNT


@on_postgres
def test_a_worker_dies_after_the_250_before_quit(app, smtp, redis_client, workers):
    smtp.quits_to_hold = 3  # the server took the message; its sender dies before QUIT
    killed = []

    def kill_the_sender_waiting_at_quit():
        for port in smtp.take_held_ports():
            pid = wait_until(lambda port=port: workers.owner_of_port(port), "the sender found")
            workers.kill(pid)
            killed.append(pid)
            workers.start(1)  # the supervisor (systemd Restart=always) starts it again

    with app.app_context():
        workers.start(2)  # booting while the invitations are queued
        ids = queue_invitations(COUNT)
        finish(ids, smtp, redis_client, workers, one_copy=False,
               on_tick=kill_the_sender_waiting_at_quit)
    assert len(killed) == 3


def test_the_same_message_dispatched_twice_at_once(app, smtp, redis_client, workers):
    with app.app_context():
        workers.start(2)  # booting while the invitations are queued
        ids = queue_invitations(COUNT, dispatched=2)  # two jobs side by side per message
        finish(ids, smtp, redis_client, workers, one_copy=True)
