"""Single sign-on with OpenID Connect, against a real provider (node oidc-provider) on loopback."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import SecurityEvent, StaffSession, User
from portal.auth.oidc.settings import GroupGrant, GroupMapInvalid, parse_group_map
from portal.auth.roles import ADMINISTRATOR, SUPERVISOR, give_role
from portal.config import build_config
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.extensions import db
from tests.auth.oidc_support import local_path, sign_in_at_provider
from tests.auth.test_invites import invite, invite_links, pending_user
from tests.factories import make_department, make_user
from tests.helpers import login, post_form, text_of
from tests.services import free_port

GROUP_MAP = ("signet-admins=role:Administrator; "
             "sales=department:Sales,role:Supervisor; support=department:Support")


def start(client, path="/login/sso"):
    """Ask Signet for the provider's sign-in page; the URL it sends the browser to."""
    response = client.get(path)
    assert response.status_code == 302, text_of(response)[:500]
    return response.headers["Location"]


def sso_sign_in(client, account, path="/login/sso"):
    """The whole round trip: Signet, the provider's sign-in page, back to Signet's callback."""
    return client.get(local_path(sign_in_at_provider(start(client, path), account)))


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def user_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(User.id))).scalar()


def holdings(app, email):
    """(role keys or names, department path) of a user."""
    with app.app_context():
        user = db.session.execute(select(User).filter_by(email=email)).scalar_one()
        return ({role.key or role.name for role in user.roles},
                user.department.path if user.department else None)


# --- the login page --------------------------------------------------------------------------

def test_login_page_has_no_button_without_settings(client):
    assert "Sign in with" not in text_of(client.get("/login"))
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404


def test_login_page_offers_the_provider_when_configured(sso_app):
    body = text_of(sso_app.test_client().get("/login?next=/counterparties"))
    assert "Sign in with Test IdP" in body
    assert 'href="/login/sso?next=/counterparties"' in body
    assert 'name="password"' in body  # password login stays on by default


# --- signing in ------------------------------------------------------------------------------

