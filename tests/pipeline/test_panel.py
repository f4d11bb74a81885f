"""The side panel and the manager's controls on it."""

import re
from datetime import timedelta

from portal.audit.service import events_for
from portal.delivery.redaction import as_sent
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.models_base import utcnow
from tests.helpers import csrf_token, post_form, text_of
from tests.progress.support import load, messages_to, party, sent_document

HTMX = {"HX-Request": "true"}


def current_signer(app, document_id):
    with app.app_context():
        signer = party(load(document_id), "company")
        return signer.id, signer.token_hash


def test_panel_is_a_fragment_for_htmx_and_a_page_otherwise(app, admin, admin_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
    fragment = text_of(admin_client.get(f"/pipeline/documents/{document_id}", headers=HTMX))
    assert '<div id="panel"' in fragment and "<html" not in fragment
    assert "Anna Petrova" in fragment and "Maria Silva" in fragment
    assert "Sent for signing" in fragment and "Invitation sent" in fragment  # the history
    assert f"/documents/{document_id}/source.pdf" in fragment
    assert "final.pdf" not in fragment  # nothing signed yet
    assert "Remind now" in fragment
    page = text_of(admin_client.get(f"/pipeline/documents/{document_id}"))
    assert "<html" in page and '<div id="panel"' in page
    assert admin_client.get("/pipeline/documents/999999").status_code == 404


def test_signed_pdf_link_needs_the_vault(app, admin, admin_client, employee, employee_client):
    with app.app_context():
        document_id = sent_document(employee["id"])
        db.session.execute(db.update(Document).where(Document.id == document_id).values(
            stage="completed", final_sha256=load(document_id).source_sha256))
        db.session.commit()
    assert "final.pdf" in text_of(admin_client.get(f"/pipeline/documents/{document_id}"))
    from portal.auth.permissions import scope_of

    with app.test_request_context():
        from portal.auth.models import User

        vault = scope_of(db.session.get(User, employee["id"]), "view", "vault")
    shown = "final.pdf" in text_of(employee_client.get(f"/pipeline/documents/{document_id}"))
    assert shown == (vault != "none")


def test_remind_once_an_hour_with_the_same_working_link(app, admin, admin_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
    party_id, old_hash = current_signer(app, document_id)
    url = f"/pipeline/documents/{document_id}/parties/{party_id}/remind"
    response = post_form(admin_client, url, headers=HTMX)
    assert response.status_code == 200
    assert "Anna Petrova was reminded." in text_of(response)
    assert "pipeline-changed" in response.headers["HX-Trigger"]
    with app.app_context():
        # The signer may have the page open: the reminder repeats the link that works.
        assert party_id and current_signer(app, document_id)[1] == old_hash
        sent = messages_to("director@signet.example")
        assert [message.kind for message in sent][-1] == "signing-reminder"
        # The same text as the sweep's reminders: it says it is one.
        assert sent[-1].subject.startswith("Reminder: please sign")
        link = re.search(r"/s/[A-Za-z0-9_\-]+", as_sent(sent[-1]).body_text).group(0)
        assert link in as_sent(sent[0]).body_text
        assert "party.reminded" in [event.type for event in events_for(document_id)]
    again = post_form(admin_client, url, headers=HTMX)
    assert "less than an hour ago" in text_of(again)
    with app.app_context():
        assert [m.kind for m in messages_to("director@signet.example")].count(
            "signing-reminder") == 1
        # An hour later it is allowed again.
        db.session.execute(db.update(Party).where(Party.id == party_id)
                           .values(last_reminded_at=utcnow() - timedelta(minutes=61)))
        db.session.commit()
    assert "was reminded." in text_of(post_form(admin_client, url, headers=HTMX))


def test_remind_refuses_a_party_that_is_not_up(app, admin, admin_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
        client_id = party(load(document_id), "client").id
    response = post_form(admin_client,
                         f"/pipeline/documents/{document_id}/parties/{client_id}/remind",
                         headers=HTMX)
    assert "does not wait for that signer" in text_of(response)
    with app.app_context():
        assert messages_to("maria@example.com") == []


def test_controls_need_csrf_and_permission(app, admin, employee_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
    party_id, _hash = current_signer(app, document_id)
    url = f"/pipeline/documents/{document_id}/parties/{party_id}/remind"
    assert employee_client.post(url, data={"csrf_token": csrf_token(employee_client)}) \
        .status_code == 404
    from tests.helpers import sign_in

    other = app.test_client()
    sign_in(other, "admin@example.com")
    assert other.post(url).status_code == 400  # no CSRF token
    with app.app_context():
        assert messages_to("director@signet.example")[-1].kind == "signing-invitation"


def test_change_the_deadline(app, admin, admin_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
    url = f"/pipeline/documents/{document_id}/deadline"
    past = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused = post_form(admin_client, url, {"deadline-deadline": past}, headers=HTMX)
    assert refused.status_code == 200
    assert "at least 5 minutes from now" in text_of(refused)
    assert post_form(admin_client, url, {"deadline-deadline": "soon"}, headers=HTMX) \
        .status_code == 200
    future = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    done = post_form(admin_client, url, {"deadline-deadline": future.strftime("%Y-%m-%dT%H:%M")},
                     headers=HTMX)
    assert "The deadline was changed." in text_of(done)
    with app.app_context():
        deadline = load(document_id).deadline_at
        assert deadline.replace(tzinfo=None) == future.replace(tzinfo=None)
    page = post_form(admin_client, url, {"deadline-deadline": past})
    assert page.status_code == 422 and "<html" in text_of(page)


def test_resend_to_a_corrected_email_restarts_the_ceremony(app, admin, admin_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
        signer = party(load(document_id), "company")
        signer.consent_at = signer.code_confirmed_at = utcnow()
        db.session.commit()
    party_id, old_hash = current_signer(app, document_id)
    url = f"/pipeline/documents/{document_id}/parties/{party_id}/resend"
    prefix = f"resend-{party_id}-"
    bad = post_form(admin_client, url, {prefix + "channel": "email",
                                        prefix + "contact": "not an address"}, headers=HTMX)
    assert "Enter a valid email address" in text_of(bad)
    assert current_signer(app, document_id)[1] == old_hash
    done = post_form(admin_client, url, {prefix + "channel": "email",
                                         prefix + "contact": " Anna.New@Example.com "},
                     headers=HTMX)
    assert "previous link no longer works" in text_of(done)
    with app.app_context():
        signer = db.session.get(Party, party_id)
        assert signer.email == "anna.new@example.com"
        assert signer.token_hash != old_hash
        assert signer.consent_at is None and signer.code_confirmed_at is None
        assert messages_to("anna.new@example.com")[0].kind == "signing-invitation"
        assert "party.invitation_resent" in [e.type for e in events_for(document_id)]


def test_resend_by_sms_checks_the_number(app, admin, admin_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
    party_id, _hash = current_signer(app, document_id)
    url = f"/pipeline/documents/{document_id}/parties/{party_id}/resend"
    prefix = f"resend-{party_id}-"
    bad = post_form(admin_client, url, {prefix + "channel": "sms", prefix + "contact": "12"},
                    headers=HTMX)
    assert "international format" in text_of(bad)
    post_form(admin_client, url, {prefix + "channel": "sms",
                                  prefix + "contact": "+351 912 345 679"}, headers=HTMX)
    with app.app_context():
        signer = db.session.get(Party, party_id)
        assert (signer.channel, signer.phone) == ("sms", "+351912345679")
        assert messages_to("+351912345679")


def test_stop_with_a_reason(app, admin, admin_client):
    with app.app_context():
        document_id = sent_document(admin["id"])
    url = f"/pipeline/documents/{document_id}/stop"
    empty = post_form(admin_client, url, {"stop-reason": "  "}, headers=HTMX)
    assert "Say why the document is stopped." in text_of(empty)
    done = post_form(admin_client, url, {"stop-reason": "Wrong client"}, headers=HTMX)
    assert "The document was stopped." in text_of(done)
    with app.app_context():
        assert load(document_id).stage == "stopped"
    again = post_form(admin_client, url, {"stop-reason": "Again"}, headers=HTMX)
    assert "already stopped" in text_of(again)


def test_the_panel_hands_the_document_over(app, admin, admin_client, employee):
    with app.app_context():
        document_id = sent_document(admin["id"])
    panel = text_of(admin_client.get(f"/pipeline/documents/{document_id}", headers=HTMX))
    assert f'action="/documents/{document_id}/responsible"' in panel
    assert "Emil Employee" in panel  # offered as the new responsible

    done = post_form(admin_client, f"/documents/{document_id}/responsible",
                     {"responsible_id": str(employee["id"])}, follow_redirects=True)

    assert "Emil Employee is now responsible for this document." in text_of(done)
    with app.app_context():
        assert load(document_id).responsible_id == employee["id"]
