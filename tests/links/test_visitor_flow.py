"""A visitor on a public link: details, code, their own document, signed; every limit."""

import threading
from datetime import timedelta

from sqlalchemy import select, update

from portal.audit.service import events_for
from portal.extensions import db
from portal.links.models import PublicLink, PublicLinkSubmission
from portal.models_base import utcnow
from tests.helpers import text_of
from tests.links.support import (
    VISITOR,
    client_party,
    confirm_code,
    documents,
    enter_details,
    post,
    publish,
    sign_through,
)
from tests.signing.support import last_code


def _link(app, link_id) -> PublicLink:
    with app.app_context():
        db.session.commit()
        link = db.session.get(PublicLink, link_id)
        db.session.expunge(link)
        return link


def test_a_visitor_confirms_a_code_and_signs_their_own_document(app, admin, client):
    with app.app_context():
        published = publish(admin["id"])
    response = enter_details(client, published)
    assert response.status_code == 302 and response.headers["Location"].endswith("/code")
    assert documents(app) == []  # nothing is made before the code is confirmed

    wrong = post(client, f"{published.url}/code", {"code": "000000"})
    assert wrong.status_code == 422 and "Wrong code. 4 attempts left." in text_of(wrong)

    entered = confirm_code(client, app, published)
    assert entered.status_code == 302 and "/s/" in entered.headers["Location"]
    [document] = documents(app)
    assert (document.stage, document.responsible_id) == ("client_signing", admin["id"])
    party = client_party(app, document.id)
    assert (party.name, party.email, party.order) == ("Maria Silva", "maria@example.com", 1)
    assert party.code_confirmed_at is not None

    sign_through(client, entered.headers["Location"])
    party = client_party(app, document.id)
    assert party.status == "signed"
    [document] = documents(app)
    assert document.stage == "company_signing"  # our company's signer is invited now
    with app.app_context():
        events = {event.type: event for event in events_for(document.id)}
        created = events["document.created"].details
        confirmed = events["party.code_confirmed"].details
        assert created["public_link_id"] == published.link_id
        assert confirmed["public_link_id"] == published.link_id
        assert confirmed["contact"] == "m***a@example.com" and confirmed["attempt"] == 2
        assert "party.signed" in events and "party.code_sent" not in events
    assert _link(app, published.link_id).uses == 1


def test_the_company_signer_is_invited_after_the_visitor_signed(app, admin, client,
                                                                 admin_client):
    with app.app_context():
        published = publish(admin["id"])
    enter_details(client, published)
    entered = confirm_code(client, app, published)
    sign_through(client, entered.headers["Location"])
    [document] = documents(app)
    with app.app_context():
        invited = [event.details["role"] for event in events_for(document.id)
                   if event.type == "party.invited"]
    assert invited == ["client", "company"]
    page = text_of(admin_client.get(f"/links/{published.link_id}"))
    assert document.number in page and "Maria Silva" in page


def test_a_closed_link_shows_a_translated_page_not_an_error(app, admin, client):
    with app.app_context():
        paused = publish(admin["id"])
        db.session.execute(update(PublicLink).where(PublicLink.id == paused.link_id)
                           .values(active=False))
        expired = publish(admin["id"])
        db.session.execute(update(PublicLink).where(PublicLink.id == expired.link_id)
                           .values(expires_at=utcnow() - timedelta(minutes=1)))
        used = publish(admin["id"], max_uses=1)
        db.session.execute(update(PublicLink).where(PublicLink.id == used.link_id)
                           .values(uses=1))
        db.session.commit()
    for published, title in ((paused, "This link is paused"), (expired, "This link has expired"),
                             (used, "This link has been used up")):
        response = client.get(published.url)
        assert response.status_code == 410 and title in text_of(response)
    assert client.get("/p/not-a-real-token").status_code == 404
    russian = client.get(paused.url, headers={"Accept-Language": "ru"})
    assert "Ссылка приостановлена" in text_of(russian)


