"""Sealing claimed with a lease, its retries due in the document's row: each completion is
sealed and mailed once, and whatever Redis lost, the sweep seals what is due."""

import threading
from datetime import timedelta

import pytest
import rq
from sqlalchemy import select, update

from portal.audit.service import events_for
from portal.delivery.models import Message
from portal.documents.models import Document
from portal.documents.services.common import as_utc
from portal.extensions import db
from portal.jobs import QuickStopWorker
from portal.models_base import utcnow
from portal.sealing.finalize import (
    FIRST_TRY_GRACE,
    claim_sealing,
    finalize_document,
    seal_state,
    sealing_due,
)
from portal.sweep.run import run_sweep
from tests.helpers import post_form, sign_in, text_of
from tests.progress.support import fill_signatures, load, sent_document, sign
from tests.sealing.tsa import closed_port_url

ROOT = "root@example.com"


@pytest.fixture
def admin_of():
    """Create the administrator in an app built with make_app; return its id."""
    from tests.factories import make_user

    def create(app) -> int:
        with app.app_context():
            return make_user(email=ROOT, name="Root Admin", is_admin=True).id

    return create


def _complete(document_id: int) -> None:
    fill_signatures(document_id)
    sign(document_id, "company")
    sign(document_id, "client")


def _failed_once(admin_id: int) -> int:
    """A completed document whose first try (on completion) found no time-stamping authority."""
    document_id = sent_document(admin_id)
    _complete(document_id)
    document = load(document_id)
    assert document.final_sha256 is None and document.seal_attempts == 1
    assert document.seal_next_at is not None and document.seal_lease_until is None
    return document_id


def _set(document_id: int, **values) -> None:
    db.session.execute(update(Document).where(Document.id == document_id).values(**values))
    db.session.commit()


def _due_now(document_id: int) -> None:
    """As if the wait before the next try had passed."""
    _set(document_id, seal_next_at=utcnow() - timedelta(seconds=1))


def _final_mail() -> list[str]:
    db.session.commit()
    return list(db.session.scalars(select(Message.recipient)
                                   .where(Message.kind == "document-completed")))


def _assert_sealed_and_mailed_once(document_id: int) -> Document:
    document = load(document_id)
    assert document.final_sha256 and document.seal_error == ""
    assert document.seal_next_at is None and document.seal_lease_until is None
    finalized = [e for e in events_for(document_id) if e.type == "document.finalized"]
    assert len(finalized) == 1
    assert finalized[0].details["attempts"] == document.seal_attempts
    mail = _final_mail()
    assert len(mail) >= 2 and len(mail) == len(set(mail))  # every recipient, once
    return document


def _root_client(app):
    client = app.test_client()
    sign_in(client, ROOT)
    return client


def test_two_finalize_calls_at_once_seal_once_and_mail_once(make_app, admin_of):
    app = make_app(SIGNET_TSA_URLS=[closed_port_url()])
    with app.app_context():
        document_id = _failed_once(admin_of(app))
        _due_now(document_id)
    app.config["SIGNET_TSA_URLS"] = []
    start, results = threading.Barrier(2), []

    def worker():
        with app.app_context():
            start.wait()
            results.append(finalize_document(document_id))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with app.app_context():
        document = _assert_sealed_and_mailed_once(document_id)
        # One of the two claimed it (the failed first try was attempt 1); the other left it.
        assert document.seal_attempts == 2
        assert sorted(results, key=bool) == [None, document.final_sha256]


