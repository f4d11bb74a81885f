"""Audit events chain to their predecessor; an edited event is detected."""

from portal.audit.models import AuditEvent
from portal.audit.service import RequestMeta, broken_links, events_for, record
from portal.auth.models import User
from portal.extensions import db
from tests.audit.support import sample_details
from tests.factories import make_document_row


def test_events_chain_and_an_edit_is_detected(app, admin):
    with app.app_context():
        document_id = make_document_row(admin["id"]).id
        user = db.session.get(User, admin["id"])
        meta = RequestMeta(ip="198.51.100.7", user_agent="Firefox")
        record("document.created", document_id, user, meta,
               **sample_details("document.created", title="Act"))
        record("document.sent", document_id, user, meta, **sample_details("document.sent"))
        db.session.commit()
        first, second = events_for(document_id)
        assert first.prev_hash == "" and second.prev_hash == first.hash
        assert first.actor_label == "Ada Admin <admin@example.com>"
        assert (first.ip, first.user_agent) == ("198.51.100.7", "Firefox")
        assert broken_links(document_id) == []

        db.session.execute(
            db.update(AuditEvent).where(AuditEvent.id == first.id).values(ip="203.0.113.1")
        )
        db.session.commit()
        db.session.expire_all()
        assert broken_links(document_id) == [first.id]
