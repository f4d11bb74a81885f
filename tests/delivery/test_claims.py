"""The database decides every message: claims, leases, due retries, one Message-ID, the window."""

import threading
from collections import Counter
from datetime import timedelta

import rq
from sqlalchemy import update

from portal import retries
from portal.delivery.jobs import SENDING, deliver_message, lease
from portal.delivery.models import Message
from portal.delivery.services import deliver_due_messages, resend
from portal.extensions import db
from portal.jobs import QuickStopWorker
from portal.models_base import utcnow
from portal.sweep.run import run_sweep
from tests.delivery.support import make_due, queue_only, reload, send_email
from tests.factories import make_user
from tests.helpers import text_of
from tests.services import free_port

COPIES = 20


def smtp(server) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port}


def work(redis_client, *names) -> None:
    queues = [rq.Queue(name, connection=redis_client) for name in names]
    QuickStopWorker(queues, connection=redis_client).work(burst=True)


def test_two_dispatches_of_the_same_message_at_once_send_one_copy(make_app, smtp_server,
                                                                      mailbox):
    app = make_app(**smtp(smtp_server))
    with app.app_context():
        ids = [queue_only(f"person{index}@example.com") for index in range(COPIES)]
    together = threading.Barrier(2)
    results, errors = [], []

    def dispatcher():
        try:
            with app.app_context():
                for message_id in ids:
                    together.wait(timeout=60)  # both start on the same message at once
                    results.append((message_id, deliver_message(message_id)))
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    copies = Counter(message["message"]["Message-ID"] for message in mailbox.messages)
    assert len(mailbox.messages) == COPIES
    assert set(copies.values()) == {1}
    # Each message: one dispatch sent it (the provider's id), the other found it taken.
    sent_by = Counter(message_id for message_id, provider_id in results if provider_id)
    assert sent_by == dict.fromkeys(ids, 1)
    with app.app_context():
        rows = db.session.scalars(db.select(Message).order_by(Message.id)).all()
        assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}
        assert {row.message_id_header for row in rows} == set(copies)


def test_a_retry_after_a_refused_try_carries_the_same_message_id(make_app, refusing_smtp):
    app = make_app(**smtp(refusing_smtp))
    refusing_smtp.refuse_next = 1
    with app.app_context():
        message_id = send_email("retry@example.com")
        message = reload(message_id)
        assert (message.status, message.attempts) == ("retrying", 1)
        assert "451" in message.last_error
        assert message.next_attempt_at is not None
        header = message.message_id_header
        assert header.startswith("<") and header.endswith(">")

        assert deliver_message(message_id) is None  # its next try is not due yet
        assert refusing_smtp.mailbox.messages == []

        make_due(message_id)
        assert deliver_due_messages() == 1
        message = reload(message_id)
        assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")
        assert message.provider_id == header
        assert message.next_attempt_at is None
    assert refusing_smtp.refused == [header]
    assert refusing_smtp.accepted_ids() == [header]


def test_a_message_failing_past_its_tries_ends_failed_and_the_outbox_says_why(
    app, admin_client, refusing_smtp
):
    app.config.update(SIGNET_MESSAGE_ATTEMPTS=2, **smtp(refusing_smtp))
    refusing_smtp.refuse_next = 10
    with app.app_context():
        message_id = send_email("never@example.com")
        assert reload(message_id).status == "retrying"
        make_due(message_id)
        assert deliver_due_messages() == 1
        message = reload(message_id)
        assert (message.status, message.attempts, message.next_attempt_at) == ("failed", 2, None)
        assert "451" in message.last_error
        make_due(message_id)
        assert deliver_due_messages() == 0  # final: nothing picks it up again
    assert len(refusing_smtp.refused) == 2

    detail = text_of(admin_client.get(f"/outbox/{message_id}"))
    assert "failed" in detail and "451" in detail
    assert "Failed for good: it is not tried again." in detail
    assert "Send again" in detail
    listed = text_of(admin_client.get("/outbox?status=failed"))
    assert "never@example.com" in listed and "451" in listed