def test_expiry_passing_between_details_and_code_refuses_the_code(app, admin, client):
    with app.app_context():
        published = publish(admin["id"])
    enter_details(client, published)
    with app.app_context():
        db.session.execute(update(PublicLink).where(PublicLink.id == published.link_id)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = confirm_code(client, app, published)
    assert response.status_code == 410 and documents(app) == []


def test_allowed_domains_are_enforced(app, admin, client):
    with app.app_context():
        published = publish(admin["id"], allowed_domains="example.org, @corp.example")
    refused = enter_details(client, published)
    assert refused.status_code == 422
    assert "only for addresses at example.org, corp.example" in text_of(refused)
    accepted = post(client, published.url, {**VISITOR, "email": "ivan@corp.example"})
    assert accepted.status_code == 302


def test_the_per_address_limit_counts_submissions_per_day(app, admin, client):
    with app.app_context():
        published = publish(admin["id"], per_address_limit=2)
    assert enter_details(client, published).status_code == 302
    assert post(client, published.url, VISITOR).status_code == 302
    third = post(client, published.url, VISITOR)
    assert third.status_code == 429 and "too often today" in text_of(third)
    other = post(client, published.url, {**VISITOR, "email": "other@example.com"})
    assert other.status_code == 302


def test_the_per_ip_limit_stops_code_sends(app, admin, client):
    app.config["SIGNET_PUBLIC_LINK_CODE_LIMIT"] = "2 per hour"
    with app.app_context():
        published = publish(admin["id"], per_address_limit=100)
    statuses = [post(client, published.url, {**VISITOR, "email": f"v{n}@example.com"})
                .status_code for n in range(3)]
    assert statuses == [302, 302, 429]


def test_wrong_codes_lock_the_code_after_five_attempts(app, admin, client):
    with app.app_context():
        published = publish(admin["id"])
    enter_details(client, published)
    for _attempt in range(5):
        post(client, f"{published.url}/code", {"code": "000000"})
    response = confirm_code(client, app, published)
    assert response.status_code == 422 and "Too many wrong codes" in text_of(response)
    assert documents(app) == []


def test_a_code_sent_for_one_browser_does_not_open_another(app, admin, client):
    with app.app_context():
        published = publish(admin["id"])
    enter_details(client, published)
    stranger = app.test_client()
    stranger.get(published.url)
    with app.app_context():
        code = last_code("maria@example.com")
    response = post(stranger, f"{published.url}/code", {"code": code})
    assert response.status_code == 409 and documents(app) == []


def test_two_visitors_on_the_last_use_one_gets_it(app, admin):
    with app.app_context():
        published = publish(admin["id"], max_uses=1)
    visitors = [app.test_client(), app.test_client()]
    for number, visitor in enumerate(visitors):
        assert enter_details(visitor, published,
                             {**VISITOR, "email": f"v{number}@example.com"}).status_code == 302
    with app.app_context():
        codes = [last_code(f"v{number}@example.com") for number in range(2)]
    statuses = []
    start = threading.Barrier(2)

    def confirm(visitor, code):
        start.wait()
        statuses.append(post(visitor, f"{published.url}/code", {"code": code}).status_code)

    threads = [threading.Thread(target=confirm, args=pair) for pair in zip(visitors, codes,
                                                                            strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 410]
    assert len(documents(app)) == 1 and _link(app, published.link_id).uses == 1
    with app.app_context():
        made = db.session.scalars(select(PublicLinkSubmission.document_id)).all()
        assert sorted(made, key=lambda value: value is None)[1] is None


def test_an_sms_link_asks_for_a_phone_and_a_company_for_its_signer(app, admin, client):
    with app.app_context():
        published = publish(admin["id"], channel="sms")
    missing = enter_details(client, published, {"kind": "company", "name": "Acme LLC",
                                                "email": "office@acme.example"})
    html = text_of(missing)
    assert missing.status_code == 422
    assert "Enter your phone number: the code comes by SMS." in html
    assert "Enter the name of the person who signs." in html
    started = post(client, published.url, {
        "kind": "company", "name": "Acme LLC", "representative_name": "Ivan Petrov",
        "representative_position": "Director", "phone": "+79161112233"})
    assert started.status_code == 302
    too_soon = post(client, f"{published.url}/code/send")
    assert too_soon.status_code == 429 and "Wait" in text_of(too_soon)
    entered = confirm_code(client, app, published, address="+79161112233")
    assert entered.status_code == 302
    [document] = documents(app)
    party = client_party(app, document.id)
    assert (party.kind, party.name, party.organization, party.channel) == (
        "company", "Ivan Petrov", "Acme LLC", "sms")


def test_an_empty_or_bad_form_says_what_to_fix_in_the_visitors_words(app, admin, client):
    with app.app_context():
        published = publish(admin["id"])
    empty = enter_details(client, published, {"kind": "person"})
    html = text_of(empty)
    assert empty.status_code == 422
    assert "Enter your name, or your company&#39;s name." in html
    assert "Enter your email address: the code comes by email." in html
    assert "signing links are sent" not in html  # the sender's wording stays on their pages
    bad = post(client, published.url, {**VISITOR, "email": "maria@"})
    assert bad.status_code == 422 and "maria@" in text_of(bad)
    with app.app_context():
        assert db.session.scalar(select(PublicLinkSubmission)) is None


def test_the_board_shows_whose_turn_it_is_for_a_document_whose_client_signs_first(
        app, admin, client, admin_client):
    with app.app_context():
        published = publish(admin["id"])
    enter_details(client, published)
    entered = confirm_code(client, app, published)
    [document] = documents(app)

    def column_of_document() -> str:
        board = text_of(admin_client.get("/pipeline"))
        columns = board.split('id="cards-')[1:]
        return next(column.split('"', 1)[0] for column in columns
                    if document.number in column.split('id="count-', 1)[0])

    assert column_of_document() == "client_signing"
    sign_through(client, entered.headers["Location"])
    assert column_of_document() == "company_signing"  # waiting for our signer now
    with app.app_context():
        moves = [(event.details["previous_stage"], event.details["stage"])
                 for event in events_for(document.id) if event.type == "document.stage_changed"]
    assert moves == [("company_signing", "client_signing"),
                     ("client_signing", "company_signing")]
