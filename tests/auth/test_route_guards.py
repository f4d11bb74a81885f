"""Every route asks permissions.py: walk the whole URL map, as nobody and as a user with no role.

A route added later without a guard fails here: it answers a roleless user with something other
than 403 (or sends an anonymous visitor anywhere but the login page).
"""

import re

import pytest
from werkzeug.routing import Rule
from werkzeug.security import generate_password_hash

from portal.api import tokens
from portal.auth.models import Department, User
from portal.delivery.models import Message
from portal.extensions import db
from tests.documents.support import make_template
from tests.factories import make_counterparty, make_document_row, make_user
from tests.helpers import sign_in

# Public by design: signing links, verification, the signed download link, the API description.
PUBLIC_ENDPOINTS = {"static", "auth.login", "home.health", "downloads.final_pdf", "api.openapi",
                    "api.no_such_route",
                    # the login's second step: for whoever just gave the right password
                    "two_factor.second_factor", "two_factor.cancel_second_factor",
                    "two_factor.passkey_sign_in_options", "two_factor.passkey_sign_in"}
# sso.: single sign-on, a way in; public_links.: a template published for anyone to sign;
# bundles.: the company signer's batch ceremony, a signing link like signing.; pki.: the CA's
# certificate and revocation list, which every seal names for any reader to fetch.
PUBLIC_BLUEPRINTS = ("signing.", "verify.", "invite.", "sso.", "public_links.", "bundles.",
                     "pki.")
# Belong to every account, whatever its roles: the start page, the profile, log out, language.
EVERY_ACCOUNT = {"home.index", "profile.index", "profile.create_token", "profile.revoke_token",
                 "auth.logout", "i18n.choose_language", "account.change_password",
                 "account.end_session", "account.end_every_session", "account.security_events",
                 # one's own second factors
                 "two_factor.manage", "two_factor.start_totp", "two_factor.setup_totp",
                 "two_factor.confirm_totp", "two_factor.cancel_totp", "two_factor.disable_totp",
                 "two_factor.regenerate_codes", "two_factor.passkey_options",
                 "two_factor.add_passkey", "two_factor.remove_passkey"}
ARGUMENT_VALUES = {"section": "documents", "action": "view", "page": 1}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
PASSWORD = "correct horse battery"


def _guarded(rule: Rule) -> bool:
    return (rule.endpoint not in PUBLIC_ENDPOINTS | EVERY_ACCOUNT
            and not rule.endpoint.startswith(PUBLIC_BLUEPRINTS))


def _requests(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every guarded rule, object ids pointing at existing rows."""
    found = []
    for rule in app.url_map.iter_rules():
        if not _guarded(rule):
            continue
        values = {name: ARGUMENT_VALUES.get(name, 1) for name in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url))
    return found


@pytest.fixture
def roleless(app):
    """A signed-in client and an API token of an active user who holds no role at all,
    with one row of every kind the routes look up (id 1), owned by somebody else."""
    with app.app_context():
        owner = make_user(email="owner@example.com", name="Owner", is_admin=True)
        make_document_row(owner.id)
        make_counterparty()
        make_template()
        db.session.add(Department(name="Sales"))
        db.session.add(Message(channel="email", recipient="a@example.com", subject="Hello",
                               body_text="Hello"))
        nobody = User(email="nobody@example.com", name="Nobody",
                      password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"))
        db.session.add(nobody)
        db.session.commit()
        secret = tokens.create_token(nobody, "CI")[1]
    client = app.test_client()
    sign_in(client, "nobody@example.com")
    home = client.get("/").get_data(as_text=True)
    return client, CSRF_META.search(home).group(1), secret


def test_a_user_without_roles_is_refused_on_every_guarded_route(app, roleless):
    client, csrf, secret = roleless
    answered = {}
    for endpoint, method, url in _requests(app):
        headers = {"X-CSRFToken": csrf}
        if url.startswith("/api/"):
            headers["Authorization"] = f"Bearer {secret}"
        response = client.open(url, method=method, headers=headers)
        answered[f"{method} {url} ({endpoint})"] = response.status_code
    allowed = {request: status for request, status in answered.items() if status != 403}
    assert len(answered) > 100 and not allowed


def test_anonymous_visitors_are_sent_to_log_in(app):
    client = app.test_client()
    csrf = CSRF_META.search(client.get("/login").get_data(as_text=True)).group(1)
    for endpoint, method, url in _requests(app):
        response = client.open(url, method=method, headers={"X-CSRFToken": csrf})
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url, endpoint)
        else:
            assert response.status_code == 302, (method, url, endpoint)
            assert "/login" in response.headers["Location"], (method, url, endpoint)


def test_every_account_still_reaches_its_own_pages(app, roleless):
    client, _csrf, _secret = roleless
    assert client.get("/").status_code == 200
    assert client.get("/profile").status_code == 200