def test_a_message_failing_past_its_hours_ends_failed(app, refusing_smtp):
    app.config.update(SIGNET_MESSAGE_GIVE_UP_HOURS=1, **smtp(refusing_smtp))
    refusing_smtp.refuse_next = 1
    with app.app_context():
        message_id = queue_only("late@example.com")
        db.session.execute(update(Message).where(Message.id == message_id)
                           .values(queued_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
        deliver_message(message_id)
        message = reload(message_id)
        assert (message.status, message.attempts) == ("failed", 1)


def test_the_outbox_shows_when_a_retrying_message_is_tried_next(app, admin_client,
                                                                 refusing_smtp):
    app.config.update(**smtp(refusing_smtp))
    refusing_smtp.refuse_next = 1
    with app.app_context():
        message_id = send_email("wait@example.com")
    detail = text_of(admin_client.get(f"/outbox/{message_id}"))
    assert "retrying" in detail and "Next try" in detail and "451" in detail
    assert "Try now" in detail
    listed = text_of(admin_client.get("/outbox?status=retrying"))
    assert "wait@example.com" in listed and "Next try" in listed


def test_a_retrying_message_is_delivered_by_the_sweep_after_redis_lost_everything(
    make_app, redis_url, redis_client, refusing_smtp
):
    app = make_app(REDIS_URL=redis_url, **smtp(refusing_smtp))
    refusing_smtp.refuse_next = 1
    with app.app_context():
        message_id = send_email("patient@example.com")
        work(redis_client, "mail")  # the first try is refused; the next is booked on RQ
        assert reload(message_id).status == "retrying"
    assert len(rq.Queue("mail", connection=redis_client).scheduled_job_registry) == 1

    redis_client.flushdb()  # Redis restarted empty: the booked retry is gone
    with app.app_context():
        make_due(message_id)
        assert run_sweep()["messages"] == 1
        work(redis_client, "mail")
        message = reload(message_id)
        assert (message.status, message.attempts) == ("sent", 2)
    assert refusing_smtp.accepted_ids() == [message.message_id_header]


def test_with_redis_away_the_sweep_delivers_due_messages_itself(make_app, refusing_smtp):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", **smtp(refusing_smtp))
    refusing_smtp.refuse_next = 1
    with app.app_context():
        message_id = send_email("away@example.com")  # Redis refuses the job: it stays queued
        assert reload(message_id).status == "queued"
        deliver_message(message_id)  # a try that is refused, its retry not bookable
        assert reload(message_id).status == "retrying"
        make_due(message_id)
        other_id = send_email("also-away@example.com")
        db.session.execute(update(Message).where(Message.id == other_id)
                           .values(queued_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        assert run_sweep()["messages"] == 2
        message, other = reload(message_id), reload(other_id)
        assert (message.status, message.attempts) == ("sent", 2)
        assert (other.status, other.attempts) == ("sent", 1)
    assert sorted(refusing_smtp.accepted_ids()) == sorted(
        [message.message_id_header, other.message_id_header])


def test_an_expired_lease_is_reclaimed_and_the_late_claimant_cannot_overwrite(
    make_app, smtp_server, mailbox
):
    app = make_app(**smtp(smtp_server))
    with app.app_context():
        message_id = queue_only("reclaimed@example.com")
        held = retries.claim(Message, message_id, running=SENDING, lease=lease())
        assert held is not None and held.attempt == 1

        # While the claim lasts nobody else sends it.
        assert deliver_message(message_id) is None
        assert deliver_due_messages() == 0
        assert reload(message_id).status == SENDING

        # The claimant died mid-send: once its lease is over the message is due again.
        db.session.execute(update(Message).where(Message.id == message_id)
                           .values(started_at=utcnow() - lease() - timedelta(seconds=1)))
        db.session.commit()
        assert deliver_due_messages() == 1
        message = reload(message_id)
        assert (message.status, message.attempts) == ("sent", 2)

        # The old claimant coming back cannot overwrite the newer outcome.
        assert not retries.settle(Message, message_id, held, running=SENDING, status="failed",
                                  last_error="too late")
        assert reload(message_id).status == "sent"
    assert len(mailbox.messages) == 1


def test_deliver_queued_delivers_due_rows_without_an_age_wait(app, refusing_smtp):
    app.config.update(**smtp(refusing_smtp))
    refusing_smtp.refuse_next = 1
    with app.app_context():
        retried = send_email("retried@example.com")
        assert reload(retried).status == "retrying"
        make_due(retried)
        waiting = queue_only("waiting@example.com")
        db.session.execute(update(Message).where(Message.id == waiting)
                           .values(queued_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["signet", "deliver-queued"])
    assert result.exit_code == 0, result.output
    assert "Dispatched 2 due message(s)." in result.output
    with app.app_context():
        assert {reload(retried).status, reload(waiting).status} == {"sent"}
    assert sorted(refusing_smtp.mailbox.messages[i]["to"][0] for i in range(2)) == [
        "retried@example.com", "waiting@example.com"]


def test_send_again_gives_a_sent_message_a_new_message_id_and_a_retry_keeps_its_own(
    app, refusing_smtp
):
    app.config.update(**smtp(refusing_smtp))
    refusing_smtp.refuse_next = 1
    with app.app_context():
        admin = make_user(email="boss@example.com", is_admin=True)
        message_id = send_email("twice@example.com")
        first = reload(message_id).message_id_header
        resend(message_id, admin)  # "Try now" on a retrying message: the same message
        assert reload(message_id).message_id_header == first
        assert reload(message_id).status == "sent"
        resend(message_id, admin)  # another copy asked for: a new message to the receiver
        second = reload(message_id).message_id_header
        assert second != first
        assert reload(message_id).status == "sent"
    assert refusing_smtp.refused == [first]
    assert refusing_smtp.accepted_ids() == [first, second]


def test_a_signing_code_is_not_tried_past_its_own_lifetime(app, refusing_smtp):
    app.config.update(**smtp(refusing_smtp))
    refusing_smtp.refuse_next = 1
    with app.app_context():
        message_id = queue_only("code@example.com")
        db.session.execute(update(Message).where(Message.id == message_id)
                           .values(kind="signing_code",
                                   queued_at=utcnow() - timedelta(minutes=6)))
        db.session.commit()
        deliver_message(message_id)
        message = reload(message_id)
        # The code inside expired after five minutes: a late copy would only confuse.
        assert (message.status, message.attempts) == ("failed", 1)
