"""The sweep as a whole: the CLI, the in-process timer, and RQ's schedule over a real Redis."""

import threading
from datetime import timedelta

import rq

from portal.documents.models import Party
from portal.extensions import db
from portal.models_base import utcnow
from portal.sweep import timer
from portal.sweep.run import SWEEP_JOB_PREFIX, reseal_stuck, run_sweep, schedule_next_sweep
from portal.worker import run_worker
from tests.factories import make_user
from tests.progress.support import load, messages_to, sent_document

DIRECTOR = "director@signet.example"


def _overdue_for_a_reminder(document_id: int) -> None:
    """Move the invitation three days back, as if the document had waited that long."""
    db.session.execute(db.update(Party).where(Party.document_id == document_id,
                                              Party.role == "company")
                       .values(sent_at=utcnow() - timedelta(days=3)))
    db.session.commit()


def _reminders() -> list:
    return [m for m in messages_to(DIRECTOR) if m.kind == "signing-reminder"]


def test_run_sweep_counts_every_step_and_repeats_harmlessly(app):
    with app.app_context():
        document_id = sent_document(make_user(email="s@example.com").id)
        _overdue_for_a_reminder(document_id)
        first = run_sweep()
        assert set(first) == {"expired", "reminded", "sealing", "restamped", "messages",
                              "bulk_batches", "bundles",
                              "stuck_rules", "automation_retries", "lost_events",
                              "automation_logs", "retention", "sessions"}
        assert first["reminded"] == 1
        assert run_sweep()["reminded"] == 0
        assert len(_reminders()) == 1


def test_the_cli_runs_one_sweep(app):
    with app.app_context():
        document_id = sent_document(make_user(email="s@example.com").id)
        _overdue_for_a_reminder(document_id)
    result = app.test_cli_runner().invoke(args=["signet", "sweep"])
    assert result.exit_code == 0, result.output
    assert "reminded: 1" in result.output
    again = app.test_cli_runner().invoke(args=["signet", "sweep"])
    assert "reminded: 0" in again.output
    expire = app.test_cli_runner().invoke(args=["signet", "expire"])
    assert expire.exit_code == 0 and "Expired 0 document(s)." in expire.output


def test_the_cli_refuses_while_another_process_sweeps(app, tmp_path):
    from pathlib import Path

    with timer.sweep_lock(Path(app.instance_path)) as held:
        assert held
        result = app.test_cli_runner().invoke(args=["signet", "sweep"])
        assert result.exit_code != 0 and "Another process" in result.output
        assert timer.run_locked_sweep(app) is None


def _sweep_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == timer.THREAD_NAME and t.is_alive()]


def test_the_timer_does_not_start_in_tests(app, client):
    assert client.get("/login").status_code == 200
    assert timer.timer_of(app) is None
    assert _sweep_threads() == []


def test_the_timer_starts_with_the_first_request_once_when_asked(make_app):
    app = make_app(SIGNET_SWEEP_SECONDS=3600)
    assert timer.timer_of(app) is None  # building the app (a CLI command) starts nothing
    client = app.test_client()
    client.get("/login")
    client.get("/login")
    running = timer.timer_of(app)
    try:
        assert running is not None and running.is_alive()
        assert running.period == 3600
        assert [t for t in _sweep_threads() if t is running] == [running]
        assert len(_sweep_threads()) == 1
    finally:
        timer.stop_timer(app)
    running.join(5)
    assert not running.is_alive()


def test_with_redis_the_worker_sweeps_not_the_web_process(make_app, redis_url):
    app = make_app(SIGNET_SWEEP_SECONDS=300, REDIS_URL=redis_url)
    app.test_client().get("/login")
    assert timer.timer_of(app) is None


def test_a_locked_sweep_runs_in_the_app(app):
    with app.app_context():
        document_id = sent_document(make_user(email="s@example.com").id)
        _overdue_for_a_reminder(document_id)
    counts = timer.run_locked_sweep(app)
    assert counts["reminded"] == 1


def test_workers_book_one_sweep_per_slot_and_the_sweep_books_the_next(
        make_app, redis_url, redis_client):
    app = make_app(REDIS_URL=redis_url, SIGNET_SWEEP_SECONDS=300)
    with app.app_context():
        document_id = sent_document(make_user(email="s@example.com").id)
        _overdue_for_a_reminder(document_id)
        first = schedule_next_sweep(app)
        assert schedule_next_sweep(app) == first  # a second worker starting books the same job
        default = rq.Queue("default", connection=redis_client)
        assert default.scheduled_job_registry.get_job_ids() == [first]
        assert first.startswith(SWEEP_JOB_PREFIX)

        # Make the booked sweep due now, then let a worker (with its scheduler) run it.
        redis_client.zadd(default.scheduled_job_registry.key, {first: 0})
        run_worker(app, queues=("default",), burst=True)
        assert len(_reminders()) == 1
        booked = default.scheduled_job_registry.get_job_ids()
        assert len(booked) == 1 and booked[0] != first  # the next slot is booked
        assert rq.job.Job.fetch(first, connection=redis_client).get_status() == "finished"

        # A worker catching up late sends nothing twice.
        redis_client.zadd(default.scheduled_job_registry.key, {booked[0]: 0})
        run_worker(app, queues=("default",), burst=True)
        assert len(_reminders()) == 1
        assert load(document_id).stage == "company_signing"


def test_no_booking_without_a_period_or_redis(make_app, redis_url):
    assert schedule_next_sweep(make_app(REDIS_URL=redis_url, SIGNET_SWEEP_SECONDS=0)) is None
    assert schedule_next_sweep(make_app(SIGNET_SWEEP_SECONDS=300)) is None


def test_sealing_is_queued_again_only_for_documents_stuck_a_while(app):
    from tests.factories import make_document_row

    with app.app_context():
        owner = make_user(email="s@example.com")
        recent = make_document_row(owner.id, stage="completed", completed_at=utcnow())
        stuck = make_document_row(owner.id, stage="completed",
                                  completed_at=utcnow() - timedelta(hours=1))
        assert recent.id != stuck.id
        # The stuck one has no PDF to seal: the in-process job fails and remembers why.
        assert reseal_stuck(utcnow()) == 1
        assert load(stuck.id).seal_attempts == 1 and load(recent.id).seal_attempts == 0
        # It failed just now: not queued again before its next try is due.
        assert reseal_stuck(utcnow()) == 0
        assert reseal_stuck(utcnow() + timedelta(hours=1)) == 2
