"""Who may call the API: a live token of an active user, never a session cookie alone."""

from datetime import timedelta

from portal.auth.models import ApiToken, User
from portal.extensions import db
from portal.models_base import utcnow
from tests.api.support import bearer, error_of, make_token
from tests.factories import make_company, make_document_row, make_user
from tests.helpers import sign_in


def test_without_a_token_the_answer_is_a_json_401(client):
    response = client.get("/api/v1/documents")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = error_of(response)
    assert error["code"] == "unauthorized"
    assert "Authorization: Bearer" in error["message"]


def test_an_unknown_or_malformed_token_is_refused(app, client, employee):
    secret = make_token(app, employee["id"])
    for header in (f"Bearer {secret}x", "Bearer sgt_nothing", f"Token {secret}", secret,
                   "Bearer", f"Bearer {'a' * 5000}"):
        response = client.get("/api/v1/documents", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert error_of(response)["code"] == "unauthorized"


def test_a_token_of_a_deactivated_user_stops_working(app, client, employee):
    secret = make_token(app, employee["id"])
    assert client.get("/api/v1/documents", headers=bearer(secret)).status_code == 200
    with app.app_context():
        db.session.get(User, employee["id"]).active = False
        db.session.commit()
    response = client.get("/api/v1/documents", headers=bearer(secret))
    assert response.status_code == 401
    assert "deactivated" in error_of(response)["message"]


def test_a_logged_in_browser_session_does_not_authenticate_the_api(app, employee_client):
    response = employee_client.get("/api/v1/documents")
    assert response.status_code == 401 and error_of(response)["code"] == "unauthorized"
    # A cross-site POST riding on the cookie gets no further (and no CSRF page either).
    response = employee_client.post("/api/v1/documents/1/send")
    assert response.status_code == 401 and error_of(response)["code"] == "unauthorized"


def test_the_token_acts_as_its_user_whatever_cookie_comes_along(app, employee):
    with app.app_context():
        boss_id = make_user(email="boss@example.com", name="Bea Boss", is_admin=True).id
        make_document_row(boss_id, title="The boss's contract")
    client = app.test_client()
    sign_in(client, "boss@example.com")
    response = client.get("/api/v1/documents", headers=bearer(make_token(app, employee["id"])))
    # The administrator's cookie lends the employee's token nothing.
    assert response.status_code == 200 and response.get_json()["total"] == 0
    assert "Set-Cookie" not in response.headers
    response = client.get("/api/v1/documents", headers=bearer(make_token(app, boss_id)))
    assert [item["title"] for item in response.get_json()["items"]] == ["The boss's contract"]


def test_last_used_is_recorded_at_most_once_a_minute(app, client, employee):
    secret = make_token(app, employee["id"])
    with app.app_context():
        assert db.session.execute(db.select(ApiToken.last_used_at)).scalar_one() is None

    client.get("/api/v1/documents", headers=bearer(secret))
    with app.app_context():
        first = db.session.execute(db.select(ApiToken.last_used_at)).scalar_one()
        assert first is not None
    client.get("/api/v1/documents", headers=bearer(secret))
    with app.app_context():
        assert db.session.execute(db.select(ApiToken.last_used_at)).scalar_one() == first
        token = db.session.execute(db.select(ApiToken)).scalar_one()
        token.last_used_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    client.get("/api/v1/documents", headers=bearer(secret))
    with app.app_context():
        latest = db.session.execute(db.select(ApiToken.last_used_at)).scalar_one()
        assert latest.replace(tzinfo=None) > first.replace(tzinfo=None)


def test_each_token_has_its_own_rate_limit(make_app):
    app = make_app(SIGNET_API_LIMIT="3 per minute")
    with app.app_context():
        employee_id = make_user(email="emp@example.com", name="Emil").id
    first, second = make_token(app, employee_id, "one"), make_token(app, employee_id, "two")
    client = app.test_client()
    statuses = [client.get("/api/v1/documents", headers=bearer(first)).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/companies", headers=bearer(first))
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "rate_limited" and "Too many requests" in error["message"]
    assert response.headers["Retry-After"]
    # Another token of the same user has its own budget.
    assert client.get("/api/v1/documents", headers=bearer(second)).status_code == 200


def test_requests_without_a_valid_token_are_limited_per_address(make_app):
    app = make_app(SIGNET_API_LIMIT="2 per minute")
    client = app.test_client()
    statuses = [client.get("/api/v1/documents", headers=bearer(f"sgt_guess{n}")).status_code
                for n in range(3)]
    assert statuses == [401, 401, 429]


def test_unknown_api_routes_and_methods_answer_in_json(app, client, employee):
    secret = make_token(app, employee["id"])
    response = client.get("/api/v1/nothing-here", headers=bearer(secret))
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    for path in ("/api/v2/documents", "/api", "/api/"):
        response = client.get(path)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    response = client.delete("/api/v1/documents", headers=bearer(secret))
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_an_unexpected_failure_is_a_json_500(app, client, employee, monkeypatch):
    import portal.api.lookups

    def broken(company):
        raise RuntimeError("boom")

    monkeypatch.setattr(portal.api.lookups, "company_json", broken)
    with app.app_context():
        make_company()
    response = client.get("/api/v1/companies", headers=bearer(make_token(app, employee["id"])))
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error" and "boom" not in error["message"]
