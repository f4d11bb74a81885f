"""Signing links and codes are secrets end to end: sent for real, never kept or shown in the clear.

With a real SMTP server and SMS gateway (on loopback) the signer receives the working link and
code, while the stored copy and every outbox page show them masked. Without a server (the
outbox-viewer mode) the outbox shows them and says so.
"""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.delivery.models import Message
from portal.delivery.redaction import MARKER, MASK, as_sent, masked
from portal.documents.models import Party
from portal.extensions import db
from portal.models_base import utcnow
from portal.sweep.run import run_sweep
from portal.tokens import hash_token
from tests.factories import make_user
from tests.helpers import post_form, sign_in, text_of
from tests.progress.support import CLIENT_PHONE, LINK, load, messages_to, party, sent_document, sign
from tests.signing.support import HEADERS, post

DIRECTOR = "director@signet.example"
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
ADMIN = ("boss@example.com", "correct horse battery")


@pytest.fixture
def wired_app(make_app, smtp_server, sms_gateway, mailbox):
    """Mail to the loopback SMTP server, texts to the loopback SMS gateway."""
    sms_gateway.requests.clear()
    sms_gateway.fail_next = 0
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                    SMS_GATEWAY_URL=sms_gateway.url)


def _staff(app):
    """A logged-in administrator (the settings grant reads the outbox)."""
    with app.app_context():
        user = make_user(email=ADMIN[0], name="Bea Boss", is_admin=True)
        user_id = user.id
    client = app.test_client()
    sign_in(client, ADMIN[0])
    return client, user_id


def _message(kind: str, recipient: str) -> Message:
    return [m for m in messages_to(recipient) if m.kind == kind][-1]


def _stored(message: Message) -> str:
    return "\n".join((message.subject, message.body_text, message.body_html))


def _outbox_pages(staff, message_id: int) -> str:
    """What staff can see of a message: the list, the detail and the HTML body."""
    return "\n".join(text_of(staff.get(url)) for url in (
        "/outbox", f"/outbox/{message_id}", f"/outbox/{message_id}/html"))


def _ask_code(app, token: str):
    """What the signer does on the page: open the link, accept the terms (a code is sent)."""
    signer = app.test_client()
    assert signer.get(f"/s/{token}", headers=HEADERS).status_code == 200
    response = post(signer, f"/s/{token}/consent")
    assert response.status_code == 200
    return signer


def _confirm(signer, token: str, code: str) -> str:
    return text_of(post(signer, f"/s/{token}/code", {"code": code}))


def _texts_to(gateway, number: str) -> list[str]:
    return [json.loads(request["body"])["text"] for request in gateway.requests
            if json.loads(request["body"])["to"] == number]


