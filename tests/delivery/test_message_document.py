"""A signer's message knows its document from its own row, not from the audit trail."""

from datetime import timedelta

from sqlalchemy import delete

from portal.audit.models import AuditEvent
from portal.delivery.services import document_of
from portal.documents.services.common import as_utc
from portal.extensions import db
from portal.sweep.reminders import send_due_reminders
from tests.helpers import text_of
from tests.progress.support import CLIENT_PHONE, load, messages_to, party, sent_document, sign

DIRECTOR = "director@signet.example"


def test_invitations_and_reminders_carry_their_document(app, admin):
    with app.app_context():
        document_id = sent_document(admin["id"], client_sms=True)
        sign(document_id, "company")
        client = party(load(document_id), "client")
        send_due_reminders(as_utc(client.sent_at) + timedelta(days=2, minutes=1))
        signer_messages = [m for m in messages_to(DIRECTOR) + messages_to(CLIENT_PHONE)
                           if m.kind in ("signing-invitation", "signing-reminder")]
        kinds = sorted((m.channel, m.kind) for m in signer_messages)
        assert kinds == [("email", "signing-invitation"), ("sms", "signing-invitation"),
                         ("sms", "signing-reminder")]
        assert {m.document_id for m in signer_messages} == {document_id}
        db.session.execute(delete(AuditEvent).where(AuditEvent.document_id == document_id))
        db.session.commit()
        assert {document_of(m) for m in signer_messages} == {document_id}


def test_the_outbox_links_a_code_to_its_card_without_the_trail(app, admin, admin_client):
    from tests.signing.support import agree
    from tests.signing.support import sent_document as signing_document

    with app.app_context():
        signing = signing_document(admin["id"], extra_fields=False)
    agree(app.test_client(), signing)
    with app.app_context():
        [code_id] = [m.id for m in messages_to(DIRECTOR) if m.kind == "signing_code"]
        db.session.execute(delete(AuditEvent).where(AuditEvent.type == "party.code_sent"))
        db.session.commit()
    detail = text_of(admin_client.get(f"/outbox/{code_id}"))
    assert f'href="/pipeline/documents/{signing.document_id}"' in detail
