"""Redis away: the site keeps serving. Rate limits fall back to per-process counters and work
that would be queued stays in the database for the sweep."""

import socket

import pytest
from sqlalchemy import select

from portal.delivery.models import Message
from portal.documents.models import Document
from portal.extensions import db
from tests.documents.support import ready_draft
from tests.helpers import csrf_token, sign_in, text_of


def _dead_redis_url() -> str:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def app(make_app):
    url = _dead_redis_url()
    return make_app(REDIS_URL=url, RATELIMIT_STORAGE_URI=url,
                    SIGNET_SIGNING_LIMIT="3 per minute")


def test_pages_answer_and_limits_still_hold_per_process(app):
    client = app.test_client()
    assert client.get("/login").status_code == 200
    assert client.post("/verify", data={"code": "nothing"}).status_code in (200, 400, 404)
    answers = [client.get("/s/" + "a" * 43).status_code for _ in range(5)]
    assert answers[:3] == [404, 404, 404]  # unknown link, answered
    assert answers[3:] == [429, 429]  # the limit holds in this process meanwhile


def test_sending_a_document_succeeds_and_its_invitation_waits_in_the_outbox(app, admin):
    client = app.test_client()
    sign_in(client, admin["email"])
    with app.app_context():
        document_id = ready_draft(admin["id"]).id
    response = client.post(f"/documents/{document_id}/send",
                           data={"csrf_token": csrf_token(client)})
    assert response.status_code in (200, 302, 303), text_of(response)[:300]
    with app.app_context():
        assert db.session.get(Document, document_id).stage != "draft"
        statuses = db.session.scalars(
            select(Message.status).where(Message.kind == "signing-invitation")).all()
    assert statuses == ["queued"]  # kept for the sweep, not lost and not an error