def test_smtp_and_sms_deliver_links_and_codes_that_staff_never_see(wired_app, mailbox,
                                                                   sms_gateway):
    staff, sender = _staff(wired_app)
    with wired_app.app_context():
        document_id = sent_document(sender, client_sms=True)
        # The invitation by email: the signer gets the working link ...
        mailbox.wait_for(1)
        [mail] = mailbox.to(DIRECTOR)
        token = LINK.search(mail.get_body(("plain",)).get_content()).group(1)
        assert f'href="http://localhost/s/{token}"' in mail.get_body(("html",)).get_content()
        assert hash_token(token) == party(load(document_id), "company").token_hash
        # ... the stored copy keeps neither the token nor, after delivery, any way back to it.
        invitation = _message("signing-invitation", DIRECTOR)
        assert (invitation.status, invitation.backend) == ("sent", "smtp")
        assert token not in _stored(invitation) and MARKER.search(invitation.body_text)
        assert invitation.secrets is None and as_sent(invitation) is None
        ids = [invitation.id]

    # The code by email: it works on the page, and it is nowhere in the stored copy.
    signer = _ask_code(wired_app, token)
    code_mail = mailbox.wait_for(2)[-1]["message"]
    code = CODE.search(code_mail.get_body(("plain",)).get_content()).group(1)
    assert code in code_mail["Subject"]
    with wired_app.app_context():
        code_message = _message("signing_code", DIRECTOR)
        assert code_message.backend == "smtp" and code_message.secrets is None
        assert code not in _stored(code_message)
        assert masked(code_message).subject == f"Your signing code: {MASK}"
        ids.append(code_message.id)
    assert "Fill in your fields and sign" in _confirm(signer, token, code)

    # The client's turn: the link and the code by SMS.
    with wired_app.app_context():
        sign(document_id, "company")
        [text] = _texts_to(sms_gateway, CLIENT_PHONE)
        client_token = LINK.search(text).group(1)
        assert hash_token(client_token) == party(load(document_id), "client").token_hash
        client_invitation = _message("signing-invitation", CLIENT_PHONE)
        assert client_invitation.backend == "sms-gateway" and client_invitation.secrets is None
        assert client_token not in _stored(client_invitation)
        ids.append(client_invitation.id)
        assert f"http://localhost/s/{MASK}" in masked(client_invitation).body_text
    client_signer = _ask_code(wired_app, client_token)
    client_code = CODE.search(_texts_to(sms_gateway, CLIENT_PHONE)[-1]).group(1)
    with wired_app.app_context():
        client_code_message = _message("signing_code", CLIENT_PHONE)
        assert client_code_message.secrets is None
        assert client_code not in _stored(client_code_message)
        ids.append(client_code_message.id)
    assert "Fill in your fields and sign" in _confirm(client_signer, client_token, client_code)

    # Staff: every outbox page shows what was sent, with the secret parts masked.
    seen = "\n".join(_outbox_pages(staff, message_id) for message_id in ids)
    for secret in (token, code, client_token, client_code):
        assert secret not in seen
    assert f"http://localhost/s/{MASK}" in seen and f"Your signing code: {MASK}" in seen
    assert "Signing links and codes are hidden here" in seen
    assert "No mail or SMS server is configured" not in seen


def test_without_a_server_the_outbox_shows_links_and_codes_and_says_so(app):
    staff, sender = _staff(app)
    with app.app_context():
        document_id = sent_document(sender)
        invitation = _message("signing-invitation", DIRECTOR)
        token = LINK.search(as_sent(invitation).body_text).group(1)
        assert hash_token(token) == party(load(document_id), "company").token_hash
        # Even here the stored body holds a marker; the token is sealed beside it.
        assert token not in _stored(invitation) and invitation.secrets
        invitation_id = invitation.id
    _ask_code(app, token)
    with app.app_context():
        code_message = _message("signing_code", DIRECTOR)
        code = CODE.search(as_sent(code_message).subject).group(1)
        assert code not in _stored(code_message) and code_message.backend == "outbox"
        code_id = code_message.id

    listing = text_of(staff.get("/outbox"))
    assert f"Your signing code: {code}" in listing
    assert ("No mail or SMS server is configured: messages stay here, with their links and "
            "codes, so you can try the product. Once a server is configured, links and codes "
            "are hidden here.") in listing
    detail = text_of(staff.get(f"/outbox/{invitation_id}"))
    assert f'<a href="http://localhost/s/{token}" rel="noopener noreferrer">' in detail
    html = text_of(staff.get(f"/outbox/{invitation_id}/html"))
    assert f'href="http://localhost/s/{token}"' in html
    assert code in text_of(staff.get(f"/outbox/{code_id}"))


