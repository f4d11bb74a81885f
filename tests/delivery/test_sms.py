"""SMS: the HTTP gateway backend and the outbox fallback."""

import json

import pytest

from portal.delivery.backends import escaper_for, fill_placeholders
from portal.delivery.services import InvalidRecipient, deliver_due_messages, queue_sms
from tests.delivery.support import make_due, reload, send_sms
from tests.services import free_port


@pytest.fixture
def gateway(sms_gateway):
    sms_gateway.requests.clear()
    sms_gateway.fail_next = 0
    yield sms_gateway
    sms_gateway.fail_next = 0


def test_gateway_receives_json_body_and_auth_header_and_id_is_kept(make_app, gateway):
    app = make_app(SMS_GATEWAY_URL=gateway.url + "/send",
                   SMS_GATEWAY_AUTH_HEADER="Authorization: Bearer s3cret")
    text = 'Код: 123456\nNão partilhe "isto"'
    with app.app_context():
        message = reload(send_sms("+79161234567", text))
        assert (message.status, message.backend, message.attempts) == ("sent", "sms-gateway", 1)
        assert message.provider_id == f"sms-{len(gateway.requests)}"

    [request] = gateway.requests
    assert request["path"] == "/send"
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {"to": "+79161234567", "text": text}


def test_gateway_error_retries_the_text_with_the_same_idempotency_key(make_app, gateway):
    app = make_app(SMS_GATEWAY_URL=gateway.url)
    gateway.fail_next = 1
    with app.app_context():
        message_id = send_sms()  # the caller sees no exception
        message = reload(message_id)
        assert (message.status, message.attempts) == ("retrying", 1)
        assert "500" in message.last_error
        assert message.provider_id == ""
        key = message.message_id_header.strip("<>")

        make_due(message_id)
        assert deliver_due_messages() == 1
        message = reload(message_id)
        assert (message.status, message.attempts) == ("sent", 2)
    first, second = gateway.requests
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"] == key
    assert first["body"] == second["body"]


def test_the_idempotency_key_can_go_in_the_gateway_body(make_app, gateway):
    app = make_app(SMS_GATEWAY_URL=gateway.url,
                   SMS_GATEWAY_BODY='{"to": "{to}", "text": "{text}", "reference": "{key}"}')
    with app.app_context():
        message = reload(send_sms())
        assert message.status == "sent"
    [request] = gateway.requests
    assert json.loads(request["body"])["reference"] == message.message_id_header.strip("<>")


def test_unreachable_gateway_leaves_the_text_retrying(make_app):
    app = make_app(SMS_GATEWAY_URL=f"http://127.0.0.1:{free_port()}/send", SMS_GATEWAY_TIMEOUT=2)
    with app.app_context():
        message = reload(send_sms())
        assert message.status == "retrying"
        assert "unreachable" in message.last_error


def test_form_encoded_gateway_body(make_app, gateway):
    app = make_app(SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_BODY="to={to}&text={text}",
                   SMS_GATEWAY_CONTENT_TYPE="application/x-www-form-urlencoded")
    with app.app_context():
        assert reload(send_sms("+351912345678", "a&b=c {to}")).status == "sent"
    assert gateway.requests[0]["body"] == "to=%2B351912345678&text=a%26b%3Dc+%7Bto%7D"


def test_without_gateway_texts_go_to_the_outbox(app, gateway):
    with app.app_context():
        message = reload(send_sms())
        assert (message.status, message.backend) == ("sent", "outbox")
        assert message.body_text == "Your code is 123456"
    assert gateway.requests == []


def test_a_number_not_in_international_format_is_refused(app):
    with app.app_context(), pytest.raises(InvalidRecipient):
        queue_sms("8 916 123-45-67", "hi", "test")


def test_placeholders_are_filled_once_and_json_escaped():
    body = fill_placeholders('{"to": "{to}", "text": "{text}"}', "+1555", 'say "{to}"\\',
                             escaper_for("application/json"))
    assert json.loads(body) == {"to": "+1555", "text": 'say "{to}"\\'}
