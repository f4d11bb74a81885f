"""Sign (once, only when complete) or decline (with a reason); the audit trail of it all."""

import threading
from io import BytesIO

import pytest

from portal.audit.service import broken_links, events_for
from portal.documents.models import Document, Field, Party
from portal.extensions import db
from portal.signing.ceremony import COOKIE_NAME
from tests.fixtures import fixture_bytes
from tests.helpers import text_of
from tests.signing.support import (
    HEADERS,
    UA,
    confirm,
    data_url,
    last_code,
    png_bytes,
    post,
    sent_document,
)


@pytest.fixture
def signing(app, admin):
    with app.app_context():
        return sent_document(admin["id"])


def _fill_everything(client, signing):
    fields = signing.fields
    url = f"{signing.url}/fields"
    post(client, f"{url}/{fields['signature']}", {"method": "draw",
                                                  "drawing": data_url(png_bytes())})
    post(client, f"{url}/{fields['initials']}", {"method": "type", "typed": "A. P."})
    post(client, f"{url}/{fields['stamp']}", {"method": "upload", "image": (
        BytesIO(fixture_bytes("transparent.png")), "stamp.png")})
    post(client, f"{url}/{fields['text']}", {"value": "Director"})
    post(client, f"{url}/{fields['number']}", {"value": "1250"})
    return post(client, f"{url}/{fields['checkbox']}", {"value": "yes"})


def _events(app, document_id, event_type=None):
    with app.app_context():
        db.session.commit()
        events = events_for(document_id)
        for event in events:
            db.session.expunge(event)
    return [e for e in events if event_type is None or e.type == event_type]


def _party(app, party_id) -> Party:
    with app.app_context():
        db.session.commit()
        party = db.session.get(Party, party_id)
        db.session.expunge(party)
        return party


def test_sign_is_refused_while_a_required_field_is_empty(app, signing):
    client = app.test_client()
    confirm(client, app, signing)
    html = text_of(client.get(signing.url, headers=HEADERS))
    assert "6 required fields left to fill." in html
    assert 'class="button primary block sign-button" disabled' in html
    html = text_of(post(client, f"{signing.url}/sign"))
    assert "Fill in every required field first: 6 left." in html
    assert _party(app, signing.party_id).status == "opened"
    assert _events(app, signing.document_id, "party.signed") == []


def test_the_sign_panel_enables_when_the_last_field_is_filled(app, signing):
    client = app.test_client()
    confirm(client, app, signing)
    html = text_of(_fill_everything(client, signing))
    assert "Everything is filled in. Sign to finish." in html
    assert "sign-button\" disabled" not in html


def test_signing_fills_date_and_requisites_records_and_invites_the_client(app, signing):
    client = app.test_client()
    confirm(client, app, signing)
    _fill_everything(client, signing)
    response = post(client, f"{signing.url}/sign")
    assert response.status_code == 204 and response.headers["HX-Redirect"] == signing.url
    page = client.get(signing.url, headers=HEADERS)
    assert page.status_code == 200 and "You have signed" in text_of(page)

    party = _party(app, signing.party_id)
    assert party.status == "signed" and party.signed_at is not None
    assert (party.ip, party.user_agent) == ("127.0.0.1", UA)
    with app.app_context():
        date = db.session.get(Field, signing.fields["date"])
        requisites = db.session.get(Field, signing.fields["requisites"])
        assert date.value and date.filled_at is not None
        assert requisites.value.splitlines()[:2] == ["Anna Petrova, Director", "Signet Demo LLC"]
        assert "Tax ID: 7707083893" in requisites.value
        assert db.session.get(Document, signing.document_id).stage == "client_signing"
        assert db.session.get(Party, signing.client_id).status == "sent"  # advance() invited
    [signed] = _events(app, signing.document_id, "party.signed")
    assert (signed.ip, signed.user_agent, signed.actor_id) == ("127.0.0.1", UA, party.id)


def test_signing_twice_signs_once(app, signing):
    client = app.test_client()
    confirm(client, app, signing)
    _fill_everything(client, signing)
    first = post(client, f"{signing.url}/sign")
    second = post(client, f"{signing.url}/sign", htmx=False, follow_redirects=True)
    assert first.status_code == 204
    assert "You have signed" in text_of(second)
    assert len(_events(app, signing.document_id, "party.signed")) == 1
    assert len(_events(app, signing.document_id, "party.invited")) == 2  # ours, then the client


