"""The document page opens with its status: whose turn, since when, "Remind now"; stopping is a
quieter action lower down; final stages say how the signing ended."""

from datetime import timedelta

from portal.auth.models import Role, RoleGrant
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from tests.factories import make_user
from tests.helpers import csrf_token, post_form, sign_in, text_of
from tests.pipeline.support import declined, stopped
from tests.progress.support import load, messages_to, party, sent_document

HTMX = {"HX-Request": "true"}
SIGNER = "director@signet.example"


def status_of(page: str) -> str:
    return page.split('id="document-status"', 1)[1].split("</section>", 1)[0]


def reminders() -> int:
    return [message.kind for message in messages_to(SIGNER)].count("signing-reminder")


def test_a_sent_document_leads_with_whose_turn_and_hides_the_stop_behind_a_button(
        app, admin, admin_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
    page = text_of(admin_client.get(f"/documents/{document_id}"))
    status = status_of(page)
    assert "Company signing" in status
    assert "Anna Petrova" in status and f"Email: {SIGNER}" in status and "Invited " in status
    assert "Maria Silva" not in status  # not her turn yet
    assert f'/documents/{document_id}/parties/' in status and "Remind now" in status
    # Stopping comes after the status, parties and fields, folded in a <details>.
    assert page.index('id="document-status"') < page.index('id="parties-summary"') \
        < page.index('id="stop-form"')
    assert '<details class="control stop-signing" id="stop-form" >' in page
    assert "Deadline within a day" not in status and "badge warn" not in status
    # What the board warns of, the page says too: stuck in the stage, the deadline close.
    with app.app_context():
        db.session.execute(db.update(Document).where(Document.id == document_id).values(
            stage_changed_at=utcnow() - timedelta(days=5),
            deadline_at=utcnow() + timedelta(hours=3)))
        db.session.commit()
    status = status_of(text_of(admin_client.get(f"/documents/{document_id}")))
    assert "Deadline within a day" in status
    assert '<span class="badge warn">5 days</span>' in status


def test_remind_from_the_page_with_and_without_htmx_then_too_soon(app, admin, admin_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
        party_id = party(load(document_id), "company").id
    url = f"/documents/{document_id}/parties/{party_id}/remind"
    response = post_form(admin_client, url)
    assert response.status_code == 303 and response.location.endswith(f"/documents/{document_id}")
    page = text_of(admin_client.get(response.location))
    assert "Anna Petrova was reminded." in page
    assert "Reminded within the hour; again after" in status_of(page)
    with app.app_context():
        assert reminders() == 1
    again = post_form(admin_client, url, headers=HTMX)
    fragment = text_of(again)
    assert again.status_code == 200 and "<html" not in fragment
    assert 'id="document-status"' in fragment and "flash-warning" in fragment
    assert "was reminded less than an hour ago" in fragment
    with app.app_context():
        assert reminders() == 1
    # Without htmx the refusal comes back as a flash on the page.
    page = text_of(admin_client.get(post_form(admin_client, url).location))
    assert "less than an hour ago" in page


def test_remind_needs_the_permission_and_csrf(app, admin, employee_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
        party_id = party(load(document_id), "company").id
        reader = Role(name="Reader")
        reader.grants = [RoleGrant(section="documents", action="view", scope="all")]
        watcher = make_user(email="watch@example.com", name="Wendy Watcher")
        watcher.roles = [reader]
        db.session.commit()
    url = f"/documents/{document_id}/parties/{party_id}/remind"
    watching = app.test_client()
    sign_in(watching, "watch@example.com")
    page = text_of(watching.get(f"/documents/{document_id}"))
    assert "Anna Petrova" in status_of(page) and "Remind now" not in page
    assert watching.post(url, data={"csrf_token": csrf_token(watching)}).status_code == 403
    # Someone who may not even see the document learns nothing of it.
    assert employee_client.post(url, data={"csrf_token": csrf_token(employee_client)}) \
        .status_code == 404
    other = app.test_client()
    sign_in(other, admin["email"])
    assert other.post(url).status_code == 400  # no CSRF token
    with app.app_context():
        assert reminders() == 0


def test_final_stages_say_how_the_signing_ended(app, admin, admin_client):
    with app.app_context():
        stopped_id = stopped(admin["id"])
        declined_id = declined(admin["id"])
        completed_id = sent_document(admin["id"])
        db.session.execute(db.update(Document).where(Document.id == completed_id).values(
            stage="completed", completed_at=utcnow(),
            final_sha256=load(completed_id).source_sha256))
        db.session.commit()
    stopped_status = status_of(text_of(admin_client.get(f"/documents/{stopped_id}")))
    assert "The signing was stopped on" in stopped_status and "Wrong price" in stopped_status
    assert "Remind now" not in stopped_status
    declined_status = status_of(text_of(admin_client.get(f"/documents/{declined_id}")))
    assert "Anna Petrova declined to sign on" in declined_status
    completed_page = text_of(admin_client.get(f"/documents/{completed_id}"))
    completed_status = status_of(completed_page)
    assert "Everyone signed on" in completed_status
    assert f"/documents/{completed_id}/final.pdf" in completed_status
    assert 'id="stop-form"' not in completed_page
