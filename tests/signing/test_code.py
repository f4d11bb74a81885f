"""Agreement and one-time code: consent first, hashed codes, attempts, expiry, resend limits."""

import json
import re
import time
from datetime import timedelta

import pytest

from portal.audit.service import events_for
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.documents.models import Party
from portal.extensions import db
from tests.helpers import text_of
from tests.signing.support import HEADERS, UA, agree, last_code, post, sent_document

DIRECTOR = "director@signet.example"


@pytest.fixture
def signing(app, admin):
    with app.app_context():
        return sent_document(admin["id"], extra_fields=False)


def _party(app, signing) -> Party:
    with app.app_context():
        party = db.session.get(Party, signing.party_id)
        db.session.expunge(party)
        return party


def _shift(app, signing, **moments):
    """Move the party's code times into the past (the clock cannot be waited out in a test)."""
    with app.app_context():
        party = db.session.get(Party, signing.party_id)
        for key, delta in moments.items():
            setattr(party, key, getattr(party, key) - delta)
        db.session.commit()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_accepting_records_consent_and_sends_a_hashed_code(app, signing):
    client = app.test_client()
    html = text_of(agree(client, signing))
    assert "Enter the code we sent you" in html and "d***r@signet.example" in html
    with app.app_context():
        code = last_code(DIRECTOR)
        party = db.session.get(Party, signing.party_id)
        assert party.consent_at is not None and party.codes_sent == 1
        assert party.code_hash and code not in party.code_hash
        message = db.session.query(Message).filter_by(kind="signing_code").one()
        assert as_sent(message).subject == f"Your signing code: {code}"
        assert code not in message.subject  # stored with the code sealed apart
        consent = [e for e in events_for(signing.document_id) if e.type == "party.consent"]
        assert len(consent) == 1 and len(consent[0].details["agreement_sha256"]) == 64
    # Agreeing again (a second tab) neither records nor sends twice.
    post(client, f"{signing.url}/consent")
    with app.app_context():
        assert db.session.query(Message).filter_by(kind="signing_code").count() == 1


def test_the_right_code_confirms(app, signing):
    client = app.test_client()
    agree(client, signing)
    with app.app_context():
        code = last_code(DIRECTOR)
    response = post(client, f"{signing.url}/code", {"code": f" {code[:3]} {code[3:]} "})
    assert "Fill in your fields and sign" in text_of(response)
    party = _party(app, signing)
    assert party.code_confirmed_at is not None and party.code_hash is None
    with app.app_context():
        types = [e.type for e in events_for(signing.document_id)]
        assert types.count("party.code_confirmed") == 1


def test_wrong_codes_count_down_and_the_fifth_locks_the_code(app, signing):
    client = app.test_client()
    agree(client, signing)
    with app.app_context():
        code = last_code(DIRECTOR)
    messages = [text_of(post(client, f"{signing.url}/code", {"code": _wrong(code)}))
                for _attempt in range(5)]
    for left, html in zip((4, 3, 2, 1), messages, strict=False):
        assert f"Wrong code. {left} attempts left." in html
    assert "that was the last attempt. Ask for a new code." in messages[4]
    html = text_of(post(client, f"{signing.url}/code", {"code": code}))
    assert "Too many wrong codes. Ask for a new code." in html
    assert _party(app, signing).code_confirmed_at is None
    with app.app_context():
        failed = [e for e in events_for(signing.document_id) if e.type == "party.code_failed"]
        assert [e.details["attempts_left"] for e in failed] == [4, 3, 2, 1, 0]


def test_malformed_code_is_refused_without_using_an_attempt(app, signing):
    client = app.test_client()
    agree(client, signing)
    html = text_of(post(client, f"{signing.url}/code", {"code": "12ab"}))
    assert "Enter the 6 digits from the message." in html
    assert _party(app, signing).code_attempts == 0