def test_an_existing_user_signs_in(sso_app, oidc_provider):
    with sso_app.app_context():
        make_user(email="ana@example.com", name="Ana Local")
    client = sso_app.test_client()
    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(oidc_provider.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert query["redirect_uri"] == ["http://127.0.0.1/login/sso/callback"]
    response = client.get(local_path(sign_in_at_provider(authorize, "ana")))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Ana Local" in text_of(client.get("/"))  # the provider's name does not replace ours
    with sso_app.app_context():
        user = db.session.execute(select(User).filter_by(email="ana@example.com")).scalar_one()
        assert user.last_login_at is not None


def test_the_address_matches_whatever_its_case(sso_app):
    with sso_app.app_context():
        make_user(email="ana@example.com")
    client = sso_app.test_client()
    assert sso_sign_in(client, "shouty").status_code == 302
    assert signed_in(client)


def test_sign_in_returns_to_the_page_asked_for(sso_app):
    with sso_app.app_context():
        make_user(email="ana@example.com")
    client = sso_app.test_client()
    response = sso_sign_in(client, "ana", "/login/sso?next=/counterparties")
    assert response.headers["Location"] == "/counterparties"


def test_first_sign_in_creates_the_user_with_the_default_role(sso_app):
    sso_app.config["SIGNET_OIDC_CREATE_USERS"] = True
    client = sso_app.test_client()
    assert sso_sign_in(client, "nina").status_code == 302
    assert signed_in(client)
    with sso_app.app_context():
        user = db.session.execute(select(User).filter_by(email="nina@example.com")).scalar_one()
        assert user.name == "Nina Newcomer"
        assert [role.key for role in user.roles] == ["employee"]
        assert user.password_hash is None and user.active
        events = db.session.execute(select(AuditEvent).filter_by(type="role.assigned")).scalars()
        assert [event.details["added"] for event in events] == [["Employee"]]


def test_created_users_get_the_role_the_setting_names(sso_app):
    sso_app.config.update(SIGNET_OIDC_CREATE_USERS=True, SIGNET_OIDC_DEFAULT_ROLE="Supervisor")
    with sso_app.app_context():
        make_user(email="someone@example.com")  # the built-in roles exist
    assert sso_sign_in(sso_app.test_client(), "nina").status_code == 302
    assert holdings(sso_app, "nina@example.com") == ({SUPERVISOR}, None)


def test_an_unknown_address_is_refused_when_creation_is_off(sso_app):
    client = sso_app.test_client()
    response = sso_sign_in(client, "ghost")
    assert response.status_code == 403
    assert "No Signet account uses ghost@example.com" in text_of(response)
    assert user_count(sso_app) == 0
    assert not signed_in(client)
    with sso_app.app_context():
        refusal = db.session.execute(select(SecurityEvent)).scalar_one()
    assert (refusal.kind, refusal.method) == ("sign_in_failed", "oidc")
    assert "ghost@example.com" in refusal.detail


def test_a_single_sign_on_opens_a_session_marked_as_such(sso_app):
    with sso_app.app_context():
        make_user(email="ana@example.com")
    client = sso_app.test_client()
    assert sso_sign_in(client, "ana").status_code == 302
    with sso_app.app_context():
        session = db.session.execute(select(StaffSession)).scalar_one()
        event = db.session.execute(select(SecurityEvent)).scalar_one()
    assert session.method == "oidc" and (event.kind, event.method) == ("signed_in", "oidc")


def test_a_deactivated_account_is_refused(sso_app):
    with sso_app.app_context():
        make_user(email="ana@example.com", active=False)
    client = sso_app.test_client()
    response = sso_sign_in(client, "ana")
    assert response.status_code == 403
    assert "deactivated" in text_of(response)
    assert not signed_in(client)


@pytest.mark.parametrize(("account", "message"), [
    ("eve", "has not verified your email address"),
    ("nomail", "did not send your email address"),
])
def test_an_unverified_or_missing_address_is_refused(sso_app, account, message):
    sso_app.config["SIGNET_OIDC_CREATE_USERS"] = True
    client = sso_app.test_client()
    response = sso_sign_in(client, account)
    assert response.status_code == 403
    assert message in text_of(response)
    assert user_count(sso_app) == 0


# --- the group map ---------------------------------------------------------------------------

def test_groups_give_roles_and_a_department_and_follow_the_provider(sso_app, admin):
    sso_app.config.update(SIGNET_OIDC_GROUPS_CLAIM="groups", SIGNET_OIDC_GROUP_MAP=GROUP_MAP)
    with sso_app.app_context():
        make_department("Sales")
        make_department("Support")
        make_user(email="sam@example.com")
    assert sso_sign_in(sso_app.test_client(), "sam").status_code == 302
    assert holdings(sso_app, "sam@example.com") == (
        {"employee", ADMINISTRATOR, SUPERVISOR}, "Sales")
    # Next time the provider puts Sam in "support" only: what the map gave goes, Employee (which
    # the map does not name) stays.
    assert sso_sign_in(sso_app.test_client(), "sam-moved").status_code == 302
    assert holdings(sso_app, "sam@example.com") == ({"employee"}, "Support")
    with sso_app.app_context():
        changes = [(event.details["added"], event.details["removed"]) for event in
                   db.session.execute(select(AuditEvent).filter_by(type="role.assigned")
                                      .order_by(AuditEvent.id)).scalars()]
    assert changes[-2:] == [(["Administrator", "Supervisor"], []),
                            ([], ["Administrator", "Supervisor"])]


def test_a_created_user_gets_the_groups_too(sso_app):
    sso_app.config.update(SIGNET_OIDC_GROUPS_CLAIM="groups", SIGNET_OIDC_GROUP_MAP=GROUP_MAP,
                          SIGNET_OIDC_CREATE_USERS=True)
    with sso_app.app_context():
        make_department("Sales")
    assert sso_sign_in(sso_app.test_client(), "sam").status_code == 302
    assert holdings(sso_app, "sam@example.com") == (
        {"employee", ADMINISTRATOR, SUPERVISOR}, "Sales")


def test_the_map_never_takes_the_last_manager_of_permissions(sso_app):
    sso_app.config.update(SIGNET_OIDC_GROUPS_CLAIM="groups", SIGNET_OIDC_GROUP_MAP=GROUP_MAP)
    with sso_app.app_context():
        make_department("Support")
        sam = make_user(email="sam@example.com")
        give_role(sam, ADMINISTRATOR)
        db.session.commit()
    client = sso_app.test_client()
    assert sso_sign_in(client, "sam-moved").status_code == 302
    assert signed_in(client)
    assert holdings(sso_app, "sam@example.com") == ({"employee", ADMINISTRATOR}, None)


def test_the_group_map_reads_its_format():
    assert parse_group_map(GROUP_MAP) == {
        "signet-admins": GroupGrant(("Administrator",)),
        "sales": GroupGrant(("Supervisor",), "Sales"),
        "support": GroupGrant((), "Support"),
    }
    assert parse_group_map("ops = department: Sales/ Lisbon ,role: Employee\n\n") == {
        "ops": GroupGrant(("Employee",), "Sales / Lisbon")}
    assert parse_group_map("") == {}


@pytest.mark.parametrize("text", [
    "sales", "=role:Employee", "sales=team:Red", "sales=role:", "sales=role:A; sales=role:B",
    "sales=department:A,department:B",
])
def test_a_bad_group_map_is_refused_with_the_setting_named(text):
    with pytest.raises(GroupMapInvalid, match="SIGNET_OIDC_GROUP_MAP"):
        parse_group_map(text)


def test_a_bad_group_map_stops_the_start(make_app):
    with pytest.raises(GroupMapInvalid, match="SIGNET_OIDC_GROUP_MAP"):
        make_app(SIGNET_OIDC_GROUP_MAP="signet-admins:Administrator")


def test_the_settings_come_from_the_environment(tmp_path, monkeypatch):
    off = build_config(tmp_path)
    assert (off["SIGNET_OIDC_DISCOVERY_URL"], off["SIGNET_OIDC_SCOPES"], off["SIGNET_OIDC_NAME"],
            off["SIGNET_OIDC_CREATE_USERS"], off["SIGNET_PASSWORD_LOGIN"]) == (
        "", "openid email profile", "SSO", False, True)
    monkeypatch.setenv("SIGNET_OIDC_ISSUER", "https://id.example.com/realms/staff/")
    monkeypatch.setenv("SIGNET_OIDC_CREATE_USERS", "yes")
    monkeypatch.setenv("SIGNET_PASSWORD_LOGIN", "off")
    monkeypatch.setenv("SIGNET_BREAK_GLASS_EMAILS", "Root@Example.com, ops@example.com")
    on = build_config(tmp_path)
    assert on["SIGNET_OIDC_DISCOVERY_URL"] == (
        "https://id.example.com/realms/staff/.well-known/openid-configuration")
    assert on["SIGNET_OIDC_CREATE_USERS"] is True and on["SIGNET_PASSWORD_LOGIN"] is False
    assert on["SIGNET_BREAK_GLASS_EMAILS"] == ["root@example.com", "ops@example.com"]
    monkeypatch.setenv("SIGNET_OIDC_DISCOVERY_URL", "https://id.example.com/custom")
    assert build_config(tmp_path)["SIGNET_OIDC_DISCOVERY_URL"] == "https://id.example.com/custom"


# --- what an attacker tries ------------------------------------------------------------------

def test_a_tampered_state_is_refused(sso_app):
    with sso_app.app_context():
        make_user(email="ana@example.com")
    client = sso_app.test_client()
    back = urlsplit(sign_in_at_provider(start(client), "ana"))
    query = {key: values[0] for key, values in parse_qs(back.query).items()}
    query["state"] = "forged" + query["state"]
    response = client.get(f"{back.path}?{urlencode(query)}")
    assert response.status_code == 400
    assert "no longer valid" in text_of(response)
    assert not signed_in(client)


def test_a_callback_started_in_another_browser_is_refused(sso_app):
    with sso_app.app_context():
        make_user(email="ana@example.com")
    callback = sign_in_at_provider(start(sso_app.test_client()), "ana")
    victim = sso_app.test_client()  # login CSRF: the attacker's code in the victim's browser
    response = victim.get(local_path(callback))
    assert response.status_code == 400
    assert not signed_in(victim)


def test_a_replayed_code_is_refused(sso_app):
    with sso_app.app_context():
        make_user(email="ana@example.com")
    client = sso_app.test_client()
    callback = sign_in_at_provider(start(client), "ana")
    assert client.get(local_path(callback)).status_code == 302
    post_form(client, "/logout")
    # The same answer again: its state was spent.
    again = client.get(local_path(callback))
    assert again.status_code == 400
    assert not signed_in(client)
    # The code with a fresh state of the attacker's own: the provider redeems a code once.
    code = parse_qs(urlsplit(callback).query)["code"][0]
    attacker = sso_app.test_client()
    state = parse_qs(urlsplit(start(attacker)).query)["state"][0]
    replay = attacker.get("/login/sso/callback?" + urlencode({"code": code, "state": state}))
    assert replay.status_code == 400
    assert "did not confirm this sign-in" in text_of(replay)
    assert not signed_in(attacker)


def test_an_error_from_the_provider_is_shown_not_raised(sso_app):
    client = sso_app.test_client()
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = client.get("/login/sso/callback?" + urlencode({
        "error": "access_denied", "error_description": "<script>x</script>", "state": state}))
    assert response.status_code == 403
    assert "cancelled or refused" in text_of(response)
    assert "<script>x" not in text_of(response)
    other = client.get("/login/sso/callback?error=server_error")
    assert other.status_code == 400


def test_an_issuer_other_than_ours_is_refused(sso_app):
    with sso_app.app_context():
        make_user(email="ana@example.com")
    client = sso_app.test_client()
    back = urlsplit(sign_in_at_provider(start(client), "ana"))
    query = {key: values[0] for key, values in parse_qs(back.query).items()}
    query["iss"] = "https://evil.example"
    assert client.get(f"{back.path}?{urlencode(query)}").status_code == 400
    assert not signed_in(client)


def test_a_provider_that_is_down_gives_a_message(app, oidc_provider):
    down = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    app.config.update(oidc_provider.settings(SIGNET_OIDC_DISCOVERY_URL=down))
    client = app.test_client()
    response = client.get("/login/sso")
    assert response.status_code == 503
    assert "cannot be reached" in text_of(response)
    assert 'name="email"' in text_of(response)  # the login page, the password form included
    callback = client.get("/login/sso/callback?code=x&state=y")
    assert callback.status_code in (400, 503)


def test_a_discovery_document_without_endpoints_gives_a_message(app, oidc_provider):
    app.config.update(oidc_provider.settings(
        SIGNET_OIDC_DISCOVERY_URL=oidc_provider.issuer + "/jwks"))  # JSON, but not that
    response = app.test_client().get("/login/sso")
    assert response.status_code == 503
    assert "cannot be reached" in text_of(response)


def test_roles_and_departments_the_map_names_wrongly_are_skipped(sso_app, admin, caplog):
    sso_app.config.update(SIGNET_OIDC_GROUPS_CLAIM="groups", SIGNET_OIDC_GROUP_MAP=(
        "sales=role:Closer,department:Nowhere,role:Supervisor"))
    with sso_app.app_context():
        make_user(email="sam@example.com")
    assert sso_sign_in(sso_app.test_client(), "sam").status_code == 302
    assert holdings(sso_app, "sam@example.com") == ({"employee", SUPERVISOR}, None)
    assert "'Closer', which does not exist" in caplog.text
    assert "'Nowhere', which does not exist" in caplog.text


# --- password login turned off ---------------------------------------------------------------

def test_password_login_off_leaves_only_break_glass_accounts(sso_app, admin, employee):
    sso_app.config.update(SIGNET_PASSWORD_LOGIN=False,
                          SIGNET_BREAK_GLASS_EMAILS=["admin@example.com"])
    client = sso_app.test_client()
    page = text_of(client.get("/login"))
    assert "Emergency sign-in with a password" in page
    refused = post_form(client, "/login", {"email": employee["email"],
                                           "password": employee["password"]})
    assert refused.status_code == 200
    assert "Signing in with a password is turned off here" in text_of(refused)
    assert "Sign in with Test IdP" in text_of(refused)
    assert not signed_in(client)
    login(client, "ADMIN@example.com", admin["password"])
    assert signed_in(client)


def test_an_invitation_with_password_login_off_leads_to_the_provider(sso_app, admin):
    sso_app.config.update(SIGNET_PASSWORD_LOGIN=False,
                          SIGNET_BREAK_GLASS_EMAILS=["admin@example.com"])
    administrator = sso_app.test_client()
    login(administrator, admin["email"], admin["password"])
    invite(administrator, email="ana@example.com", name="Ana Invited")
    [link] = invite_links(sso_app, "ana@example.com")
    with sso_app.app_context():
        mail = as_sent(db.session.execute(select(Message).filter_by(
            recipient="ana@example.com")).scalar_one()).body_text
    assert "sign in with your company account" in mail and "choose your password" not in mail
    invited = sso_app.test_client()
    page = invited.get(link)
    assert page.status_code == 200
    assert "Sign in with Test IdP" in text_of(page) and 'name="password"' not in text_of(page)
    # A password posted all the same is refused and sets nothing.
    refused = post_form(invited, link, {"password": "a long enough password",
                                        "confirm": "a long enough password"})
    assert refused.status_code == 403 and not signed_in(invited)
    assert pending_user(sso_app, "ana@example.com").password_hash is None
    assert sso_sign_in(invited, "ana").status_code == 302
    assert "Ana Invited" in text_of(invited.get("/"))
    assert not pending_user(sso_app, "ana@example.com").has_pending_invite  # used up
    assert invited.get(link).status_code == 404


def test_with_password_login_off_a_new_user_gets_no_password_they_cannot_use(sso_app, admin):
    sso_app.config.update(SIGNET_PASSWORD_LOGIN=False,
                          SIGNET_BREAK_GLASS_EMAILS=["admin@example.com", "ops@example.com"])
    client = sso_app.test_client()
    login(client, admin["email"], admin["password"])
    password = {"setup": "password", "password": "a long enough password",
                "confirm": "a long enough password"}
    refused = post_form(client, "/admin/users/new", {
        "email": "ana@example.com", "name": "Ana", "position": "", "phone": "",
        "department": "", **password})
    assert refused.status_code == 200 and "is not a break-glass account" in text_of(refused)
    assert user_count(sso_app) == 1
    kept = post_form(client, "/admin/users/new", {
        "email": "ops@example.com", "name": "Ops", "position": "", "phone": "",
        "department": "", **password})
    assert kept.status_code == 302 and user_count(sso_app) == 2


def test_password_login_off_needs_single_sign_on(make_app):
    with pytest.raises(ValueError, match="SIGNET_PASSWORD_LOGIN"):
        make_app(SIGNET_PASSWORD_LOGIN=False)


def test_refused_callbacks_from_one_address_are_rate_limited(sso_app):
    sso_app.config["SIGNET_LOGIN_ADDRESS_LIMIT"] = "3 per minute"
    client = sso_app.test_client()
    statuses = [client.get("/login/sso/callback?code=forged&state=forged").status_code
                for _ in range(4)]
    assert statuses[:3] == [400] * 3
    assert statuses[3] == 429
