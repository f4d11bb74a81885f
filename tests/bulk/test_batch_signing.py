"""The company signer signs a bulk batch in one ceremony: one invitation, one code, one
signature; each document records its own signing and invites its client as usual."""

import os
import threading
from datetime import datetime, timedelta
from io import BytesIO

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.audit.service import broken_links, events_for
from portal.auth.models import User
from portal.bulk import services as bulk
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.documents.links import current_link_token
from portal.documents.models import Document, Field, Party
from portal.extensions import db
from portal.models_base import utcnow
from portal.sealing.certificate import event_description
from portal.signing import bundles, services
from portal.signing.filling import FieldInput, fields_of
from portal.signing.models import SigningBundle
from portal.workflow.lock import lock_document
from portal.workflow.order import stop
from tests.bulk.support import LINK
from tests.documents.support import META, make_template, signet_company
from tests.helpers import csrf_token, page_width, text_of
from tests.signing.support import HEADERS, last_code, png_bytes

DIRECTOR = "director@signet.example"
SCREENSHOTS = os.environ.get("SIGNET_SCREENSHOTS")  # a folder, to look at the pages by eye
HEADER = "Name,Email,Phone,Amount,Place\n"
ROWS = "".join(f"Client {n},client{n}@example.com,,{n}00,Lisboa\n" for n in range(1, 5))


def _run_batch(admin_id: int, rows: str = ROWS) -> int:
    actor = db.session.get(User, admin_id)
    company, template = signet_company(), make_template(language="en")
    batch = bulk.start_batch(actor, template.id, company.id, (HEADER + rows).encode(), "c.csv")
    return bulk.confirm(db.session.get(User, admin_id), batch.id, skip_invalid=False).id


def _messages(address: str, kind: str) -> list[Message]:
    db.session.commit()
    return list(db.session.scalars(select(Message).where(
        Message.recipient == address, Message.kind == kind).order_by(Message.id)))


def _company_parties() -> list[Party]:
    db.session.commit()
    return list(db.session.scalars(select(Party).where(Party.role == "company")
                                   .order_by(Party.document_id)))


def _link(app) -> str:
    with app.app_context():
        invitations = _messages(DIRECTOR, "batch-signing-invitation")
        assert len(invitations) == 1
        return LINK.search(as_sent(invitations[0]).body_text).group(1)


def _post(client, url, data=None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})},
                       headers=HEADERS, **kwargs)


def _confirm(client, app, token: str):
    page = client.get(f"/b/{token}", headers=HEADERS)
    assert page.status_code == 200 and "I agree" in text_of(page)
    agreed = _post(client, f"/b/{token}/consent")
    assert "Enter the code we sent you" in text_of(agreed)
    with app.app_context():
        code = last_code(DIRECTOR)
    confirmed = _post(client, f"/b/{token}/code", {"code": code})
    assert "Sign the chosen documents" in text_of(confirmed), text_of(confirmed)[:500]
    return confirmed


def _sign(client, token: str, party_ids, **extra):
    data = {"party": [str(party_id) for party_id in party_ids], "method": "type",
            "typed": "Anna Petrova", **extra}
    return _post(client, f"/b/{token}/sign", data)


def _snap(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"batch-signing-{name}.png"),
                        full_page=True, caret="initial")


def _client_signs(document_id: int) -> int:
    """The document's client signs through the individual ceremony's services."""
    client_party = db.session.get(Document, document_id).parties_with_role("client")[0]
    token = current_link_token(client_party)
    services.accept_agreement(token, META)
    party, ceremony = services.verify_code(token, META, last_code(client_party.email))
    for own in fields_of(party):
        if own.type == "signature":
            data = FieldInput(method="type", typed=party.name)
        elif own.type == "stamp":
            data = FieldInput(method="upload", upload=FileStorage(
                BytesIO(png_bytes()), "stamp.png", content_type="image/png"))
        else:
            continue
        services.fill_field(token, META, own.id, data, ceremony)
    services.sign(token, META, ceremony)
    return document_id


def bundle_id() -> int:
    return db.session.scalar(select(SigningBundle.id))


