"""Login, logout, sessions, CSRF and the login rate limit."""

from portal.auth.models import User
from portal.extensions import db
from tests.factories import make_user
from tests.helpers import csrf_token, login, post_form, text_of


def test_login_page_renders_with_csrf_token(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in text_of(response)


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_with_right_password_opens_home(client, admin):
    login(client, admin["email"], admin["password"])
    page = client.get("/")
    assert page.status_code == 200
    assert "Ada Admin" in text_of(page)


def test_login_email_is_case_insensitive(client, admin):
    login(client, "  ADMIN@Example.com ", admin["password"])
    assert client.get("/").status_code == 200


def test_wrong_password_shows_message_and_keeps_email(client, admin):
    response = post_form(client, "/login", {"email": admin["email"], "password": "nope"})
    body = text_of(response)
    assert response.status_code == 200
    assert "Wrong email or password." in body
    assert f'value="{admin["email"]}"' in body
    assert client.get("/").status_code == 302


def test_unknown_email_gets_the_same_message(client):
    response = post_form(client, "/login", {"email": "ghost@example.com", "password": "x"})
    assert "Wrong email or password." in text_of(response)


def test_empty_form_shows_field_errors(client):
    response = post_form(client, "/login", {"email": "", "password": ""})
    assert response.status_code == 200
    assert "This field is required." in text_of(response)


def test_post_without_csrf_token_is_refused(client, admin):
    response = client.post("/login", data={"email": admin["email"], "password": admin["password"]})
    assert response.status_code == 400
    assert "Form expired" in text_of(response)
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_log_in(app, client):
    with app.app_context():
        make_user(email="gone@example.com", active=False)
    response = post_form(client, "/login", {"email": "gone@example.com",
                                            "password": "correct horse battery"})
    assert "deactivated" in text_of(response)
    assert client.get("/").status_code == 302


def test_deactivation_ends_an_open_session(app, admin_client, admin):
    with app.app_context():
        user = db.session.get(User, admin["id"])
        user.active = False
        db.session.commit()
    assert admin_client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, admin):
    response = login(client, admin["email"], admin["password"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_logout_ends_the_session(admin_client):
    response = post_form(admin_client, "/logout")
    assert response.status_code == 302
    assert admin_client.get("/").status_code == 302


def test_logout_needs_post(admin_client):
    assert admin_client.get("/logout").status_code == 405


def test_repeated_failures_are_rate_limited_with_a_clear_message(client, admin):
    token = csrf_token(client)
    statuses = []
    for _ in range(6):
        response = client.post("/login", data={"email": admin["email"], "password": "bad",
                                               "csrf_token": token})
        statuses.append(response.status_code)
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    assert "Too many login attempts" in text_of(response)
    # Even the right password waits until the window passes.
    blocked = client.post("/login", data={"email": admin["email"], "password": admin["password"],
                                          "csrf_token": token})
    assert blocked.status_code == 429


def test_next_parameter_cannot_redirect_off_site(client, admin):
    response = post_form(client, "/login?next=//evil.example/",
                         {"email": admin["email"], "password": admin["password"]})
    assert response.headers["Location"] == "/"


def test_next_parameter_returns_to_the_page(client, admin):
    response = post_form(client, "/login?next=/counterparties",
                         {"email": admin["email"], "password": admin["password"]})
    assert response.headers["Location"] == "/counterparties"


def test_login_limit_is_shared_between_processes_through_redis(make_app, redis_client, redis_url,
                                                               admin):
    # Two app instances stand for two gunicorn workers behind one proxy.
    first = make_app(RATELIMIT_STORAGE_URI=redis_url, SIGNET_LOGIN_LIMIT="3 per minute")
    first_client = first.test_client()
    token = csrf_token(first_client)
    for _ in range(3):
        refused = first_client.post("/login", data={"email": admin["email"], "password": "bad",
                                                    "csrf_token": token})
        assert refused.status_code == 200
    second = make_app(RATELIMIT_STORAGE_URI=redis_url, SIGNET_LOGIN_LIMIT="3 per minute")
    second_client = second.test_client()
    response = second_client.post("/login", data={"email": admin["email"], "password": "bad",
                                                  "csrf_token": csrf_token(second_client)})
    assert response.status_code == 429
