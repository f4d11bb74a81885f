"""Webhook endpoints for integrations: every document event, signed, retried, sent again."""

import json

import pytest
import rq

from portal.automation import services as automation
from portal.automation.webhooks import signature
from portal.jobs import QuickStopWorker
from tests.automation.receiver import WebhookReceiver
from tests.automation.support import deliveries, sign_as
from tests.documents.support import user
from tests.factories import make_user
from tests.progress.support import load, sent_document

QUEUES = ("default", "mail", "webhooks", "sealing")


def work(redis_client):
    queues = [rq.Queue(name, connection=redis_client) for name in QUEUES]
    QuickStopWorker(queues, connection=redis_client).work(burst=True)


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.fixture
def boss(app):
    with app.app_context():
        return make_user(email="boss@example.com", name="Bo Boss", is_admin=True).id


def test_an_endpoint_hears_every_step_of_a_document_signed_with_its_secret(app, boss,
                                                                             receiver):
    with app.app_context():
        endpoint = automation.create_endpoint(user(boss), {"url": receiver.url})
        secret = endpoint.secret
        document_id = sent_document(boss)
        sign_as(document_id, "company")
    with app.app_context():
        sign_as(document_id, "client")
    with app.app_context():
        assert load(document_id).stage == "completed"
        logged = deliveries()
    types = [body["type"] for body in receiver.json_bodies()]
    for expected in ("document.created", "document.sent", "party.invited", "party.signed",
                     "document.stage_changed", "document.completed", "document.finalized"):
        assert expected in types, expected
    assert "party.code_sent" not in types and "field.filled" not in types  # private steps
    assert types.index("document.sent") < types.index("document.completed")
    assert all(receiver.signature_ok(call, secret) for call in receiver.calls)
    assert {delivery.status for delivery in logged} == {"succeeded"}
    assert len(logged) == len(receiver.calls)
    signed = next(body for body in receiver.json_bodies() if body["type"] == "party.signed"
                  and body["party"]["role"] == "client")
    assert signed["document"]["id"] == document_id
    assert signed["party"]["name"] == "Maria Silva"
    assert signed["id"].startswith("evt_")


def test_an_endpoint_gets_only_the_events_it_chose_and_a_disabled_one_nothing(app, boss,
                                                                               receiver):
    quiet = WebhookReceiver()
    try:
        with app.app_context():
            actor = user(boss)
            automation.create_endpoint(actor, {"url": receiver.url,
                                               "events": ["document.sent"]})
            off = automation.create_endpoint(actor, {"url": quiet.url})
            automation.update_endpoint(actor, off.id, {"url": quiet.url, "enabled": ""})
            sent_document(boss)
        assert [body["type"] for body in receiver.json_bodies()] == ["document.sent"]
        assert quiet.calls == []
    finally:
        quiet.stop()


def test_a_failing_endpoint_is_retried_then_failed_and_can_be_sent_again(
        make_app, redis_url, redis_client):
    app = make_app(REDIS_URL=redis_url, SIGNET_RETRY_SECONDS=[0, 0])
    broken = WebhookReceiver(statuses=(500, 500, 500, 200))
    try:
        with app.app_context():
            boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True).id
            endpoint = automation.create_endpoint(user(boss), {"url": broken.url,
                                                               "events": ["document.sent"]})
            secret = endpoint.secret
            sent_document(boss)
        with app.app_context():
            work(redis_client)
            [failed] = deliveries()
            assert (failed.status, failed.attempts, failed.response_status) == ("failed", 3, 500)
            assert failed.last_error.startswith("HTTP 500")
            again = automation.resend_delivery(user(boss), failed.id)
            work(redis_client)
            first, second = deliveries()
            assert (second.id, second.resent_from_id) == (again.id, failed.id)
            assert (second.status, second.response_status) == ("succeeded", 200)
        assert len(broken.calls) == 4
        assert all(broken.signature_ok(call, secret) for call in broken.calls)
        bodies = {call["body"] for call in broken.calls}
        assert len(bodies) == 1  # "send again" repeats the same body, signed afresh
    finally:
        broken.stop()


def test_the_signature_is_hmac_sha256_over_timestamp_and_body():
    import hashlib
    import hmac

    body = json.dumps({"type": "document.sent"}).encode()
    header = signature("whsec_test", 1700000000, body)
    expected = hmac.new(b"whsec_test", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_bad_endpoint_input_is_refused_and_nothing_is_saved(app, boss):
    from portal.automation.models import WebhookEndpoint
    from portal.automation.services import RuleRefused
    from portal.extensions import db

    with app.app_context():
        for values, field in (({"url": "ftp://example.com/x"}, "url"),
                              ({"url": "javascript:alert(1)"}, "url"),
                              ({"url": "https://crm.example/h", "events": ["nope"]}, "events")):
            with pytest.raises(RuleRefused) as refused:
                automation.create_endpoint(user(boss), values)
            assert field in refused.value.errors
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEndpoint)) == 0


def test_old_finished_logs_are_dropped_and_open_ones_kept(make_app, receiver):
    from datetime import timedelta

    from portal.automation.engine import forget_old_logs
    from portal.automation.models import WebhookDelivery
    from portal.extensions import db
    from portal.models_base import utcnow

    app = make_app(SIGNET_AUTOMATION_LOG_DAYS=30)
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True).id
        endpoint = automation.create_endpoint(user(boss), {"url": receiver.url})
        old = utcnow() - timedelta(days=31)
        db.session.add_all([
            WebhookDelivery(endpoint_id=endpoint.id, event_type="document.sent", payload="{}",
                            status=status, created_at=created)
            for status, created in (("succeeded", old), ("failed", old), ("retrying", old),
                                    ("succeeded", utcnow()))])
        db.session.commit()
        assert forget_old_logs() == 2
        assert sorted(delivery.status for delivery in deliveries()) == ["retrying", "succeeded"]