def _assert_real_ceremony_times(party: Party) -> None:
    """The consent and the code happened once, before the signing: the party, each event's
    `occurred_at` and the certificate's history say when; the chain still holds."""
    bundle = db.session.scalar(select(SigningBundle))
    assert party.consent_at == bundle.consent_at < party.signed_at
    assert party.code_confirmed_at == bundle.code_confirmed_at
    events = {event.type: event for event in events_for(party.document_id)}
    for kind, moment in (("party.consent", bundle.consent_at),
                         ("party.code_sent", bundle.code_sent_at),
                         ("party.code_confirmed", bundle.code_confirmed_at)):
        occurred = datetime.fromisoformat(events[kind].details["occurred_at"])
        assert occurred == moment < events[kind].created_at, kind
    assert "happened at" in event_description(events["party.code_confirmed"])
    assert broken_links(party.document_id) == []


def test_one_invitation_one_ceremony_and_each_document_signed_on_its_own(app, admin, client):
    with app.app_context():
        batch_id = _run_batch(admin["id"])
        parties = _company_parties()
        assert len(parties) == 4 and all(party.status == "sent" for party in parties)
        # Not one invitation per document: one for the batch.
        assert _messages(DIRECTOR, "signing-invitation") == []
        assert bundles.batch_signing_status(batch_id) == [
            {"name": "Anna Petrova", "contact": bundles.mask_contact(DIRECTOR),
             "invited": True, "signed": 0, "total": 4, "remind": bundle_id(),
             "remind_after": None, "fallback": ""}]
        party_ids = [party.id for party in parties]
    token = _link(app)
    _confirm(client, app, token)

    signed = _sign(client, token, party_ids[:3])  # the fourth is left out
    assert signed.status_code == 200
    assert "3 documents signed." in text_of(signed)
    with app.app_context():
        parties = _company_parties()
        assert [party.status for party in parties] == ["signed"] * 3 + ["sent"]
        for party in parties[:3]:
            types = [event.type for event in events_for(party.document_id)]
            for expected in ("party.invited", "party.opened", "party.consent",
                             "party.code_sent", "party.code_confirmed", "field.filled",
                             "party.signed_in_batch", "party.signed"):
                assert expected in types, (expected, types)
            note = next(event for event in events_for(party.document_id)
                        if event.type == "party.signed_in_batch")
            assert note.details["batch_id"] == batch_id and note.details["documents"] == 4
            _assert_real_ceremony_times(party)
            client_party = party.document.parties_with_role("client")[0]
            assert client_party.status == "sent"  # invited per document, as usual
            assert len(_messages(client_party.email, "signing-invitation")) == 1
        assert bundles.batch_signing_status(batch_id)[0]["signed"] == 3
        left_out = parties[3]
        assert _messages(left_out.document.parties_with_role("client")[0].email,
                         "signing-invitation") == []

    # A client signs as usual: the document completes and is sealed with the batch's signing.
    with app.app_context():
        document_id = _client_signs(_company_parties()[0].document_id)
        document = db.session.get(Document, document_id)
        assert document.stage == "completed" and document.final_sha256, document.seal_error
        assert "document.finalized" in [event.type for event in events_for(document_id)]

    # The one left out waits on the same link; signing it closes the bundle.
    again = client.get(f"/b/{token}", headers=HEADERS)
    assert 'name="party"' in text_of(again) and text_of(again).count('name="party"') == 1
    last = _sign(client, token, [party_ids[3]])
    assert "1 document signed." in text_of(last)
    closed = client.get(f"/b/{token}", headers=HEADERS)
    assert "Nothing is left to sign here" in text_of(closed)


