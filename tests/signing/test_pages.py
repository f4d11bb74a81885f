"""The link itself: unknown, closed, not yet your turn, first open, page images, rate limit."""

from datetime import timedelta

import pytest

from portal.audit.service import events_for
from portal.documents import services as document_services
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.models_base import utcnow
from tests.documents.support import META, user
from tests.helpers import text_of
from tests.signing.support import HEADERS, post, sent_document, set_token


def _signing(app, admin, **kwargs):
    with app.app_context():
        return sent_document(admin["id"], **kwargs)


def test_unknown_or_mangled_token_is_a_clear_404(client):
    for url in ("/s/not-a-real-token", "/s/" + "x" * 500):
        response = client.get(url, headers=HEADERS)
        assert response.status_code == 404
        assert "This link is not valid" in text_of(response)
    response = client.get("/s/not-a-real-token/pages/1.img")
    assert response.status_code == 404


def test_first_open_is_recorded_once_with_address_and_browser(app, admin):
    signing = _signing(app, admin)
    client = app.test_client()
    for _visit in range(2):
        response = client.get(signing.url, headers=HEADERS)
        assert response.status_code == 200
        assert "Read the document, then accept the agreement" in text_of(response)
    with app.app_context():
        party = db.session.get(Party, signing.party_id)
        assert party.status == "opened" and party.opened_at is not None
        opened = [e for e in events_for(signing.document_id) if e.type == "party.opened"]
        assert len(opened) == 1
        assert (opened[0].ip, opened[0].user_agent) == ("127.0.0.1", HEADERS["User-Agent"])
        assert opened[0].actor_type == "party" and opened[0].actor_id == party.id


def test_active_page_shows_pages_with_own_fields_highlighted(app, admin):
    signing = _signing(app, admin)
    client = app.test_client()
    html = text_of(client.get(signing.url, headers=HEADERS))
    assert f"/s/{signing.token}/pages/1.img" in html
    assert html.count('<rect class="signing-mark') == len(signing.fields)
    image = client.get(f"{signing.url}/pages/1.img")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert client.get(f"{signing.url}/pages/99.img").status_code == 404
    # The built-in agreement, in the document's language.
    assert "sign this document electronically" in html
    assert "no-store" in client.get(signing.url).headers["Cache-Control"]


def test_not_your_turn_shows_who_signs_first_and_no_document(app, admin):
    signing = _signing(app, admin)
    with app.app_context():
        client_token = set_token(signing.client_id)
    client = app.test_client()
    response = client.get(f"/s/{client_token}", headers=HEADERS)
    html = text_of(response)
    assert response.status_code == 409
    assert "Not yet your turn" in html and "Anna Petrova (Signet Demo LLC)" in html
    assert ".img" not in html and "signing-mark" not in html
    assert client.get(f"/s/{client_token}/pages/1.img").status_code == 404
    refused = post(client, f"/s/{client_token}/consent")
    assert refused.headers.get("HX-Redirect") == f"/s/{client_token}"
    with app.app_context():
        party = db.session.get(Party, signing.client_id)
        assert party.consent_at is None and party.opened_at is None


def test_an_invited_party_of_a_later_group_waits_too(app, admin):
    """Status "sent" is not enough: an earlier order group must have signed."""
    signing = _signing(app, admin)
    with app.app_context():
        client_token = set_token(signing.client_id, status="sent")
    response = app.test_client().get(f"/s/{client_token}", headers=HEADERS)
    assert response.status_code == 409 and "Not yet your turn" in text_of(response)


def _close(app, signing, **changes):
    with app.app_context():
        document = db.session.get(Document, signing.document_id)
        for key, value in changes.items():
            setattr(document, key, value)
        db.session.commit()


@pytest.mark.parametrize(("changes", "title"), [
    ({"stage": "completed"}, "The document is signed by everyone"),
    ({"stage": "declined"}, "The document was declined"),
    ({"stage": "expired"}, "The signing deadline has passed"),
    ({"deadline_at": "past"}, "The signing deadline has passed"),
])
def test_closed_documents_answer_410_with_a_page_saying_why(app, admin, changes, title):
    signing = _signing(app, admin)
    if changes.get("deadline_at") == "past":
        changes = {"deadline_at": utcnow() - timedelta(minutes=1)}
    _close(app, signing, **changes)
    client = app.test_client()
    response = client.get(signing.url, headers=HEADERS)
    assert response.status_code == 410
    assert title in text_of(response) and ".img" not in text_of(response)
    assert client.get(f"{signing.url}/pages/1.img").status_code == 404


def test_stopped_document_says_so(app, admin):
    signing = _signing(app, admin)
    with app.app_context():
        document_services.stop(user(admin["id"]), META, signing.document_id, "Wrong amount")
    response = app.test_client().get(signing.url, headers=HEADERS)
    assert response.status_code == 410
    assert "The document was stopped" in text_of(response)


def test_a_party_that_signed_sees_that_it_signed(app, admin):
    signing = _signing(app, admin)
    with app.app_context():
        party = db.session.get(Party, signing.party_id)
        party.status, party.signed_at = "signed", utcnow()
        db.session.commit()
    response = app.test_client().get(signing.url, headers=HEADERS)
    assert response.status_code == 200
    assert "You have signed" in text_of(response)
    assert "final document will be emailed" in text_of(response)


def test_the_public_page_is_rate_limited_per_address(make_app, admin):
    app = make_app(SIGNET_SIGNING_LIMIT="3 per minute")
    signing = _signing(app, admin)
    client = app.test_client()
    statuses = [client.get(signing.url, headers=HEADERS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert "Too many attempts" in text_of(client.get(signing.url, headers=HEADERS))


def test_steps_after_reading_need_the_consent_first(app, admin):
    signing = _signing(app, admin)
    client = app.test_client()
    client.get(signing.url, headers=HEADERS)
    steps = ((f"{signing.url}/code/send", {}), (f"{signing.url}/code", {"code": "123456"}))
    for url, data in steps:
        html = text_of(post(client, url, data))
        assert "First read the document and accept the agreement." in html
    field_id = signing.fields["text"]
    response = post(client, f"{signing.url}/fields/{field_id}", {"value": "Director"})
    assert "Read the document, then accept the agreement" in text_of(response)
    html = text_of(post(client, f"{signing.url}/sign"))
    assert "First read the document and accept the agreement." in html
    with app.app_context():
        party = db.session.get(Party, signing.party_id)
        assert party.status == "opened" and party.codes_sent == 0
        assert db.session.get(Document, signing.document_id).stage == "company_signing"
        assert not {e.type for e in events_for(signing.document_id)} & {
            "party.code_sent", "field.filled", "party.signed"}
