"""Passkeys through the pages, where no browser is needed: bad answers, another user's
passkey, the options the browser gets; and an administrator's reset of a user's factors."""

import json

import pytest
from sqlalchemy import select

from portal.auth.models import SecurityEvent
from portal.auth.two_factor.models import Passkey, RecoveryCode
from portal.extensions import db
from portal.models_base import utcnow
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import csrf_token, post_form, session_csrf_token, text_of


def _passkey(user_id: int, name: str = "Phone", credential_id: str = "AAEC") -> int:
    passkey = Passkey(user_id=user_id, name=name, credential_id=credential_id,
                      public_key=b"\x01\x02", sign_count=0, transports="internal",
                      created_at=utcnow())
    db.session.add(passkey)
    db.session.commit()
    return passkey.id


@pytest.fixture
def other_passkey(app):
    with app.app_context():
        other = make_user(email="other@example.com", name="Olga Other")
        return _passkey(other.id, "Olga's key", "b2xnYQ")


def test_registration_options_name_the_portal_and_exclude_known_passkeys(app, employee,
                                                                       employee_client):
    with app.app_context():
        _passkey(employee["id"])
    response = employee_client.post("/profile/two-factor/passkeys/options",
                                    headers={"X-CSRFToken": csrf_token(employee_client)})
    assert response.status_code == 200
    options = response.json
    assert options["rp"]["id"] == "localhost"
    assert options["user"]["name"] == employee["email"]
    assert [c["id"] for c in options["excludeCredentials"]] == ["AAEC"]
    assert len(options["challenge"]) >= 40


def test_options_need_the_csrf_token(employee_client):
    response = employee_client.post("/profile/two-factor/passkeys/options")
    assert response.status_code == 400


def test_a_forged_registration_is_refused_with_a_message(app, employee_client):
    employee_client.post("/profile/two-factor/passkeys/options",
                         headers={"X-CSRFToken": csrf_token(employee_client)})
    for credential in ("not json", json.dumps({"id": "x", "response": {}}), "[]"):
        response = post_form(employee_client, "/profile/two-factor/passkeys",
                             {"name": "Laptop", "credential": credential})
        assert response.status_code == 400
        body = text_of(response)
        assert "could not be verified" in body or "did not create a passkey" in body \
            or "expired" in body
    with app.app_context():
        assert db.session.execute(select(Passkey)).first() is None


def test_a_registration_without_a_challenge_expired(employee_client):
    response = post_form(employee_client, "/profile/two-factor/passkeys",
                         {"name": "Laptop", "credential": json.dumps({"id": "x"})})
    assert response.status_code == 400 and "expired" in text_of(response)


def test_a_passkey_needs_a_name(employee_client):
    response = post_form(employee_client, "/profile/two-factor/passkeys",
                         {"name": "", "credential": "{}"})
    assert response.status_code == 400 and "This field is required." in text_of(response)


def test_another_users_passkey_cannot_be_removed(app, employee_client, other_passkey):
    prefix = f"remove-{other_passkey}"
    response = post_form(employee_client,
                         f"/profile/two-factor/passkeys/{other_passkey}/remove",
                         {f"{prefix}-csrf_token": session_csrf_token(employee_client),
                          f"{prefix}-password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert "does not exist" in text_of(employee_client.get("/profile/two-factor"))
    with app.app_context():
        assert db.session.get(Passkey, other_passkey) is not None


def test_removing_a_passkey_needs_the_password(app, employee, employee_client):
    with app.app_context():
        passkey_id = _passkey(employee["id"])
    prefix = f"remove-{passkey_id}"
    url = f"/profile/two-factor/passkeys/{passkey_id}/remove"
    wrong = post_form(employee_client, url, {
        f"{prefix}-csrf_token": session_csrf_token(employee_client),
        f"{prefix}-password": "nope"})
    assert wrong.status_code == 400 and "Wrong password." in text_of(wrong)
    right = post_form(employee_client, url, {
        f"{prefix}-csrf_token": session_csrf_token(employee_client),
        f"{prefix}-password": DEFAULT_PASSWORD})
    assert right.status_code == 302
    with app.app_context():
        assert db.session.get(Passkey, passkey_id) is None
        kinds = db.session.execute(select(SecurityEvent.kind)).scalars().all()
        assert "passkey_removed" in kinds


def test_signing_in_with_another_users_passkey_is_refused(app, employee, client, other_passkey):
    with app.app_context():
        _passkey(employee["id"])
    post_form(client, "/login", {"email": employee["email"], "password": DEFAULT_PASSWORD})
    page = text_of(client.get("/login/second-factor"))
    assert "Use a passkey" in page
    options = client.post("/login/second-factor/passkey/options",
                          headers={"X-CSRFToken": csrf_token(client)}).json
    assert [c["id"] for c in options["allowCredentials"]] == ["AAEC"]
    forged = {"id": "b2xnYQ", "rawId": "b2xnYQ", "type": "public-key",
              "response": {"clientDataJSON": "e30", "authenticatorData": "AA",
                           "signature": "AA", "userHandle": None}}
    response = post_form(client, "/login/second-factor/passkey",
                         {"credential": json.dumps(forged)})
    assert response.status_code == 200
    assert "The passkey was not accepted." in text_of(response)
    assert client.get("/").status_code == 302
    with app.app_context():
        methods = db.session.execute(select(SecurityEvent.method).where(
            SecurityEvent.kind == "second_factor_failed")).scalars().all()
        assert methods == ["passkey"]


def test_an_administrator_turns_off_a_users_second_factors(app, admin_client, employee):
    with app.app_context():
        _passkey(employee["id"])
        db.session.add(RecoveryCode(user_id=employee["id"], code_hash="x" * 64,
                                    created_at=utcnow()))
        db.session.commit()
    page = text_of(admin_client.get(f"/admin/users/{employee['id']}/edit"))
    assert "Turn off two-factor sign-in" in page
    response = post_form(admin_client, f"/admin/users/{employee['id']}/two-factor/reset")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.execute(select(Passkey)).first() is None
        assert db.session.execute(select(RecoveryCode)).first() is None
        event = db.session.execute(select(SecurityEvent).where(
            SecurityEvent.kind == "passkey_removed")).scalar_one()
        assert event.actor_id is not None and event.user_id == employee["id"]
    client = app.test_client()
    response = post_form(client, "/login", {"email": employee["email"],
                                            "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/"


def test_only_permission_editors_reset_factors(app, employee, employee_client):
    with app.app_context():
        _passkey(employee["id"])
        other_id = make_user(email="o@example.com").id
    response = post_form(employee_client, f"/admin/users/{other_id}/two-factor/reset")
    assert response.status_code in (302, 403)
    with app.app_context():
        assert db.session.execute(select(Passkey)).first() is not None
