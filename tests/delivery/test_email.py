"""Email: rendering, SMTP delivery, the outbox backend, failures and "send again"."""

import pytest

from portal.delivery.services import InvalidRecipient, queue_email, resend
from portal.extensions import db
from tests.delivery.support import reload, send_email
from tests.factories import make_user
from tests.services import free_port


@pytest.fixture
def smtp_app(make_app, smtp_server):
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                    SIGNET_MAIL_FROM="Signet <noreply@signet.test>")


def test_email_arrives_with_non_ascii_subject_text_and_html(smtp_app, mailbox):
    subject = "Подпишите договор · Assinatura pendente: ação necessária"
    with smtp_app.app_context():
        message_id = send_email(
            "maria@example.com", subject,
            heading="Olá, Maria", lines=["Contrato nº 7 <urgente>"],
            action_url="http://localhost/s/abc123", action_label="Assinar",
        )
        message = reload(message_id)
        assert message.status == "sent"
        assert message.backend == "smtp"
        assert message.attempts == 1
        assert message.sent_at is not None
        assert message.provider_id.startswith("<")

    mailbox.wait_for(1)
    [email] = mailbox.to("maria@example.com")
    assert email["Subject"] == subject
    assert email["From"] == "Signet <noreply@signet.test>"
    assert email["Message-ID"] == message.provider_id
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "Contrato nº 7 <urgente>" in text
    assert "http://localhost/s/abc123" in text
    assert "Contrato nº 7 &lt;urgente&gt;" in html  # the HTML part escapes what it is given
    assert 'href="http://localhost/s/abc123"' in html
    assert "Assinar" in html


def test_queue_email_leaves_the_commit_to_the_caller(app):
    with app.app_context():
        message = queue_email("maria@example.com", "Hello", "notice", "test", lines=["x"])
        assert message.status == "queued"
        db.session.rollback()  # the caller's transaction failed: no message either
        assert db.session.query(type(message)).count() == 0


def test_queue_email_refuses_an_address_that_could_inject_headers(app):
    with app.app_context(), pytest.raises(InvalidRecipient):
        queue_email("maria@example.com\nBcc: all@example.com", "Hi", "notice", "test")


def test_without_smtp_host_the_outbox_backend_marks_it_sent(app, mailbox):
    with app.app_context():
        message = reload(send_email())
        assert (message.status, message.backend, message.attempts) == ("sent", "outbox", 1)
        assert "The contract is ready for your signature." in message.body_text
        assert "<html" in message.body_html
    assert mailbox.messages == []


def test_smtp_down_leaves_it_retrying_then_try_now_delivers(make_app, smtp_server, mailbox):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    with app.app_context():
        admin = make_user(email="boss@example.com", is_admin=True)
        message_id = send_email("late@example.com")  # no exception reaches the caller
        message = reload(message_id)
        assert message.status == "retrying"
        assert message.attempts == 1
        assert "refused" in message.last_error.lower()
        assert message.body_text  # nothing lost: the rendered mail waits in the row

        app.config["SMTP_PORT"] = smtp_server.port
        resend(message_id, admin)
        message = reload(message_id)
        # A new sending: its tries start over.
        assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    mailbox.wait_for(1)
    assert len(mailbox.to("late@example.com")) == 1


def test_a_sent_message_is_not_sent_twice_by_a_repeated_job(smtp_app, mailbox):
    from portal.delivery.jobs import deliver_message

    with smtp_app.app_context():
        message_id = send_email()
        deliver_message(message_id)  # e.g. a sweep raced the first job
        assert reload(message_id).attempts == 1
    assert len(mailbox.wait_for(1)) == 1


def test_rendering_outside_a_request_uses_the_default_language(app):
    # Jobs (reminders) queue mail with no request around them.
    with app.app_context():
        message = queue_email("maria@example.com", "Hi", "notice", "test", lines=["Line"])
        assert message.body_text.startswith("Hi")
        assert "Sent by Signet at http://localhost" in message.body_text
        db.session.rollback()
