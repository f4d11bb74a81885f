"""`flask signet audit-check` reports edited audit events and fails."""

from portal.audit.models import AuditEvent
from portal.audit.service import RequestMeta, record
from portal.auth.models import User
from portal.extensions import db
from tests.audit.support import sample_details
from tests.factories import make_company, make_document_row


def _document_with_events(admin, number="DOC-1", company=None) -> tuple[int, list[int]]:
    document = make_document_row(admin["id"], company=company, number=number)
    user = db.session.get(User, admin["id"])
    meta = RequestMeta(ip="198.51.100.7", user_agent="Firefox")
    events = [
        record("document.created", document.id, user, meta,
               **sample_details("document.created", title="Act")),
        record("document.sent", document.id, user, meta, **sample_details("document.sent")),
        record("party.signed", document.id, None, meta, **sample_details("party.signed")),
    ]
    db.session.commit()
    return document.id, [event.id for event in events]


def _audit_check(app, *args):
    return app.test_cli_runner().invoke(args=["signet", "audit-check", *args])


def test_intact_chains_pass(app, admin):
    with app.app_context():
        company = make_company()
        _document_with_events(admin, "DOC-1", company)
        _document_with_events(admin, "DOC-2", company)

    result = _audit_check(app)

    assert result.exit_code == 0, result.output
    assert "Checked 2 documents, 6 events: all chains intact." in result.output


def test_an_edited_event_fails_the_check_and_is_named(app, admin):
    with app.app_context():
        company = make_company()
        intact_id, _ = _document_with_events(admin, "DOC-OK", company)
        document_id, event_ids = _document_with_events(admin, "DOC-EDITED", company)
        db.session.execute(
            db.update(AuditEvent).where(AuditEvent.id == event_ids[1]).values(ip="203.0.113.1")
        )
        db.session.commit()

    result = _audit_check(app)

    assert result.exit_code == 1, result.output
    assert f"Document {document_id} (DOC-EDITED): broken events {event_ids[1]}" in result.output
    assert "DOC-OK" not in result.output
    assert "1 document(s) with a broken chain" in result.output

    only_intact = _audit_check(app, "--document", str(intact_id))
    assert only_intact.exit_code == 0, only_intact.output
    assert "Checked 1 documents, 3 events: all chains intact." in only_intact.output


def test_a_deleted_event_breaks_the_link_of_the_next(app, admin):
    with app.app_context():
        document_id, event_ids = _document_with_events(admin)
        db.session.execute(db.delete(AuditEvent).where(AuditEvent.id == event_ids[1]))
        db.session.commit()

    result = _audit_check(app, "--document", str(document_id))

    assert result.exit_code == 1
    assert f"broken events {event_ids[2]}" in result.output


def test_an_unknown_document_is_a_usage_error(app):
    result = _audit_check(app, "--document", "999999")

    assert result.exit_code == 2
    assert "no document with id 999999" in result.output