def test_a_held_lease_keeps_others_off_and_an_ended_one_is_taken_over(make_app, admin_of):
    app = make_app(SIGNET_TSA_URLS=[closed_port_url()])
    with app.app_context():
        document_id = _failed_once(admin_of(app))
        _due_now(document_id)
        # A worker claims it (attempt 2) and is SIGKILLed mid-seal: it never settles.
        assert claim_sealing(document_id) == 2
        app.config["SIGNET_TSA_URLS"] = []
        assert finalize_document(document_id) is None
        assert sealing_due(utcnow()) == [] and run_sweep()["sealing"] == 0
        assert load(document_id).final_sha256 is None
        assert seal_state(load(document_id)) == "sealing"
    assert "Being sealed now" in text_of(_root_client(app).get("/admin/sealing"))

    with app.app_context():
        _set(document_id, seal_lease_until=utcnow() - timedelta(seconds=1))  # the lease ended
        assert seal_state(load(document_id)) == "waiting"
        assert sealing_due(utcnow()) == [document_id]
        assert run_sweep()["sealing"] == 1
        document = _assert_sealed_and_mailed_once(document_id)
        assert document.seal_attempts == 3
        assert run_sweep()["sealing"] == 0


def test_a_failed_seal_is_sealed_by_the_sweep_once_due_without_redis(make_app, admin_of):
    app = make_app(SIGNET_TSA_URLS=[closed_port_url()])
    assert not app.config["REDIS_URL"]
    with app.app_context():
        document_id = _failed_once(admin_of(app))
        failed = load(document_id)
        # The next try is due after the first wait of SIGNET_RETRY_SECONDS, not half an hour.
        wait = as_utc(failed.seal_next_at) - as_utc(failed.seal_failed_at)
        assert wait == timedelta(seconds=app.config["SIGNET_RETRY_SECONDS"][0])
        assert seal_state(failed) == "retrying"
    page = text_of(_root_client(app).get("/admin/sealing"))
    assert "No time-stamping authority answered" in page and "Next try" in page

    app.config["SIGNET_TSA_URLS"] = []
    with app.app_context():
        assert run_sweep()["sealing"] == 0  # not due yet
        assert load(document_id).final_sha256 is None
        _due_now(document_id)
        assert run_sweep()["sealing"] == 1
        assert _assert_sealed_and_mailed_once(document_id).seal_attempts == 2
        assert run_sweep()["sealing"] == 0  # nothing twice


def test_a_seal_whose_job_redis_lost_is_queued_again_by_the_sweep(
        make_app, admin_of, redis_url, redis_client):
    app = make_app(REDIS_URL=redis_url)
    sealing = rq.Queue("sealing", connection=redis_client)
    with app.app_context():
        document_id = sent_document(admin_of(app))
        _complete(document_id)
        assert len(sealing.jobs) == 1
        redis_client.flushdb()  # Redis restarted empty: the job queued on completion is gone
        assert run_sweep()["sealing"] == 0  # its first try may still be on the way
        assert run_sweep(utcnow() + FIRST_TRY_GRACE + timedelta(seconds=1))["sealing"] == 1
        QuickStopWorker([sealing], connection=redis_client).work(burst=True)
        assert _assert_sealed_and_mailed_once(document_id).seal_attempts == 1


def test_after_the_last_try_the_document_waits_on_the_admin_page(make_app, admin_of):
    app = make_app(SIGNET_TSA_URLS=[closed_port_url()], SIGNET_RETRY_SECONDS=[0, 0])
    with app.app_context():
        document_id = sent_document(admin_of(app))
        _complete(document_id)  # the first try fails; the next is due at once
        assert run_sweep()["sealing"] == 1  # the second fails
        assert run_sweep()["sealing"] == 1  # the third and last fails
        document = load(document_id)
        assert document.final_sha256 is None and document.seal_attempts == 3
        assert document.seal_next_at is None and document.seal_lease_until is None
        assert seal_state(document) == "given_up"
        assert run_sweep()["sealing"] == 0 and sealing_due(utcnow() + timedelta(days=1)) == []
        number = document.number

    client = _root_client(app)
    page = text_of(client.get("/admin/sealing"))
    assert number in page and "No time-stamping authority answered" in page
    assert "No more automatic tries" in page

    app.config["SIGNET_TSA_URLS"] = []
    response = post_form(client, "/admin/sealing/retry", follow_redirects=True)
    assert "started again for 1 document" in text_of(response)
    with app.app_context():
        assert _assert_sealed_and_mailed_once(document_id).seal_attempts == 4
    assert "Every completed document is sealed." in text_of(client.get("/admin/sealing"))
