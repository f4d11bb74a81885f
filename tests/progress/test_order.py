"""Strict order: who is invited when, by which channel, and never twice."""

import threading

import pytest

from portal.audit.service import events_for
from portal.documents.display import mask_contact
from portal.documents.models import Party
from portal.extensions import db
from portal.tokens import hash_token
from portal.workflow.order import advance
from tests.progress.support import (
    CLIENT_PHONE,
    LINK,
    load,
    messages_to,
    party,
    sent_document,
    sign,
)

DIRECTOR = "director@signet.example"
CLIENT = "maria@example.com"


@pytest.fixture
def wired_app(make_app, smtp_server, sms_gateway):
    """Mail to the loopback SMTP server, texts to the loopback SMS gateway."""
    sms_gateway.requests.clear()
    sms_gateway.fail_next = 0
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                    SMS_GATEWAY_URL=sms_gateway.url)


@pytest.fixture
def sender(wired_app):
    from tests.factories import make_user

    with wired_app.app_context():
        return make_user(email="sender@example.com", name="Sam Sender").id


def _link_token(email_message) -> str:
    text = email_message.get_body(("plain",)).get_content()
    return LINK.search(text).group(1)


def test_send_invites_only_our_signer_by_email(wired_app, sender, mailbox):
    with wired_app.app_context():
        document_id = sent_document(sender)
        mailbox.wait_for(1)
        [invitation] = mailbox.to(DIRECTOR)
        document = load(document_id)
        company, client = party(document, "company"), party(document, "client")
        assert document.number in invitation["Subject"]
        assert "Please sign" in invitation["Subject"]
        token = _link_token(invitation)
        assert hash_token(token) == company.token_hash
        assert (company.status, company.sent_at is not None) == ("sent", True)
        html = invitation.get_body(("html",)).get_content()
        assert f'href="http://localhost/s/{token}"' in html
        # The client's turn has not come: no link exists for it and nothing was sent.
        assert (client.status, client.token_hash, client.sent_at) == ("waiting", None, None)
        assert messages_to(CLIENT) == []
        invited = [e for e in events_for(document_id) if e.type == "party.invited"]
        assert len(invited) == 1
        assert invited[0].details["contact"] == mask_contact(DIRECTOR) == "d***r@signet.example"
        assert token not in str(invited[0].details)  # the raw token lives only in the mail
        page = wired_app.test_client().get(f"/s/{token}")
        assert page.status_code == 200 and document.title in page.get_data(as_text=True)
    assert len(mailbox.messages) == 1


def test_the_client_gets_its_link_by_sms_after_our_signer_signed(wired_app, sender, mailbox,
                                                                 sms_gateway):
    with wired_app.app_context():
        document_id = sent_document(sender, client_sms=True)
        assert sms_gateway.requests == []
        sign(document_id, "company")
        document = load(document_id)
        assert document.stage == "client_signing"
        client = party(document, "client")
        assert client.status == "sent"
        [text] = sms_gateway.requests
        assert CLIENT_PHONE in text["body"]
        token = LINK.search(text["body"]).group(1)
        assert hash_token(token) == client.token_hash
        [message] = messages_to(CLIENT_PHONE)
        assert (message.channel, message.status, message.kind) == ("sms", "sent",
                                                                  "signing-invitation")
        assert "document.stage_changed" in [e.type for e in events_for(document_id)]
    assert [m["to"] for m in mailbox.wait_for(1)] == [[DIRECTOR]]


def test_advance_twice_invites_once(wired_app, sender, mailbox):
    with wired_app.app_context():
        document_id = sent_document(sender)
        sign(document_id, "company")
        advance(document_id)
        advance(document_id)
        assert len(messages_to(CLIENT)) == 1
        assert [e.type for e in events_for(document_id)].count("party.invited") == 2
    mailbox.wait_for(2)
    assert len(mailbox.to(CLIENT)) == 1


def test_two_advances_at_the_same_moment_invite_once(wired_app, sender):
    with wired_app.app_context():
        document_id = sent_document(sender)
        sign(document_id, "company", then_advance=False)
    start = threading.Barrier(2)

    def call():
        with wired_app.app_context():
            start.wait()
            advance(document_id)
            db.session.remove()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with wired_app.app_context():
        assert len(messages_to(CLIENT)) == 1
        assert load(document_id).stage == "client_signing"
        assert [e.type for e in events_for(document_id)].count("party.invited") == 2


def test_an_approver_comes_before_our_signer(wired_app, sender, mailbox):
    with wired_app.app_context():
        document_id = sent_document(sender, approver=True)
        assert load(document_id).stage == "approval"
        assert len(messages_to("boris@example.com")) == 1
        assert "Please approve" in messages_to("boris@example.com")[0].subject
        assert messages_to(DIRECTOR) == [] and messages_to(CLIENT) == []

        sign(document_id, "approver")
        assert load(document_id).stage == "company_signing"
        assert len(messages_to(DIRECTOR)) == 1 and messages_to(CLIENT) == []

        sign(document_id, "company")
        assert load(document_id).stage == "client_signing"
        assert len(messages_to(CLIENT)) == 1
        assert len(messages_to("boris@example.com")) == 1


def test_parties_with_the_same_order_sign_in_parallel(wired_app, sender, mailbox):
    with wired_app.app_context():
        document_id = sent_document(sender, approver=True, same_order=True)
        assert load(document_id).stage == "approval"
        assert len(messages_to("boris@example.com")) == 1
        assert len(messages_to(DIRECTOR)) == 1
        assert messages_to(CLIENT) == []

        sign(document_id, "company")  # the approver has not finished: the client waits
        assert party(load(document_id), "client").status == "waiting"
        assert messages_to(CLIENT) == []

        sign(document_id, "approver")
        document = load(document_id)
        assert document.stage == "client_signing"
        assert len(messages_to(CLIENT)) == 1


def test_messages_to_parties_are_in_the_documents_language(wired_app, sender, mailbox):
    from portal.documents import services
    from tests.documents.support import META, ready_draft, user

    with wired_app.app_context():
        draft = ready_draft(sender)
        draft.language = "ru"
        db.session.commit()
        services.send(user(sender), META, draft.id)
        [message] = messages_to(DIRECTOR)
        assert "Здравствуйте, Anna Petrova!" in message.body_text
        assert '<html lang="ru">' in message.body_html


def test_a_stopped_document_invites_nobody_more(wired_app, sender):
    from portal.documents import services
    from tests.documents.support import META, user

    with wired_app.app_context():
        document_id = sent_document(sender)
        services.stop(user(sender), META, document_id, "Wrong client")
        sign(document_id, "company")
        document = load(document_id)
        assert document.stage == "stopped"
        assert party(document, "client").token_hash is None
        assert messages_to(CLIENT) == []


def test_a_party_whose_turn_came_keeps_its_first_link(wired_app, sender):
    with wired_app.app_context():
        document_id = sent_document(sender)
        first_hash = party(load(document_id), "company").token_hash
        advance(document_id)  # nothing signed: a repeated call changes nothing
        assert party(load(document_id), "company").token_hash == first_hash
        assert len(messages_to(DIRECTOR)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(Party)
                                 .where(Party.token_hash.is_not(None))) == 1