def test_once_a_server_is_configured_the_outbox_hides_them_and_send_again_delivers(
        make_app, smtp_server, mailbox):
    trial = make_app()
    with trial.app_context():
        sender = make_user(email=ADMIN[0], name="Bea Boss", is_admin=True).id
        sent_document(sender)
        invitation = _message("signing-invitation", DIRECTOR)
        token = LINK.search(as_sent(invitation).body_text).group(1)
        invitation_id = invitation.id
    assert mailbox.messages == []

    configured = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    staff = configured.test_client()
    sign_in(staff, ADMIN[0])
    pages = _outbox_pages(staff, invitation_id)
    assert token not in pages and f"http://localhost/s/{MASK}" in pages
    # Kept sealed while only the outbox had it: sending it now delivers the working link.
    response = post_form(staff, f"/outbox/{invitation_id}/resend")
    assert response.status_code == 302
    mailbox.wait_for(1)
    [mail] = mailbox.to(DIRECTOR)
    assert f"http://localhost/s/{token}" in mail.get_body(("plain",)).get_content()
    with configured.app_context():
        delivered = db.session.get(Message, invitation_id)
        assert (delivered.status, delivered.backend, delivered.secrets) == ("sent", "smtp", None)
        assert token not in _stored(delivered)


def test_send_again_refuses_a_redacted_invitation_and_any_code(wired_app, mailbox):
    staff, sender = _staff(wired_app)
    with wired_app.app_context():
        document_id = sent_document(sender)
        token = LINK.search(mailbox.wait_for(1)[0]["message"].get_body(("plain",))
                            .get_content()).group(1)
        invitation_id = _message("signing-invitation", DIRECTOR).id
    _ask_code(wired_app, token)
    mailbox.wait_for(2)
    with wired_app.app_context():
        code_id = _message("signing_code", DIRECTOR).id

    detail = text_of(staff.get(f"/outbox/{invitation_id}"))
    assert "Send again" not in detail
    assert "cannot be sent again" in detail
    assert f'href="/pipeline/documents/{document_id}"' in detail  # where "Remind now" is
    refused = post_form(staff, f"/outbox/{invitation_id}/resend")
    assert refused.status_code == 409
    assert "use “Remind now”" in text_of(refused)

    assert "Send again" not in text_of(staff.get(f"/outbox/{code_id}"))
    refused = post_form(staff, f"/outbox/{code_id}/resend")
    assert refused.status_code == 409
    assert "asks for a new code on the signing page" in text_of(refused)
    assert len(mailbox.messages) == 2  # nothing went out again
    with wired_app.app_context():
        assert db.session.get(Message, invitation_id).attempts == 1


def test_reminders_after_delivery_carry_the_working_link(wired_app, mailbox, sms_gateway):
    staff, sender = _staff(wired_app)
    with wired_app.app_context():
        document_id = sent_document(sender)
        company = party(load(document_id), "company")
        company_id = company.id
        token = LINK.search(mailbox.wait_for(1)[0]["message"].get_body(("plain",))
                            .get_content()).group(1)
        assert company.link_sealed and token not in company.link_sealed

        # The automatic reminder, then the manager's "Remind now": the same working link.
        assert run_sweep(as_utc_sent(company) + timedelta(days=2, minutes=1))["reminded"] == 1
        # An hour later (the once-an-hour rule of "Remind now" reads the party's last reminder).
        db.session.execute(update(Party).where(Party.id == company_id)
                           .values(last_reminded_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
    remind_url = f"/pipeline/documents/{document_id}/parties/{company_id}/remind"
    assert post_form(staff, remind_url, headers={"HX-Request": "true"}).status_code == 200
    mails = mailbox.wait_for(3)
    reminders = [m["message"] for m in mails if "Reminder" in m["message"]["Subject"]
                 or "Please sign" in m["message"]["Subject"]][1:]
    assert len(reminders) == 2
    for mail in reminders:
        assert LINK.search(mail.get_body(("plain",)).get_content()).group(1) == token
    with wired_app.app_context():
        for message in messages_to(DIRECTOR):
            assert token not in _stored(message) and message.secrets is None
        assert db.session.get(Party, company_id).token_hash == hash_token(token)
    page = wired_app.test_client().get(f"/s/{token}", headers=HEADERS)
    assert page.status_code == 200 and "Act of completed work" in text_of(page)


def as_utc_sent(company: Party):
    from portal.documents.services.common import as_utc

    return as_utc(company.sent_at)
