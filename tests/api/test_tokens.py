"""Personal API tokens through the profile page: shown once, stored hashed, revocable."""

import re

from portal.auth.models import ApiToken
from portal.extensions import db
from portal.tokens import hash_token
from tests.api.support import bearer, make_token
from tests.factories import make_user
from tests.helpers import csrf_token, post_form, text_of

SECRET = re.compile(r'id="new-token-secret"[^>]*value="(sgt_[A-Za-z0-9_\-]+)"')


def _create(client, name="CRM integration", **headers):
    return post_form(client, "/profile/tokens", {"name": name}, headers=headers)


def test_profile_shows_the_user_and_an_empty_token_list(employee_client):
    page = text_of(employee_client.get("/profile"))
    assert "Emil Employee" in page and "emp@example.com" in page
    assert "API tokens" in page and "You have no API tokens." in page
    assert 'href="/profile"' in page  # the menu links to it


def test_profile_needs_a_login(client):
    response = client.get("/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(app, employee_client, employee):
    response = _create(employee_client)
    page = text_of(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = SECRET.search(page).group(1)
    assert "It will not be shown again" in page

    with app.app_context():
        token = db.session.execute(db.select(ApiToken)).scalar_one()
        assert token.user_id == employee["id"] and token.name == "CRM integration"
        assert token.token_hash == hash_token(secret) and secret not in token.token_hash
        assert token.prefix == secret[:10] and token.prefix.startswith("sgt_")

    # The secret works, and the list shows its prefix, never the secret itself.
    assert app.test_client().get("/api/v1/documents", headers=bearer(secret)).status_code == 200
    again = text_of(employee_client.get("/profile"))
    assert secret not in again
    assert f"{secret[:10]}…" in again and "CRM integration" in again


def test_creating_through_htmx_returns_the_fragment(employee_client):
    response = _create(employee_client, **{"HX-Request": "true"})
    page = text_of(response)
    assert page.lstrip().startswith('<section class="card" id="api-tokens"')
    assert SECRET.search(page)
    assert "HX-Request" in response.headers["Vary"]


def test_a_token_needs_a_name(app, employee_client):
    page = text_of(_create(employee_client, name="   "))
    assert "Give the token a name" in page
    assert not SECRET.search(page)
    with app.app_context():
        assert db.session.execute(db.select(ApiToken)).first() is None


def test_an_overlong_name_is_refused_and_kept(employee_client):
    page = text_of(_create(employee_client, name="x" * 101))
    assert "Keep the name under 100 characters." in page
    assert 'value="' + "x" * 101 in page


def test_creating_without_the_csrf_token_is_refused(app, employee_client):
    response = employee_client.post("/profile/tokens", data={"name": "Sneaky"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.execute(db.select(ApiToken)).first() is None


def test_revoking_stops_the_token_at_once(app, employee_client, employee):
    secret = make_token(app, employee["id"], name="Old script")
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()

    response = post_form(employee_client, f"/profile/tokens/{token_id}/revoke")
    assert response.status_code == 302
    page = text_of(employee_client.get("/profile"))
    assert "Token “Old script” revoked." in page
    assert "Old script</td>" not in page
    assert app.test_client().get("/api/v1/documents", headers=bearer(secret)).status_code == 401
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None


def test_revoking_through_htmx_swaps_the_list(app, employee_client, employee):
    make_token(app, employee["id"], name="Old script")
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    response = employee_client.post(f"/profile/tokens/{token_id}/revoke",
                                    headers={"HX-Request": "true",
                                             "X-CSRFToken": csrf_token(employee_client)})
    page = text_of(response)
    assert response.status_code == 200 and 'id="api-tokens"' in page
    assert "Token “Old script” revoked." in page and "You have no API tokens." in page


def test_revoke_needs_post_and_csrf(app, employee_client, employee):
    make_token(app, employee["id"])
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    assert employee_client.get(f"/profile/tokens/{token_id}/revoke").status_code == 405
    assert employee_client.post(f"/profile/tokens/{token_id}/revoke").status_code == 400
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_nobody_can_revoke_another_users_token(app, employee_client):
    with app.app_context():
        other_id = make_user(email="other@example.com", name="Olga Other").id
    secret = make_token(app, other_id, name="Olga's")
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()

    response = post_form(employee_client, f"/profile/tokens/{token_id}/revoke",
                         follow_redirects=True)
    assert "does not exist or was already revoked" in text_of(response)
    assert "Olga" not in text_of(employee_client.get("/profile"))
    assert app.test_client().get("/api/v1/documents", headers=bearer(secret)).status_code == 200
