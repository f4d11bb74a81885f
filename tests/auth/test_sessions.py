"""Staff sessions that really end: logout, timeouts, other browsers, password changes."""

import re
from datetime import timedelta

from sqlalchemy import select

from portal.auth.models import ApiToken, SecurityEvent, StaffSession, User
from portal.extensions import db
from portal.models_base import utcnow
from tests.factories import make_user
from tests.helpers import login, post_form, sign_in, text_of

CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                     "(KHTML, like Gecko) Chrome/131.0 Safari/537.36")
FIREFOX_ON_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"


def _browser(app, agent=CHROME_ON_WINDOWS, address="127.0.0.1"):
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
    return client


def _copy_of_cookie(app, client):
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _sessions_of(app, user_id):
    with app.app_context():
        return list(db.session.execute(
            select(StaffSession).where(StaffSession.user_id == user_id).order_by(StaffSession.id)
        ).scalars())


def _kinds(app, user_id):
    with app.app_context():
        return list(db.session.execute(
            select(SecurityEvent.kind).where(SecurityEvent.user_id == user_id)
            .order_by(SecurityEvent.id)
        ).scalars())


def test_a_cookie_copied_before_logout_opens_nothing_after(app, admin):
    client = _browser(app)
    login(client, admin["email"], admin["password"])
    copy = _copy_of_cookie(app, client)
    assert copy.get("/profile").status_code == 200

    assert post_form(client, "/logout").status_code == 302

    assert copy.get("/profile").status_code == 302
    minted = post_form(copy, "/profile/tokens", {"name": "stolen"})
    assert minted.status_code in (302, 400)
    with app.app_context():
        assert db.session.execute(select(ApiToken)).first() is None
    [ended] = _sessions_of(app, admin["id"])
    assert ended.end_reason == "logout"
    assert _kinds(app, admin["id"]) == ["signed_in", "signed_out"]


def test_an_idle_session_ends(app, admin):
    client = _browser(app)
    login(client, admin["email"], admin["password"])
    app.config["SIGNET_SESSION_IDLE_MINUTES"] = 30
    with app.app_context():
        row = db.session.execute(select(StaffSession)).scalar_one()
        row.last_seen_at = utcnow() - timedelta(minutes=31)
        db.session.commit()
    assert client.get("/").status_code == 302
    [ended] = _sessions_of(app, admin["id"])
    assert ended.end_reason == "idle"


def test_a_busy_session_still_ends_at_its_absolute_lifetime(app, admin):
    client = _browser(app)
    login(client, admin["email"], admin["password"])
    app.config["SIGNET_SESSION_HOURS"] = 8
    with app.app_context():
        row = db.session.execute(select(StaffSession)).scalar_one()
        row.created_at = utcnow() - timedelta(hours=8, minutes=1)
        db.session.commit()
    assert client.get("/").status_code == 302
    assert _sessions_of(app, admin["id"])[0].end_reason == "expired"


def test_a_request_keeps_the_session_alive_without_a_write_each_time(app, admin):
    client = _browser(app)
    login(client, admin["email"], admin["password"])
    first_seen = _sessions_of(app, admin["id"])[0].last_seen_at
    assert client.get("/").status_code == 200
    assert _sessions_of(app, admin["id"])[0].last_seen_at == first_seen
    with app.app_context():
        row = db.session.execute(select(StaffSession)).scalar_one()
        row.last_seen_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    assert client.get("/").status_code == 200
    assert utcnow() - _sessions_of(app, admin["id"])[0].last_seen_at < timedelta(minutes=1)


