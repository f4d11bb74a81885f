"""The job queue: RQ over a real Redis, the in-process default, Redis down, the sweep."""

from datetime import timedelta

import pytest
import rq

from portal import jobs
from portal.delivery.models import Message
from portal.delivery.services import deliver_due_messages
from portal.extensions import db
from portal.jobs import QuickStopWorker
from portal.models_base import utcnow
from tests.delivery.support import reload, send_email
from tests.services import free_port


@pytest.fixture
def smtp_settings(smtp_server):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port}


def run_worker(redis_client, *names):
    queues = [rq.Queue(name, connection=redis_client) for name in names]
    return QuickStopWorker(queues, connection=redis_client).work(burst=True)


def test_dispatch_enqueues_on_mail_queue_and_a_worker_delivers(
    make_app, redis_url, redis_client, smtp_settings, mailbox
):
    app = make_app(REDIS_URL=redis_url, **smtp_settings)
    with app.app_context():
        message_id = send_email("queued@example.com")
        mail = rq.Queue("mail", connection=redis_client)
        assert mail.count == 1
        [job] = mail.jobs
        assert job.func_name == "portal.delivery.jobs.deliver_message"
        assert job.args == (message_id,)
        assert job.retries_left == 5
        assert reload(message_id).status == "queued"
        assert mailbox.messages == []

        run_worker(redis_client, "mail")
        assert mail.count == 0
        message = reload(message_id)
        assert (message.status, message.backend) == ("sent", "smtp")
    assert len(mailbox.wait_for(1)) == 1


def test_a_failed_try_is_due_in_the_row_and_booked_on_the_schedule(
    make_app, redis_url, redis_client
):
    app = make_app(REDIS_URL=redis_url, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    with app.app_context():
        message_id = send_email()
        run_worker(redis_client, "mail")
        message = reload(message_id)
        assert (message.status, message.attempts) == ("retrying", 1)
        assert message.last_error
        assert message.next_attempt_at is not None
    scheduled = rq.Queue("mail", connection=redis_client).scheduled_job_registry
    [job_id] = scheduled.get_job_ids()
    assert job_id.startswith(f"signet-message-{message_id}-")
    assert rq.job.Job.fetch(job_id, connection=redis_client).args == (message_id,)


def test_worker_without_app_context_builds_the_app_from_the_environment(
    make_app, database_url, redis_url, redis_client, smtp_server, mailbox, monkeypatch, tmp_path
):
    app = make_app(REDIS_URL=redis_url)
    with app.app_context():
        message_id = send_email("worker@example.com")
    for name, value in {
        "DATABASE_URL": database_url, "SIGNET_INSTANCE_PATH": str(tmp_path / "worker"),
        "SIGNET_SECRET_KEY": "worker-secret", "REDIS_URL": redis_url,
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_server.port),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.setattr(jobs._WorkerApp, "app", None)
    monkeypatch.setattr(jobs._WorkerApp, "pid", None)

    run_worker(redis_client, "mail")  # no app context pushed, as in `rq worker`
    worker_app = jobs._WorkerApp.app
    assert worker_app is not None and worker_app is not app
    with worker_app.app_context():
        db.engine.dispose()
    with app.app_context():
        assert reload(message_id).status == "sent"
    assert len(mailbox.wait_for(1)) == 1


def test_a_forked_work_horse_gets_a_fresh_database_pool(app, monkeypatch):
    monkeypatch.setattr(jobs._WorkerApp, "app", app)
    monkeypatch.setattr(jobs._WorkerApp, "pid", -1)  # as if the app was made in the parent
    with app.app_context():
        inherited_pool = db.engine.pool
    jobs.app_job(lambda: None)()
    with app.app_context():
        assert db.engine.pool is not inherited_pool
    assert jobs._WorkerApp.pid > 0


def test_redis_down_keeps_the_message_queued_and_the_sweep_sends_it_later(
    make_app, redis_url, redis_client, smtp_settings, mailbox
):
    down = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", **smtp_settings)
    with down.app_context():
        message_id = send_email("patient@example.com")  # no exception for the caller
        assert reload(message_id).status == "queued"

    back = make_app(REDIS_URL=redis_url, **smtp_settings)
    with back.app_context():
        assert deliver_due_messages() == 0  # queued only a moment ago: a job may be on its way
        assert deliver_due_messages(queued_grace=timedelta(0)) == 1
        run_worker(redis_client, "mail")
        assert reload(message_id).status == "sent"
    assert len(mailbox.wait_for(1)) == 1


def test_enqueue_without_redis_runs_now_and_swallows_errors(app):
    calls = []

    def broken(value):
        calls.append(value)
        raise RuntimeError("provider exploded")

    with app.app_context():
        assert jobs.enqueue(broken, 7, queue="mail") is None
    assert calls == [7]


def test_redis_connection_is_cached_per_app(make_app, redis_url):
    first, second = make_app(REDIS_URL=redis_url), make_app(REDIS_URL=redis_url)
    with first.app_context():
        assert jobs.redis_connection() is jobs.redis_connection()
    assert jobs.redis_connection(first) is not jobs.redis_connection(second)


def test_deliver_queued_command_delivers_due_rows_without_an_age_wait(app):
    with app.app_context():
        db.session.add(Message(channel="email", recipient="a@example.com", subject="Hi",
                               body_text="Hello", status="queued",
                               queued_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["signet", "deliver-queued"])
    assert result.exit_code == 0, result.output
    assert "Dispatched 1 due message(s)." in result.output
    with app.app_context():
        assert db.session.query(Message).one().status == "sent"


def test_worker_command_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["signet", "worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


def test_worker_command_forks_a_work_horse_that_delivers(
    make_app, redis_url, redis_client, smtp_settings, mailbox, monkeypatch
):
    monkeypatch.setattr(jobs._WorkerApp, "app", None)
    monkeypatch.setattr(jobs._WorkerApp, "pid", None)
    app = make_app(REDIS_URL=redis_url, **smtp_settings)
    with app.app_context():
        message_id = send_email("forked@example.com")
        db.engine.connect().close()  # the parent's pool holds a connection the horse must not use
    result = app.test_cli_runner().invoke(args=["signet", "worker", "--burst", "mail"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert reload(message_id).status == "sent"
    assert len(mailbox.wait_for(1)) == 1
