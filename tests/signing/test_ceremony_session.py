"""The confirmed code opens a signing session in that browser only: a forwarded link must ask
for a new code before anything can be filled, signed or declined."""

from datetime import timedelta
from http.cookies import SimpleCookie

import pytest

from portal.audit.models import AuditEvent
from portal.audit.service import events_for
from portal.documents.models import Party
from portal.extensions import db
from portal.sealing.certificate import in_confirmed_session
from portal.signing import ceremony
from tests.helpers import text_of
from tests.signing.support import (
    HEADERS,
    agree,
    confirm,
    data_url,
    last_code,
    png_bytes,
    post,
    sent_document,
)

DIRECTOR = "director@signet.example"


@pytest.fixture
def signing(app, admin):
    with app.app_context():
        return sent_document(admin["id"], extra_fields=False)


def _party(app, party_id):
    with app.app_context():
        return db.session.get(Party, party_id)


def _events(app, document_id, event_type):
    with app.app_context():
        events = [e for e in events_for(document_id) if e.type == event_type]
        for event in events:
            db.session.expunge(event)
    return events


def _sign_with_drawing(client, signing):
    field_id = next(iter(signing.fields.values()))
    saved = post(client, f"{signing.url}/fields/{field_id}",
                 {"method": "draw", "drawing": data_url(png_bytes())})
    return saved, post(client, f"{signing.url}/sign")


def _session_cookie(response) -> SimpleCookie:
    cookies = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        cookies.load(header)
    return cookies


def test_confirming_the_code_hands_this_browser_a_narrow_session_cookie(app, signing):
    client = app.test_client()
    agree(client, signing)
    with app.app_context():
        code = last_code(DIRECTOR)
    response = post(client, f"{signing.url}/code", {"code": code})
    assert "Fill in your fields and sign" in text_of(response)
    [header] = [h for h in response.headers.getlist("Set-Cookie")
                if h.startswith(ceremony.COOKIE_NAME + "=")]
    morsel = _session_cookie(response)[ceremony.COOKIE_NAME]
    assert morsel["path"] == signing.url  # never sent with another link
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    assert 0 < int(morsel["max-age"]) <= 3600
    assert code not in header and signing.token not in morsel.value


def test_a_forwarded_link_asks_for_a_new_code_and_cannot_sign_or_decline(app, signing):
    owner = app.test_client()
    confirm(owner, app, signing)

    stranger = app.test_client()  # the same link in a browser without the session
    page = text_of(stranger.get(signing.url, headers=HEADERS))
    assert 'data-step="code"' in page and "Fill in your fields and sign" not in page
    assert "only in the browser where the code was confirmed" in page
    saved, signed = _sign_with_drawing(stranger, signing)
    assert "Your signing session in this browser has ended" in text_of(saved)
    assert "Your signing session in this browser has ended" in text_of(signed)
    declined = post(stranger, f"{signing.url}/decline", {"reason": "Not me."})
    assert "Your signing session in this browser has ended" in text_of(declined)
    field_id = next(iter(signing.fields.values()))
    assert stranger.get(f"{signing.url}/fields/{field_id}/image").status_code == 404
    party = _party(app, signing.party_id)
    assert party.status not in ("signed", "declined")

    # The owner's session still works, and signs.
    saved, signed = _sign_with_drawing(owner, signing)
    assert signed.headers["HX-Redirect"] == signing.url
    assert _party(app, signing.party_id).status == "signed"


def test_a_new_confirmation_elsewhere_ends_the_first_browsers_session(app, signing):
    first = app.test_client()
    confirm(first, app, signing)
    second = app.test_client()
    second.get(signing.url, headers=HEADERS)
    too_soon = post(second, f"{signing.url}/code/send")
    assert "before asking for a new code" in text_of(too_soon)  # the usual limits apply
    with app.app_context():
        party = db.session.get(Party, signing.party_id)
        party.code_sent_at = party.code_sent_at - timedelta(minutes=2)
        db.session.commit()
    sent = post(second, f"{signing.url}/code/send")
    assert "We sent you a new code." in text_of(sent)
    with app.app_context():
        code = last_code(DIRECTOR)
    assert "Fill in your fields and sign" in text_of(
        post(second, f"{signing.url}/code", {"code": code}))

    saved, _signed = _sign_with_drawing(first, signing)
    assert "Your signing session in this browser has ended" in text_of(saved)
    saved, signed = _sign_with_drawing(second, signing)
    assert signed.headers["HX-Redirect"] == signing.url
    confirmations = _events(app, signing.document_id, "party.code_confirmed")
    [signed_event] = _events(app, signing.document_id, "party.signed")
    assert len(confirmations) == 2
    assert signed_event.details["session"] == confirmations[-1].details["session"]


def test_a_forged_or_foreign_session_cookie_is_refused(app, admin, signing):
    owner = app.test_client()
    confirm(owner, app, signing)
    cookie = owner.get_cookie(ceremony.COOKIE_NAME, path=signing.url)
    assert cookie is not None

    forged = app.test_client()
    forged.set_cookie(ceremony.COOKIE_NAME, cookie.value[:-3] + "abc", path=signing.url)
    assert 'data-step="code"' in text_of(forged.get(signing.url, headers=HEADERS))

    with app.app_context():
        other = sent_document(admin["id"], extra_fields=False)
    borrowed = app.test_client()  # a valid session of another link, presented to this one
    borrowed.set_cookie(ceremony.COOKIE_NAME, cookie.value, path=other.url)
    borrowed.get(other.url, headers=HEADERS)
    post(borrowed, f"{other.url}/consent")
    assert 'data-step="code"' in text_of(borrowed.get(other.url, headers=HEADERS))


def test_an_expired_session_asks_for_a_new_code(make_app, admin):
    app = make_app(SIGNET_CEREMONY_MINUTES=0)
    with app.app_context():
        signing = sent_document(admin["id"], extra_fields=False)
    client = app.test_client()
    agree(client, signing)
    with app.app_context():
        code = last_code(DIRECTOR)
    post(client, f"{signing.url}/code", {"code": code})
    saved, signed = _sign_with_drawing(client, signing)
    assert "Your signing session in this browser has ended" in text_of(signed)
    assert _party(app, signing.party_id).status != "signed"


def _event(event_type, party_id=1, **details):
    return AuditEvent(type=event_type, actor_type="party", actor_id=party_id, details=details)


def test_the_certificate_says_so_only_when_every_act_was_in_a_confirmed_session():
    party = Party(id=1, status="signed")
    confirmed = _event("party.code_confirmed", session="aaaa")
    filled = _event("field.filled", field_id=3, session="aaaa")
    signed = _event("party.signed", session="aaaa")
    assert in_confirmed_session(party, [confirmed, filled, signed])
    # A field saved without a session (an older document) or in an unknown one: no claim.
    assert not in_confirmed_session(party, [confirmed, _event("field.filled"), signed])
    assert not in_confirmed_session(
        party, [confirmed, _event("field.filled", session="bbbb"), signed])
    # Another party's confirmation does not count for this one.
    assert not in_confirmed_session(
        party, [_event("party.code_confirmed", party_id=2, session="aaaa"), filled, signed])
    assert not in_confirmed_session(Party(id=1, status="declined"), [confirmed, filled])
