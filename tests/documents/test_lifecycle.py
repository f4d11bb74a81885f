"""Send, stop, delete, deadline and details: the state rules and their messages."""

import threading
from datetime import timedelta

import pytest

from portal.audit.service import events_for
from portal.documents import services
from portal.documents.errors import AlreadySent, DocumentLocked, DocumentRefused
from portal.documents.models import Document
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.storage import path_for
from tests.documents.support import (
    META,
    event_types,
    party_dicts,
    ready_draft,
    signature_for,
    upload_draft,
    user,
)
from tests.factories import make_user


def test_send_moves_to_company_signing_and_records_the_source_hash(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        sent = services.send(user(admin["id"]), META, document.id)
        assert sent.stage == "company_signing" and sent.sent_at is not None
        assert sent.stage_changed_at is not None
        # The invitation of the first signer follows the send in the trail.
        event = next(e for e in events_for(document.id) if e.type == "document.sent")
        assert event.details["source_sha256"] == document.source_sha256
        assert (event.ip, event.user_agent) == (META.ip, META.user_agent)


def test_with_an_approver_the_document_goes_to_approval_first(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        approver = {"role": "approver", "name": "Boris", "email": "boris@example.com"}
        services.set_parties(user(admin["id"]), META, document.id,
                             [*party_dicts(document), approver])
        assert services.send(user(admin["id"]), META, document.id).stage == "approval"


def test_send_refuses_a_party_without_a_signature_field(app, admin):
    with app.app_context():
        document = upload_draft(admin["id"])
        company = document.parties_with_role("company")[0]
        services.set_fields(user(admin["id"]), META, document.id, [signature_for(company)])
        with pytest.raises(services.SendRefused) as refused:
            services.send(user(admin["id"]), META, document.id)
        assert refused.value.problems == ["Place a signature field for Maria Silva."]
        assert db.session.get(Document, document.id).stage == "draft"
        assert "document.sent" not in event_types(document.id)


def test_send_refuses_an_unreachable_party(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        # A company record without the signer's contacts gives an unreachable default.
        db.session.execute(db.update(type(document.parties[0])).where(
            type(document.parties[0]).id == document.parties[0].id).values(email=""))
        db.session.commit()
        with pytest.raises(services.SendRefused) as refused:
            services.send(user(admin["id"]), META, document.id)
        assert refused.value.problems == ["Anna Petrova (Signet Demo LLC) has no email address."]


def test_send_refuses_a_missing_pdf_and_a_passed_deadline(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        path_for(document.source_sha256).unlink()
        document.deadline_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        with pytest.raises(services.SendRefused) as refused:
            services.send(user(admin["id"]), META, document.id)
        assert len(refused.value.problems) == 2
        assert "missing" in refused.value.problems[0]
        assert "deadline" in refused.value.problems[1]


def test_a_second_send_says_already_sent_and_nothing_happens_twice(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        services.send(user(admin["id"]), META, document.id)
        with pytest.raises(AlreadySent) as refused:
            services.send(user(admin["id"]), META, document.id)
        assert "already sent" in refused.value.message
        assert event_types(document.id).count("document.sent") == 1


@pytest.mark.postgres
def test_two_simultaneous_sends_send_once(app, admin):
    with app.app_context():
        document_id = ready_draft(admin["id"]).id
    start, outcomes = threading.Barrier(2), []

    def click():
        with app.app_context():
            try:
                start.wait()
                services.send(user(admin["id"]), META, document_id)
                outcomes.append("sent")
            except AlreadySent:
                outcomes.append("already sent")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(outcomes) == ["already sent", "sent"]
    with app.app_context():
        assert event_types(document_id).count("document.sent") == 1


def test_nothing_of_a_sent_document_can_be_edited(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        actor = user(admin["id"])
        services.send(actor, META, document.id)
        field = document.fields[0]
        edits = [
            lambda: services.set_fields(actor, META, document.id, []),
            lambda: services.add_field(actor, META, document.id,
                                       signature_for(document.parties[0])),
            lambda: services.update_field(actor, META, document.id, field.id, {"x": 0.2}),
            lambda: services.delete_field(actor, META, document.id, field.id),
            lambda: services.set_parties(actor, META, document.id, party_dicts(document)),
            lambda: services.update_draft(actor, META, document.id, title="New"),
        ]
        for edit in edits:
            with pytest.raises(DocumentLocked) as refused:
                edit()
            assert "can no longer be edited" in refused.value.message
        with pytest.raises(DomainError):
            services.delete_draft(actor, META, document.id)
        assert db.session.get(Document, document.id).title == "Act of completed work"


def test_stop_needs_a_reason_and_an_open_document(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        actor = user(admin["id"])
        with pytest.raises(DomainError) as refused:
            services.stop(actor, META, document.id, "Client asked")
        assert "out for signing" in refused.value.message  # still a draft
        services.send(actor, META, document.id)
        with pytest.raises(DocumentRefused) as refused:
            services.stop(actor, META, document.id, "   ")
        assert "reason" in refused.value.errors
        stopped = services.stop(actor, META, document.id, "The client changed the terms")
        assert stopped.stage == "stopped" and stopped.stopped_at is not None
        assert stopped.stop_reason == "The client changed the terms"
        event = events_for(document.id)[-1]
        assert (event.type, event.details["reason"], event.details["previous_stage"]) == (
            "document.stopped", "The client changed the terms", "company_signing")
        with pytest.raises(DomainError) as refused:
            services.stop(actor, META, document.id, "again")
        assert "already stopped" in refused.value.message


def test_a_draft_can_be_deleted_and_a_note_remains(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        number = document.number
        services.delete_draft(user(admin["id"]), META, document.id)
        assert db.session.get(Document, document.id) is None
        from portal.audit.models import AuditEvent

        note = db.session.execute(db.select(AuditEvent)).scalar_one()
        assert (note.type, note.document_id, note.details["number"]) == (
            "document.draft_deleted", None, number)


def test_deadline_at_least_five_minutes_ahead(app, admin):
    with app.app_context():
        document = upload_draft(admin["id"])
        actor = user(admin["id"])
        with pytest.raises(DocumentRefused) as refused:
            services.set_deadline(actor, META, document.id, utcnow() + timedelta(minutes=4))
        assert "5 minutes" in refused.value.errors["deadline"]
        wanted = utcnow() + timedelta(days=2)
        changed = services.set_deadline(actor, META, document.id, wanted)
        assert abs(changed.deadline_at.replace(tzinfo=None) - wanted.replace(tzinfo=None)) \
            < timedelta(seconds=1)
        assert event_types(document.id)[-1] == "document.deadline_changed"


def test_update_draft_changes_details_and_records_what_changed(app, admin):
    with app.app_context():
        colleague = make_user(email="colleague@example.com", name="Colleague")
        document = upload_draft(admin["id"])
        updated = services.update_draft(user(admin["id"]), META, document.id,
                                        title="  Act   No. 7 ", responsible_id=colleague.id,
                                        language="pt")
        assert (updated.title, updated.responsible_id, updated.language) == (
            "Act No. 7", colleague.id, "pt")
        assert events_for(document.id)[-1].details["changes"]["title"] == "Act No. 7"
        with pytest.raises(DocumentRefused) as refused:
            services.update_draft(user(admin["id"]), META, document.id, title="",
                                  language="xx", responsible_id=424242)
        assert set(refused.value.errors) == {"title", "language", "responsible_id"}