def test_a_document_stopped_meanwhile_is_skipped_and_the_others_are_signed(app, admin, client):
    with app.app_context():
        _run_batch(admin["id"], ROWS[:2 * len(ROWS) // 4])
        party_ids = [party.id for party in _company_parties()]
        stopped_document = _company_parties()[0].document_id
    token = _link(app)
    _confirm(client, app, token)
    with app.app_context():
        document = lock_document(stopped_document)
        stop(document, db.session.get(User, admin["id"]), META, "Wrong amount")
        db.session.commit()
    result = _sign(client, token, party_ids)
    text = text_of(result)
    assert result.status_code == 200 and "1 document signed." in text
    assert "stopped by the sender" in text
    with app.app_context():
        statuses = {party.id: party.status for party in _company_parties()}
        assert statuses[party_ids[0]] == "sent" and statuses[party_ids[1]] == "signed"
    # A double submit signs nothing twice: both are reported, nothing changes.
    twice = _sign(client, token, party_ids)
    assert "Nothing is left to sign here" in text_of(twice) or "already signed" in text_of(twice)


def test_wrong_codes_bad_images_and_no_choice_change_nothing(app, admin, client):
    with app.app_context():
        _run_batch(admin["id"], ROWS[:len(ROWS) // 4])
        party_ids = [party.id for party in _company_parties()]
    token = _link(app)
    client.get(f"/b/{token}", headers=HEADERS)
    early = _sign(client, token, party_ids)
    assert early.status_code == 200 and "First read the document" in text_of(early)
    _post(client, f"/b/{token}/consent")
    wrong = _post(client, f"/b/{token}/code", {"code": "000000"})
    if "Wrong code" not in text_of(wrong):  # the real code was 000000: one in a million
        return
    assert "4 attempts left" in text_of(wrong)
    malformed = _post(client, f"/b/{token}/code", {"code": "12ab"})
    assert "Enter the 6 digits" in text_of(malformed)
    resend = _post(client, f"/b/{token}/code/send")
    assert "Wait" in text_of(resend)  # one code a minute, as for a party
    with app.app_context():
        code = last_code(DIRECTOR)
    _post(client, f"/b/{token}/code", {"code": code})
    nothing = _sign(client, token, [])
    assert "Choose at least one document" in text_of(nothing)
    blank = _sign(client, token, party_ids, method="draw", drawing="")
    assert blank.status_code == 200 and "flash-error" in text_of(blank)
    with app.app_context():
        assert [party.status for party in _company_parties()] == ["sent"]


def test_another_browser_without_the_code_cannot_sign(app, admin, client):
    with app.app_context():
        _run_batch(admin["id"], ROWS[:len(ROWS) // 4])
        party_ids = [party.id for party in _company_parties()]
    token = _link(app)
    _confirm(client, app, token)
    other = app.test_client()
    other.get(f"/b/{token}", headers=HEADERS)
    refused = _sign(other, token, party_ids)
    assert refused.status_code == 200 and "Enter the code we sent you" in text_of(refused)
    with app.app_context():
        assert _company_parties()[0].status == "sent"


def test_bad_expired_and_used_links_say_so(app, admin, client):
    assert client.get("/b/not-a-real-token", headers=HEADERS).status_code == 404
    with app.app_context():
        _run_batch(admin["id"], ROWS[:len(ROWS) // 4])
    token = _link(app)
    with app.app_context():
        bundle = db.session.scalar(select(SigningBundle))
        bundle.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    expired = client.get(f"/b/{token}", headers=HEADERS)
    assert expired.status_code == 410 and "This link has expired" in text_of(expired)
    posted = _post(client, f"/b/{token}/consent")
    assert posted.status_code == 410


def test_a_document_with_other_required_fields_is_offered_on_its_own(app, admin, client):
    with app.app_context():
        _run_batch(admin["id"], ROWS[:2 * len(ROWS) // 4])
        first = _company_parties()[0]
        document = db.session.get(Document, first.document_id)
        db.session.add(Field(document_id=document.id, party_id=first.id, type="text", page=1,
                             x=0.1, y=0.2, w=0.3, h=0.04, required=True, label="Position"))
        db.session.commit()
        party_ids = [party.id for party in _company_parties()]
    token = _link(app)
    page = _confirm(client, app, token)
    assert "Sign it on its own" in text_of(page) and "/s/" in text_of(page)
    result = _sign(client, token, party_ids)
    assert "1 document signed." in text_of(result)
    assert "sign it on its own" in text_of(result)
    with app.app_context():
        assert [party.status for party in _company_parties()] == ["sent", "signed"]


@pytest.mark.browser
def test_the_director_signs_a_batch_on_a_phone_then_on_a_laptop(app, admin, phone):
    """390 px: leave one out, agree, the code from the outbox, a typed signature, sign; then
    1280 px in the same browser: the one left out, with a drawn signature."""
    with app.app_context():
        _run_batch(admin["id"], ROWS[:3 * len(ROWS) // 4])
    token = _link(app)
    phone.goto(f"/b/{token}")
    phone.get_by_role("heading", name="3 documents to sign").wait_for()
    assert phone.locator(".bundle-item").count() == 3
    assert page_width(phone) <= 390
    _snap(phone, "agree-390")
    phone.get_by_role("button", name="I agree: send me a code").click()
    phone.get_by_role("heading", name="Enter the code we sent you").wait_for()
    with app.app_context():
        code = last_code(DIRECTOR)
    phone.fill("#signing-code", code)
    phone.get_by_role("button", name="Confirm").click()
    phone.get_by_role("heading", name="Sign the chosen documents").wait_for()
    checks = phone.locator("input.bundle-check")
    assert checks.count() == 3 and all(checks.nth(n).is_checked() for n in range(3))
    checks.nth(2).uncheck()  # left out for now
    phone.get_by_role("radio", name="Type").check()
    phone.fill("#bundle-typed", "Anna Petrova")
    assert page_width(phone) <= 390
    _snap(phone, "choose-390")
    phone.get_by_role("button", name="Sign the chosen documents").click()
    phone.get_by_text("2 documents signed.").wait_for()
    _snap(phone, "signed-390")
    assert phone.locator(".bundle-item.is-signed").count() == 2

    phone.set_viewport_size({"width": 1280, "height": 900})
    assert phone.locator("input.bundle-check").count() == 1
    phone.get_by_role("radio", name="Draw").check()  # the form remembers the last method: typed
    pad = phone.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    phone.mouse.down()
    for step in range(1, 12):  # a zigzag
        phone.mouse.move(box["x"] + 20 + step * 22,
                         box["y"] + box["height"] * (0.3 + (step % 2) * 0.4))
    phone.mouse.up()
    _snap(phone, "draw-1280")
    phone.get_by_role("button", name="Sign the chosen documents").click()
    phone.get_by_role("heading", name="Nothing is left to sign here").wait_for()
    _snap(phone, "done-1280")
    assert phone.get_by_text("1 document signed.").is_visible()
    assert phone.console_errors == []
    with app.app_context():
        assert [party.status for party in _company_parties()] == ["signed"] * 3


def test_two_tabs_signing_at_once_sign_each_document_once(app, admin, client):
    with app.app_context():
        _run_batch(admin["id"], ROWS[:2 * len(ROWS) // 4])
        party_ids = [party.id for party in _company_parties()]
    token = _link(app)
    _confirm(client, app, token)
    session = client.get_cookie(bundles.COOKIE_NAME, path=f"/b/{token}")
    other = app.test_client()
    other.set_cookie(bundles.COOKIE_NAME, session.value, path=f"/b/{token}")
    other.get(f"/b/{token}", headers=HEADERS)  # its own CSRF session
    answers = {}

    def submit(name, browser):
        answers[name] = text_of(_sign(browser, token, party_ids))

    tabs = [threading.Thread(target=submit, args=(name, browser))
            for name, browser in (("first", client), ("second", other))]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(timeout=60)
    signed = sum(answer.count("2 documents signed.") + answer.count("1 document signed.")
                 for answer in answers.values())
    assert len(answers) == 2 and signed >= 1, answers.keys()
    with app.app_context():
        assert [party.status for party in _company_parties()] == ["signed", "signed"]
        for party in _company_parties():
            types = [event.type for event in events_for(party.document_id)]
            assert types.count("party.signed") == 1 and types.count("party.signed_in_batch") == 1


def test_the_batch_page_says_where_our_signature_stands(app, admin, admin_client, client):
    with app.app_context():
        batch_id = _run_batch(admin["id"], ROWS)
    token = _link(app)
    assert "invited, 0 of 4 signed" in _words(admin_client.get(f"/bulk/{batch_id}"))

    _confirm(client, app, token)
    with app.app_context():
        party_ids = [party.id for party in _company_parties()]
    _sign(client, token, party_ids[:3])

    page = _words(admin_client.get(f"/bulk/{batch_id}"))
    assert "Anna Petrova" in page and "invited, 3 of 4 signed" in page


def _words(response) -> str:
    return " ".join(text_of(response).split())