def test_an_expired_code_is_refused(app, signing):
    client = app.test_client()
    agree(client, signing)
    with app.app_context():
        code = last_code(DIRECTOR)
    _shift(app, signing, code_expires_at=timedelta(minutes=6))
    html = text_of(post(client, f"{signing.url}/code", {"code": code}))
    assert "This code has expired. Ask for a new code." in html
    assert _party(app, signing).code_confirmed_at is None
    # A reload says so too, before anything is typed.
    assert "This code has expired" in text_of(client.get(signing.url, headers=HEADERS))


def test_resend_waits_a_minute_and_allows_five_an_hour(app, signing):
    client = app.test_client()
    agree(client, signing)
    html = text_of(post(client, f"{signing.url}/code/send"))
    assert re.search(r"Wait (59|60) seconds before asking for a new code\.", html)
    for _resend in range(4):
        _shift(app, signing, code_sent_at=timedelta(seconds=61))
        html = text_of(post(client, f"{signing.url}/code/send"))
        assert "We sent you a new code." in html
    _shift(app, signing, code_sent_at=timedelta(seconds=61))
    html = text_of(post(client, f"{signing.url}/code/send"))
    assert re.search(r"Wait (59|60) minutes before asking for a new one\.", html)
    assert _party(app, signing).codes_sent == 5


def test_a_new_code_replaces_the_old_one_and_restores_attempts(app, signing):
    client = app.test_client()
    agree(client, signing)
    with app.app_context():
        old = last_code(DIRECTOR)
    for _attempt in range(5):
        post(client, f"{signing.url}/code", {"code": _wrong(old)})
    _shift(app, signing, code_sent_at=timedelta(seconds=61))
    post(client, f"{signing.url}/code/send")
    with app.app_context():
        new = last_code(DIRECTOR)
    if new != old:
        assert "Wrong code" in text_of(post(client, f"{signing.url}/code", {"code": old}))
    response = post(client, f"{signing.url}/code", {"code": new})
    assert "Fill in your fields and sign" in text_of(response)


def test_the_code_arrives_by_email_at_the_smtp_server(make_app, admin, mailbox, smtp_server):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    with app.app_context():
        signing = sent_document(admin["id"], extra_fields=False)
    client = app.test_client()
    agree(client, signing)
    deadline = time.monotonic() + 5
    mails = []
    while not mails and time.monotonic() < deadline:
        mails = [m for m in mailbox.to(DIRECTOR) if "signing code" in m["Subject"]]
        time.sleep(0.02)
    assert mails, "the code mail did not arrive"
    code = re.search(r"\b(\d{6})\b", mails[0]["Subject"]).group(1)
    assert code in mails[0].get_body(("plain",)).get_content()
    assert code in mails[0].get_body(("html",)).get_content()
    response = post(client, f"{signing.url}/code", {"code": code})
    assert "Fill in your fields and sign" in text_of(response)


def test_the_code_arrives_by_sms_at_the_gateway(make_app, admin, sms_gateway):
    sms_gateway.requests.clear()
    app = make_app(SMS_GATEWAY_URL=sms_gateway.url + "/send")
    with app.app_context():
        signing = sent_document(admin["id"], extra_fields=False)
        party = db.session.get(Party, signing.party_id)
        party.channel, party.phone = "sms", "+79161234567"
        db.session.commit()
    client = app.test_client()
    html = text_of(agree(client, signing))
    assert "by SMS to" in html
    texts = [json.loads(r["body"])["text"] for r in sms_gateway.requests
             if json.loads(r["body"])["to"] == "+79161234567"]
    match = re.fullmatch(r"Signet code: (\d{6})\. Do not share it\.", texts[-1])
    assert match
    response = post(client, f"{signing.url}/code", {"code": match.group(1)})
    assert "Fill in your fields and sign" in text_of(response)
    with app.app_context():
        sent = [e for e in events_for(signing.document_id) if e.type == "party.code_sent"]
        assert sent[0].details["channel"] == "sms"
        assert (sent[0].ip, sent[0].user_agent) == ("127.0.0.1", UA)