@pytest.mark.postgres
def test_two_simultaneous_sign_requests_sign_once(app, signing):
    client = app.test_client()
    confirm(client, app, signing)
    _fill_everything(client, signing)
    clients = [app.test_client() for _ in range(4)]
    ceremony = client.get_cookie(COOKIE_NAME, path=signing.url)
    for each in clients:  # the same signer in four tabs of one browser: the same cookies
        each.set_cookie("session", client.get_cookie("session").value)
        each.set_cookie(COOKIE_NAME, ceremony.value, path=signing.url)
    barrier = threading.Barrier(len(clients))
    results = []

    def sign(each):
        barrier.wait()
        results.append(post(each, f"{signing.url}/sign").status_code)

    threads = [threading.Thread(target=sign, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(status in (204, 302) for status in results)
    assert len(_events(app, signing.document_id, "party.signed")) == 1
    with app.app_context():
        assert broken_links(signing.document_id) == []


def test_decline_needs_a_reason(app, signing):
    client = app.test_client()
    confirm(client, app, signing)
    html = text_of(post(client, f"{signing.url}/decline", {"reason": "   "}))
    assert "Say why you decline: the sender will read it." in html
    assert "<details id=\"decline\" class=\"decline\" open>" in html
    assert _party(app, signing.party_id).status == "opened"


def test_a_link_without_a_confirmed_code_cannot_decline(app, signing):
    client = app.test_client()
    page = text_of(client.get(signing.url, headers=HEADERS))
    assert 'id="decline"' in page and "first confirm the code" in page
    response = post(client, f"{signing.url}/decline", {"reason": "I do not accept these terms."})
    assert "First read the document and accept the agreement." in text_of(response)
    post(client, f"{signing.url}/consent")
    response = post(client, f"{signing.url}/decline", {"reason": "I do not accept these terms."})
    assert "First confirm the code we sent you." in text_of(response)
    party = _party(app, signing.party_id)
    assert party.status != "declined" and party.declined_at is None
    with app.app_context():
        assert db.session.get(Document, signing.document_id).stage != "declined"


def test_decline_closes_the_document_and_tells_the_sender(app, signing):
    client = app.test_client()
    client.get(signing.url, headers=HEADERS)
    post(client, f"{signing.url}/consent")
    with app.app_context():
        code = last_code("director@signet.example")
    post(client, f"{signing.url}/code", {"code": code})
    response = post(client, f"{signing.url}/decline", {"reason": "The amount is wrong.\n"})
    assert response.headers["HX-Redirect"] == signing.url
    page = client.get(signing.url, headers=HEADERS)
    assert page.status_code == 410 and "You declined to sign" in text_of(page)
    party = _party(app, signing.party_id)
    assert party.status == "declined" and party.decline_reason == "The amount is wrong."
    with app.app_context():
        assert db.session.get(Document, signing.document_id).stage == "declined"
    [declined] = _events(app, signing.document_id, "party.declined")
    assert declined.details["reason"] == "The amount is wrong."
    assert (declined.ip, declined.user_agent) == ("127.0.0.1", UA)
    assert _events(app, signing.document_id, "document.decline_notified")
    # The link is closed now: nothing more can be done with it.
    assert post(client, f"{signing.url}/sign").headers["HX-Redirect"] == signing.url


def test_every_ceremony_event_is_recorded_with_address_and_browser(app, signing):
    client = app.test_client()
    client.get(signing.url, headers=HEADERS)
    post(client, f"{signing.url}/consent")
    with app.app_context():
        code = last_code("director@signet.example")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    post(client, f"{signing.url}/code", {"code": wrong})
    post(client, f"{signing.url}/code", {"code": code})
    _fill_everything(client, signing)
    post(client, f"{signing.url}/sign")
    ceremony = [e for e in _events(app, signing.document_id) if e.actor_type == "party"]
    assert {e.type for e in ceremony} == {
        "party.opened", "party.consent", "party.code_sent", "party.code_failed",
        "party.code_confirmed", "field.filled", "party.signed"}
    assert all((e.ip, e.user_agent) == ("127.0.0.1", UA) for e in ceremony)
    assert len([e for e in ceremony if e.type == "field.filled"]) == 6
    with app.app_context():
        assert broken_links(signing.document_id) == []
