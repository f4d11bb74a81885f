"""Two-factor sign-in through the pages: the authenticator app (pyotp computes the codes),
recovery codes, the login's second step, its limits, and roles that require a second factor."""

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from portal.auth.models import Role, SecurityEvent, StaffSession, User
from portal.auth.two_factor import totp
from portal.auth.two_factor.models import TotpCredential
from portal.extensions import db
from portal.tokens import hash_token
from tests.factories import DEFAULT_PASSWORD, make_department, make_user
from tests.helpers import csrf_token, post_form, session_csrf_token, sign_in, text_of

SECOND_STEP = "/login/second-factor"


class Clock:
    """The TOTP checker's clock, moved by the test: each login can have a fresh code."""

    def __init__(self):
        self.now = float(int(time.time()) // 30 * 30 + 5)

    def advance(self, steps: int = 1) -> None:
        self.now += 30 * steps


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(totp, "_now", lambda: clock.now)
    return clock


def code_at(secret: str, moment: float) -> str:
    return pyotp.TOTP(secret).at(moment)


def enrol_totp(client, clock) -> tuple[str, list[str]]:
    """Set up the app through the pages; return (secret, recovery codes)."""
    response = post_form(client, "/profile/two-factor/totp")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/profile/two-factor/totp")
    page = text_of(client.get("/profile/two-factor/totp"))
    assert 'src="data:image/png;base64,' in page
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    response = post_form(client, "/profile/two-factor/totp/confirm",
                         {"code": code_at(secret, clock.now)})
    assert response.status_code == 200, text_of(response)[:300]
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", text_of(response))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert response.headers["Cache-Control"] == "no-store"
    return secret, codes


def password_step(client, email: str, password: str = DEFAULT_PASSWORD):
    return post_form(client, "/login", {"email": email, "password": password})


def second_step(client, code: str):
    return post_form(client, SECOND_STEP, {"code": code})


def log_out(client):
    post_form(client, "/logout")


def events(app, user_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(select(SecurityEvent).where(SecurityEvent.user_id == user_id)
                                  .order_by(SecurityEvent.id)).scalars()
        return [(row.kind, row.method) for row in rows]


@pytest.fixture
def enrolled(app, employee, employee_client, clock):
    secret, codes = enrol_totp(employee_client, clock)
    log_out(employee_client)
    return {**employee, "secret": secret, "codes": codes, "client": employee_client}


# --- the authenticator app -------------------------------------------------------------------

def test_enrolment_confirms_with_a_code_and_then_login_needs_one(app, enrolled, clock):
    client = enrolled["client"]
    response = password_step(client, enrolled["email"])
    assert response.status_code == 302 and response.headers["Location"].endswith(SECOND_STEP)
    assert client.get("/").status_code == 302  # not signed in by the password alone
    page = client.get(SECOND_STEP)
    assert page.status_code == 200 and 'name="code"' in text_of(page)

    clock.advance()
    response = second_step(client, code_at(enrolled["secret"], clock.now))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    log = events(app, enrolled["id"])
    assert ("totp_enabled", "") in log and ("signed_in", "totp") in log
    with app.app_context():
        credential = db.session.execute(select(TotpCredential)).scalar_one()
        assert enrolled["secret"] not in credential.secret_sealed  # sealed at rest


def test_the_next_page_survives_the_second_step(enrolled, clock):
    client = enrolled["client"]
    post_form(client, "/login?next=/profile", {"email": enrolled["email"],
                                               "password": DEFAULT_PASSWORD})
    clock.advance()
    response = second_step(client, code_at(enrolled["secret"], clock.now))
    assert response.headers["Location"] == "/profile"


def test_wrong_code_is_refused_and_logged(app, enrolled, clock):
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    right = code_at(enrolled["secret"], clock.now + 30)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = second_step(client, wrong)
    assert response.status_code == 200
    assert "This code is not right." in text_of(response)
    assert client.get("/").status_code == 302
    assert ("second_factor_failed", "totp") in events(app, enrolled["id"])


def test_a_code_works_once(app, enrolled, clock):
    client = enrolled["client"]
    clock.advance()
    code = code_at(enrolled["secret"], clock.now)
    password_step(client, enrolled["email"])
    assert second_step(client, code).status_code == 302
    log_out(client)
    password_step(client, enrolled["email"])
    response = second_step(client, code)
    assert "This code was already used." in text_of(response)
    assert client.get("/").status_code == 302
    # Nor does an older code of the window work after a newer one.
    assert "already used" in text_of(second_step(client, code_at(enrolled["secret"],
                                                                 clock.now - 30)))


def test_the_enrolment_code_cannot_sign_in(enrolled, clock):
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    assert "already used" in text_of(second_step(client, code_at(enrolled["secret"], clock.now)))


def test_codes_within_one_step_of_drift_are_accepted_not_beyond(enrolled, clock):
    client = enrolled["client"]
    clock.advance(5)
    password_step(client, enrolled["email"])
    assert "not right" in text_of(second_step(client, code_at(enrolled["secret"],
                                                              clock.now + 60)))
    assert second_step(client, code_at(enrolled["secret"], clock.now - 30)).status_code == 302


def test_enrolment_asked_twice_keeps_one_secret_and_confirming_twice_is_harmless(
        app, employee, employee_client, clock):
    post_form(employee_client, "/profile/two-factor/totp")
    first = text_of(employee_client.get("/profile/two-factor/totp"))
    post_form(employee_client, "/profile/two-factor/totp")
    second = text_of(employee_client.get("/profile/two-factor/totp"))
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', first).group(1)
    assert secret in second
    secret = secret.replace(" ", "")
    code = code_at(secret, clock.now)
    assert post_form(employee_client, "/profile/two-factor/totp/confirm",
                     {"code": code}).status_code == 200
    again = post_form(employee_client, "/profile/two-factor/totp/confirm", {"code": code})
    assert again.status_code == 302
    assert "already turned on" in text_of(employee_client.get("/profile/two-factor"))
    assert post_form(employee_client, "/profile/two-factor/totp").status_code == 302


def test_a_wrong_confirmation_code_keeps_the_app_off(app, employee, employee_client, clock):
    post_form(employee_client, "/profile/two-factor/totp")
    response = post_form(employee_client, "/profile/two-factor/totp/confirm", {"code": "000000"})
    assert response.status_code == 200
    assert "This code is not right." in text_of(response)
    with app.app_context():
        assert db.session.execute(select(TotpCredential)).scalar_one().confirmed_at is None
    log_out(employee_client)
    assert password_step(employee_client, employee["email"]).headers["Location"] == "/"


def test_turning_the_app_off_needs_the_password(app, enrolled, clock):
    client = enrolled["client"]
    sign_in(client, enrolled["email"])
    response = post_form(client, "/profile/two-factor/totp/disable",
                         {"disable-csrf_token": session_csrf_token(client),
                          "disable-password": "not my password"})
    assert response.status_code == 400 and "Wrong password." in text_of(response)
    response = post_form(client, "/profile/two-factor/totp/disable",
                         {"disable-csrf_token": session_csrf_token(client),
                          "disable-password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    log_out(client)
    assert password_step(client, enrolled["email"]).headers["Location"] == "/"
    log = events(app, enrolled["id"])
    assert ("totp_disabled", "") in log and ("second_factor_failed", "") in log


# --- recovery codes --------------------------------------------------------------------------

def test_a_recovery_code_works_once(app, enrolled):
    client = enrolled["client"]
    code = enrolled["codes"][3]
    password_step(client, enrolled["email"])
    response = second_step(client, code.upper().replace("-", " "))  # as typed from paper
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert ("recovery_code_used", "recovery") in events(app, enrolled["id"])
    assert ("signed_in", "recovery") in events(app, enrolled["id"])
    log_out(client)
    password_step(client, enrolled["email"])
    response = second_step(client, code)
    assert "not right or was already used" in text_of(response)
    assert client.get("/").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(app, enrolled):
    client = enrolled["client"]
    sign_in(client, enrolled["email"])
    wrong = post_form(client, "/profile/two-factor/recovery-codes",
                      {"codes-csrf_token": session_csrf_token(client), "codes-password": "nope"})
    assert wrong.status_code == 400 and "Wrong password." in text_of(wrong)
    response = post_form(client, "/profile/two-factor/recovery-codes",
                         {"codes-csrf_token": session_csrf_token(client),
                          "codes-password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    new_codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", text_of(response))
    assert len(new_codes) == 10 and not set(new_codes) & set(enrolled["codes"])
    assert ("recovery_codes_renewed", "") in events(app, enrolled["id"])
    log_out(client)
    password_step(client, enrolled["email"])
    assert "not right" in text_of(second_step(client, enrolled["codes"][0]))
    assert second_step(client, new_codes[0]).status_code == 302


# --- the pending second step -----------------------------------------------------------------

def test_too_many_wrong_codes_send_back_to_the_password(app, enrolled):
    app.config["SIGNET_SECOND_FACTOR_TRIES"] = 3
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    assert second_step(client, "000000").status_code == 200
    assert second_step(client, "aaaaa-bbbbb").status_code == 200
    response = second_step(client, "000001")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get(SECOND_STEP).headers["Location"].endswith("/login")
    assert second_step(client, enrolled["codes"][0]).headers["Location"].endswith("/login")
    assert client.get("/").status_code == 302


def test_wrong_codes_are_rate_limited_per_account(app, enrolled, clock):
    app.config["SIGNET_SECOND_FACTOR_LIMIT"] = "2 per minute"
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    second_step(client, "000000")
    second_step(client, "000000")
    clock.advance()
    response = second_step(client, code_at(enrolled["secret"], clock.now))
    assert response.status_code == 429
    assert "Too many wrong codes" in text_of(response)
    # Another browser (a new pending sign-in of the same account) is held back too.
    other = app.test_client()
    password_step(other, enrolled["email"])
    assert second_step(other, code_at(enrolled["secret"], clock.now)).status_code == 429


def test_wrong_codes_are_rate_limited_per_address(app, enrolled, clock):
    app.config["SIGNET_SECOND_FACTOR_ADDRESS_LIMIT"] = "1 per minute"
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    second_step(client, "000000")
    assert second_step(client, "000000").status_code == 429


def test_the_second_step_expires(app, enrolled, clock):
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    app.config["SIGNET_SECOND_FACTOR_MINUTES"] = 0
    time.sleep(0.01)
    clock.advance()
    response = second_step(client, code_at(enrolled["secret"], clock.now))
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "took too long" in text_of(client.get("/login"))
    assert client.get("/").status_code == 302


def test_the_second_step_without_a_password_first_goes_to_login(client):
    assert client.get(SECOND_STEP).headers["Location"].endswith("/login")
    response = post_form(client, SECOND_STEP, {"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_the_second_step_without_csrf_is_refused(enrolled, clock):
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    clock.advance()
    response = client.post(SECOND_STEP, data={"code": code_at(enrolled["secret"], clock.now)})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_cancel_goes_back_to_the_password(enrolled):
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    assert post_form(client, f"{SECOND_STEP}/cancel").headers["Location"].endswith("/login")
    assert client.get(SECOND_STEP).headers["Location"].endswith("/login")


def test_passkey_options_without_a_pending_sign_in(client):
    response = client.post(f"{SECOND_STEP}/passkey/options",
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 409 and response.json["redirect"] == "/login"


# --- roles that require a second factor ------------------------------------------------------

def _require_for(app, role_key: str = "employee") -> int:
    with app.app_context():
        role = db.session.execute(select(Role).where(Role.key == role_key)).scalar_one()
        role.require_two_factor = True
        db.session.commit()
        return role.id


def test_the_role_page_sets_the_requirement(app, admin_client):
    with app.app_context():
        role_id = db.session.execute(select(Role.id).where(Role.key == "employee")).scalar_one()
    page = text_of(admin_client.get(f"/admin/roles/{role_id}"))
    assert 'name="require_two_factor"' in page
    response = post_form(admin_client, f"/admin/roles/{role_id}/two-factor",
                         {"require_two_factor": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Role, role_id).require_two_factor is True
    [box] = re.findall(r'<input[^>]*name="require_two_factor"[^>]*>',
                       text_of(admin_client.get(f"/admin/roles/{role_id}")))
    assert " checked" in box
    assert "two-factor sign-in required" in text_of(admin_client.get("/admin/roles"))
    post_form(admin_client, f"/admin/roles/{role_id}/two-factor", {})
    assert "two-factor sign-in required" not in text_of(admin_client.get("/admin/roles"))
    with app.app_context():
        assert db.session.get(Role, role_id).require_two_factor is False


def test_only_permission_editors_set_the_requirement(app, employee_client):
    role_id = _require_for(app, "administrator")
    response = post_form(employee_client, f"/admin/roles/{role_id}/two-factor", {})
    assert response.status_code in (302, 403)
    with app.app_context():
        assert db.session.get(Role, role_id).require_two_factor is True


def test_a_user_whose_role_requires_it_is_guided_to_enrol(app, employee, client, clock):
    _require_for(app)
    response = password_step(client, employee["email"])
    assert response.headers["Location"].endswith("/profile/two-factor")
    page = client.get("/profile/two-factor")
    assert page.status_code == 200 and "Set up two-factor sign-in to continue." in text_of(page)
    for path in ("/", "/documents", "/profile", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/profile/two-factor"), path
    htmx = client.get("/documents", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].endswith("/profile/two-factor")
    assert post_form(client, "/profile/tokens", {"name": "x"}).status_code == 302
    with app.app_context():
        assert db.session.execute(select(StaffSession)).scalar_one().second_factor_due

    enrol_totp(client, clock)
    assert client.get("/").status_code == 200
    assert client.get("/profile").status_code == 200


def test_the_requirement_reaches_holders_through_their_department(app, clock):
    with app.app_context():
        department = make_department("Finance")
        role = Role(name="Treasurer", require_two_factor=True)
        department.roles.append(role)
        db.session.add(role)
        db.session.commit()
        child = make_department("Payments", parent=department)
        make_user(email="pay@example.com", department=child)
    client = app.test_client()
    assert password_step(client, "pay@example.com").headers["Location"].endswith(
        "/profile/two-factor")
    assert client.get("/documents").headers["Location"].endswith("/profile/two-factor")


def test_a_due_session_cannot_be_lifted_by_its_cookie(app, employee, client):
    """The restriction lives in the session row: logging out keeps nothing, and a second
    password login is restricted again."""
    _require_for(app)
    password_step(client, employee["email"])
    log_out(client)
    password_step(client, employee["email"])
    assert client.get("/").headers["Location"].endswith("/profile/two-factor")


def test_a_required_second_factor_cannot_be_removed(app, enrolled):
    _require_for(app)
    client = enrolled["client"]
    sign_in(client, enrolled["email"])
    response = post_form(client, "/profile/two-factor/totp/disable",
                         {"disable-csrf_token": session_csrf_token(client),
                          "disable-password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "requires two-factor sign-in" in text_of(response)
    with app.app_context():
        assert db.session.execute(select(TotpCredential)).scalar_one().confirmed_at


def test_a_user_with_a_factor_and_a_requiring_role_signs_in_normally(app, enrolled, clock):
    _require_for(app)
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    clock.advance()
    assert second_step(client, code_at(enrolled["secret"], clock.now)).status_code == 302
    assert client.get("/documents").status_code == 200


def test_without_a_requirement_nobody_is_restricted(app, employee, client):
    assert password_step(client, employee["email"]).headers["Location"] == "/"
    assert client.get("/").status_code == 200


# --- the profile -----------------------------------------------------------------------------

def test_the_profile_shows_two_factor_sign_in(app, employee_client):
    page = text_of(employee_client.get("/profile"))
    assert "Two-factor sign-in" in page and "/profile/two-factor" in page


def test_the_two_factor_page_lists_state(enrolled):
    client = enrolled["client"]
    sign_in(client, enrolled["email"])
    page = text_of(client.get("/profile/two-factor"))
    assert "10 unused codes left." in page
    assert "Turn off the authenticator app" in page


def test_user_deactivated_during_the_second_step(app, enrolled, clock):
    client = enrolled["client"]
    password_step(client, enrolled["email"])
    with app.app_context():
        db.session.get(User, enrolled["id"]).active = False
        db.session.commit()
    clock.advance()
    response = second_step(client, code_at(enrolled["secret"], clock.now))
    assert response.headers["Location"].endswith("/login")
    assert client.get("/").status_code == 302


def test_an_accepted_invitation_of_a_requiring_role_is_restricted_too(app, admin_client):
    role_id = _require_for(app)
    post_form(admin_client, "/admin/users/new", {"email": "new@example.com", "name": "New",
                                                 "roles": str(role_id)})
    token = "invite-token-for-test"
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "new@example.com")
                                  ).scalar_one()
        user.invite_token_hash = hash_token(token)  # the mailed link's secret, known here
        db.session.commit()
    client = app.test_client()
    response = post_form(client, f"/invite/{token}", {"password": "a new long password",
                                                      "confirm": "a new long password"})
    assert response.status_code == 302
    assert client.get("/documents").headers["Location"].endswith("/profile/two-factor")


def test_confirmation_codes_and_password_checks_are_rate_limited(app, employee_client, clock):
    app.config["SIGNET_SECOND_FACTOR_LIMIT"] = "2 per minute"
    post_form(employee_client, "/profile/two-factor/totp")
    for _ in range(2):
        assert post_form(employee_client, "/profile/two-factor/totp/confirm",
                         {"code": "000000"}).status_code == 200
    response = post_form(employee_client, "/profile/two-factor/totp/confirm",
                         {"code": "000000"})
    assert response.status_code == 429
    assert "Too many attempts" in text_of(response)