def test_the_profile_lists_each_browser_and_signs_one_out(app, admin):
    office = _browser(app)
    phone = _browser(app, FIREFOX_ON_ANDROID, "203.0.113.7")
    login(office, admin["email"], admin["password"])
    login(phone, admin["email"], admin["password"])

    page = text_of(office.get("/profile"))
    assert "Chrome, Windows" in page and "Firefox, Android" in page
    assert "203.0.113.7" in page and "This browser" in page

    phone_session = _sessions_of(app, admin["id"])[1]
    response = post_form(office, f"/profile/sessions/{phone_session.id}/end",
                         headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "That session has ended." in text_of(response)
    assert "Firefox, Android" not in text_of(response)
    assert phone.get("/").status_code == 302
    assert office.get("/").status_code == 200
    assert "session_ended" in _kinds(app, admin["id"])


def test_someone_elses_session_cannot_be_ended(app, admin, employee):
    theirs = _browser(app)
    login(theirs, employee["email"], employee["password"])
    their_session = _sessions_of(app, employee["id"])[0]
    mine = _browser(app)
    login(mine, admin["email"], admin["password"])

    response = post_form(mine, f"/profile/sessions/{their_session.id}/end",
                         headers={"HX-Request": "true"})
    assert "does not exist" in text_of(response)
    assert theirs.get("/").status_code == 200
    assert _sessions_of(app, employee["id"])[0].ended_at is None


def test_sign_out_everywhere_ends_this_browser_too(app, admin):
    first, second = _browser(app), _browser(app, FIREFOX_ON_ANDROID)
    login(first, admin["email"], admin["password"])
    login(second, admin["email"], admin["password"])
    response = post_form(first, "/profile/sessions/end-all")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 302
    assert {row.end_reason for row in _sessions_of(app, admin["id"])} == {"everywhere"}


def test_a_password_change_ends_the_other_sessions_and_keeps_tokens_unless_asked(app, admin):
    here, elsewhere = _browser(app), _browser(app, FIREFOX_ON_ANDROID)
    login(here, admin["email"], admin["password"])
    login(elsewhere, admin["email"], admin["password"])
    post_form(here, "/profile/tokens", {"name": "CRM"})

    response = post_form(here, "/profile/password", {
        "current_password": admin["password"], "password": "a much newer secret",
        "confirm": "a much newer secret",
    })
    assert response.status_code == 302
    assert "Password changed. Your other sessions have ended." in text_of(here.get("/profile"))
    assert elsewhere.get("/").status_code == 302
    with app.app_context():
        assert db.session.execute(select(ApiToken.revoked_at)).scalar_one() is None
    assert "password_changed" in _kinds(app, admin["id"])


def test_a_password_change_can_revoke_the_api_tokens(app, admin):
    client = _browser(app)
    login(client, admin["email"], admin["password"])
    post_form(client, "/profile/tokens", {"name": "CRM"})
    response = post_form(client, "/profile/password", {
        "current_password": admin["password"], "password": "a much newer secret",
        "confirm": "a much newer secret", "revoke_tokens": "y",
    }, headers={"HX-Request": "true"})
    assert "1 API token was revoked." in text_of(response)
    with app.app_context():
        assert db.session.execute(select(ApiToken.revoked_at)).scalar_one() is not None


def test_a_wrong_current_password_changes_nothing(app, admin):
    client = _browser(app)
    login(client, admin["email"], admin["password"])
    with app.app_context():
        before = db.session.get(User, admin["id"]).password_hash
    response = post_form(client, "/profile/password", {
        "current_password": "not it at all", "password": "a much newer secret",
        "confirm": "a much newer secret",
    }, headers={"HX-Request": "true"})
    assert "That is not your current password." in text_of(response)
    with app.app_context():
        assert db.session.get(User, admin["id"]).password_hash == before
    assert client.get("/").status_code == 200


def test_an_administrators_reset_ends_every_session_and_token(app, admin, admin_client,
                                                              employee):
    theirs = _browser(app)
    login(theirs, employee["email"], employee["password"])
    post_form(theirs, "/profile/tokens", {"name": "Script"})

    response = post_form(admin_client, f"/admin/users/{employee['id']}/password",
                         {"password": "reset by the admin", "confirm": "reset by the admin"})
    assert response.status_code == 302

    assert theirs.get("/").status_code == 302
    with app.app_context():
        assert db.session.execute(select(ApiToken.revoked_at)).scalar_one() is not None
        event = db.session.execute(
            select(SecurityEvent).where(SecurityEvent.kind == "password_reset")).scalar_one()
        assert (event.user_id, event.actor_id) == (employee["id"], admin["id"])


def test_deactivation_ends_every_session(app, admin_client, employee):
    theirs = _browser(app)
    login(theirs, employee["email"], employee["password"])
    assert post_form(admin_client, f"/admin/users/{employee['id']}/deactivate").status_code == 302
    assert theirs.get("/").status_code == 302
    assert _sessions_of(app, employee["id"])[0].end_reason == "deactivated"


def test_signed_in_pages_are_never_cached(admin_client):
    for url in ("/", "/profile", "/documents", "/admin/users"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        assert "Cookie" in response.headers["Vary"], url


def test_a_cookie_from_before_server_side_sessions_opens_nothing(app, admin):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{admin['id']}:1"  # the old "<id>:<version>" form
    assert client.get("/").status_code == 302


def test_the_security_log_shows_the_users_own_events(app, admin):
    client = _browser(app)
    post_form(client, "/login", {"email": admin["email"], "password": "wrong one"})
    login(client, admin["email"], admin["password"])
    post_form(client, "/profile/tokens", {"name": "CRM"})

    page = text_of(client.get("/profile/security"))
    assert "Sign-in failed" in page and "Signed in" in page
    assert "API token created" in page and "CRM" in page
    assert "Chrome, Windows" in page and "password" in page


def test_administrators_see_every_accounts_log_and_others_do_not(app, admin_client, employee):
    other = _browser(app)
    post_form(other, "/login", {"email": "ghost@example.com", "password": "guess"})
    login(other, employee["email"], employee["password"])

    page = text_of(admin_client.get("/admin/security"))
    assert "Emil Employee" in page and "ghost@example.com" in page
    filtered = text_of(admin_client.get("/admin/security?kind=sign_in_failed"))
    assert "ghost@example.com" in filtered and "Emil Employee" not in filtered
    assert other.get("/admin/security").status_code == 403


def test_the_log_pages_a_long_history(app, admin):
    from portal.auth import security_log

    with app.app_context():
        user = db.session.get(User, admin["id"])
        for number in range(security_log.PAGE_SIZE + 5):
            security_log.record("api_token_created", user, detail=f"token {number}")
        db.session.commit()
    client = app.test_client()
    sign_in(client, admin["email"])
    first = text_of(client.get("/profile/security"))
    assert "token 54<" in first and "token 4<" not in first
    older_link = re.search(r'href="(/profile/security\?before=\d+)"', first)
    assert older_link, "no link to the older events"
    older = text_of(client.get(older_link.group(1)))
    assert "token 4<" in older and "token 54<" not in older


def test_a_new_user_can_sign_in_after_the_migration_dropped_session_versions(app):
    with app.app_context():
        make_user(email="new@example.com")
    client = _browser(app)
    login(client, "new@example.com", "correct horse battery")
    assert client.get("/profile").status_code == 200


def test_the_sweep_closes_lapsed_sessions_and_forgets_old_ones(app, admin):
    from portal.auth.sessions import forget_old_sessions

    for _ in range(3):
        login(_browser(app), admin["email"], admin["password"])
    with app.app_context():
        lapsed, old, live = db.session.execute(
            select(StaffSession).order_by(StaffSession.id)).scalars().all()
        lapsed.last_seen_at = utcnow() - timedelta(hours=3)
        old.ended_at, old.end_reason = utcnow() - timedelta(days=31), "logout"
        ancient = SecurityEvent(kind="signed_in", user_id=admin["id"], method="password",
                                created_at=utcnow() - timedelta(days=400))
        db.session.add(ancient)
        db.session.commit()
        ids, ancient_id = (lapsed.id, live.id), ancient.id

        assert forget_old_sessions(utcnow()) == 3
        rows = {row.id: row for row in db.session.execute(select(StaffSession)).scalars()}
        assert set(rows) == set(ids)
        assert rows[ids[0]].end_reason == "idle" and rows[ids[1]].ended_at is None
        db.session.expunge_all()
        assert db.session.get(SecurityEvent, ancient_id) is None
