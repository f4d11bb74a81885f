"""Decline, stop and expiry: who is told what, once."""

from datetime import timedelta

import pytest

from portal.audit.service import events_for
from portal.documents import services
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from portal.workflow.order import expire_overdue
from tests.documents.support import META, user
from tests.progress.support import (
    CLIENT_PHONE,
    decline,
    decline_as,
    load,
    messages_to,
    party,
    sent_document,
    sign,
)

DIRECTOR = "director@signet.example"
SENDER = "sender@example.com"


@pytest.fixture
def wired_app(make_app, smtp_server, sms_gateway):
    sms_gateway.requests.clear()
    sms_gateway.fail_next = 0
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                    SMS_GATEWAY_URL=sms_gateway.url)


@pytest.fixture
def sender(wired_app):
    from tests.factories import make_user

    with wired_app.app_context():
        return make_user(email=SENDER, name="Sam Sender").id


def _decline(document_id: int, role: str, reason: str) -> int:
    """What the signing page does on decline: the party and the document end, the notices go."""
    return decline(document_id, role, reason)


def test_a_decline_tells_the_responsible_and_the_invited_with_the_reason(wired_app, sender,
                                                                         mailbox, sms_gateway):
    with wired_app.app_context():
        document_id = sent_document(sender, client_sms=True)
        sign(document_id, "company")
        client_id = _decline(document_id, "client", "The amount is wrong: 1,000 not 10,000")
        decline_as(document_id, client_id)  # a second decline tells nobody again

        [to_sender] = [m for m in messages_to(SENDER) if m.kind == "signing-declined"]
        assert "The amount is wrong: 1,000 not 10,000" in to_sender.body_text
        assert "Maria Silva" in to_sender.body_text
        assert "Declined:" in to_sender.subject
        [to_director] = [m for m in messages_to(DIRECTOR) if m.kind == "signing-declined"]
        assert "The amount is wrong" in to_director.body_text
        assert [m.kind for m in messages_to(CLIENT_PHONE)] == ["signing-invitation"]
        types = [e.type for e in events_for(document_id)]
        assert types.count("document.declined") == 1
        assert load(document_id).stage == "declined"
    mailbox.wait_for(3)
    [email] = [m for m in mailbox.to(SENDER)]
    assert "The amount is wrong" in email.get_body(("html",)).get_content()


def test_a_decline_of_the_first_signer_leaves_the_client_uninvited(wired_app, sender):
    with wired_app.app_context():
        document_id = sent_document(sender)
        _decline(document_id, "company", "Not ours")
        sign(document_id, "client")  # even a bogus signature moves nothing
        document = load(document_id)
        assert document.stage == "declined"
        assert party(document, "client").token_hash is None
        assert messages_to("maria@example.com") == []
        assert len([m for m in messages_to(SENDER) if m.kind == "signing-declined"]) == 1


def test_notify_declined_ignores_a_party_of_another_document(wired_app, sender):
    with wired_app.app_context():
        first, second = sent_document(sender), sent_document(sender)
        stranger = party(load(second), "company").id
        decline_as(first, stranger)
        assert load(first).stage == "company_signing"
        assert messages_to(SENDER) == []


def test_stop_tells_the_invited_parties(wired_app, sender, mailbox):
    with wired_app.app_context():
        document_id = sent_document(sender)
        services.stop(user(sender), META, document_id, "The client asked for a new version")
        [notice] = [m for m in messages_to(DIRECTOR) if m.kind == "signing-stopped"]
        assert "The client asked for a new version" in notice.body_text
        assert "no longer works" in notice.body_text
        assert messages_to("maria@example.com") == []  # never invited, nothing to tell
    mailbox.wait_for(2)
    subjects = [m["Subject"] for m in mailbox.to(DIRECTOR)]
    assert [subject.split()[0] for subject in subjects] == ["Please", "Stopped:"]


def test_stop_texts_a_party_invited_by_sms(wired_app, sender, sms_gateway):
    with wired_app.app_context():
        document_id = sent_document(sender, client_sms=True)
        sign(document_id, "company")
        services.stop(user(sender), META, document_id, "Duplicate")
        assert [m.kind for m in messages_to(CLIENT_PHONE)] == ["signing-invitation",
                                                               "signing-stopped"]
    assert "was stopped" in sms_gateway.requests[-1]["body"]


def test_expire_moves_overdue_documents_and_tells_the_responsible(wired_app, sender, mailbox):
    with wired_app.app_context():
        overdue, fresh = sent_document(sender), sent_document(sender)
        db.session.execute(db.update(Document).where(Document.id == overdue)
                           .values(deadline_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    result = wired_app.test_cli_runner().invoke(args=["signet", "expire"])
    assert result.exit_code == 0 and "Expired 1 document(s)." in result.output
    with wired_app.app_context():
        assert load(overdue).stage == "expired"
        assert load(fresh).stage == "company_signing"
        assert "document.expired" in [e.type for e in events_for(overdue)]
        [notice] = [m for m in messages_to(SENDER) if m.kind == "document-expired"]
        assert load(overdue).number in notice.subject
        assert expire_overdue() == 0  # nothing left to expire
        sign(overdue, "company")  # a late signature invites nobody
        assert messages_to("maria@example.com") == []
