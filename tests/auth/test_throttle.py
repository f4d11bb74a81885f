"""Failed logins, from many addresses behind the trusted proxy: slowed down, never a lock-out."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import SecurityEvent, User
from portal.extensions import db
from portal.models_base import utcnow
from tests.factories import make_user
from tests.helpers import session_csrf_token, text_of

RIGHT = "correct horse battery"


@pytest.fixture
def proxied(make_app):
    """The portal behind one trusted proxy: X-Forwarded-For says who is asking."""
    app = make_app(SIGNET_TRUST_PROXY=1, SIGNET_LOGIN_LIMIT="5 per minute",
                   SIGNET_LOGIN_ADDRESS_LIMIT="12 per minute", SIGNET_LOGIN_FREE_FAILURES=8,
                   SIGNET_LOGIN_MAX_DELAY_SECONDS=60)
    with app.app_context():
        make_user(email="owner@example.com", name="Olga Owner")
        make_user(email="colleague@example.com", name="Carl Colleague")
    return app


def _attempt(client, address: str, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": session_csrf_token(client)},
                       headers={"X-Forwarded-For": address})


def _failures(app, email="owner@example.com"):
    with app.app_context():
        return db.session.execute(select(User.failed_logins).filter_by(email=email)).scalar_one()


def test_one_address_guessing_one_account_leaves_the_owner_and_the_office_alone(proxied):
    guesser = proxied.test_client()
    statuses = [_attempt(guesser, "198.51.100.1", "owner@example.com", "guess").status_code
                for _ in range(6)]
    assert statuses == [200] * 5 + [429]

    # The owner, from their own address, gets in; so does a colleague from the guesser's.
    owner = proxied.test_client()
    assert _attempt(owner, "203.0.113.5", "owner@example.com", RIGHT).status_code == 302
    colleague = proxied.test_client()
    assert _attempt(colleague, "198.51.100.1", "colleague@example.com", RIGHT).status_code == 302


def test_one_address_guessing_many_accounts_is_stopped(proxied):
    guesser = proxied.test_client()
    statuses = []
    for number in range(13):
        email = ("owner@example.com", "colleague@example.com", f"x{number}@example.com")[number % 3]
        statuses.append(_attempt(guesser, "198.51.100.9", email, "guess").status_code)
    assert statuses[:12] == [200] * 12
    assert statuses[12] == 429
    assert "Too many login attempts" in text_of(
        _attempt(guesser, "198.51.100.9", "owner@example.com", RIGHT))


def test_guesses_from_many_addresses_slow_the_account_down_with_a_growing_delay(proxied):
    botnet = proxied.test_client()
    for number in range(8):
        refused = _attempt(botnet, f"192.0.2.{number}", "owner@example.com", "guess")
        assert refused.status_code == 200
    assert _failures(proxied) == 8

    held = _attempt(botnet, "192.0.2.50", "owner@example.com", "guess")
    assert held.status_code == 429
    assert "Wait 2 seconds" in text_of(held)
    assert _failures(proxied) == 8  # a held-back attempt is not even checked

    _age_last_failure(proxied, seconds=3)
    assert _attempt(botnet, "192.0.2.51", "owner@example.com", "guess").status_code == 200
    held = _attempt(botnet, "192.0.2.52", "owner@example.com", "guess")
    assert "Wait 4 seconds" in text_of(held)

    with proxied.app_context():
        kinds = db.session.execute(select(SecurityEvent.kind)).scalars().all()
    assert kinds.count("sign_in_delayed") == 2 and kinds.count("sign_in_failed") == 9


def test_the_delay_has_a_ceiling(proxied):
    with proxied.app_context():
        user = db.session.execute(select(User).filter_by(email="owner@example.com")).scalar_one()
        user.failed_logins = 500
        user.last_failed_login_at = utcnow()
        db.session.commit()
    held = _attempt(proxied.test_client(), "192.0.2.60", "owner@example.com", RIGHT)
    assert "Wait 60 seconds" in text_of(held)


def test_the_owners_known_browser_is_not_held_back(proxied):
    owner = proxied.test_client()
    assert _attempt(owner, "203.0.113.5", "owner@example.com", RIGHT).status_code == 302
    owner.post("/logout", data={"csrf_token": session_csrf_token(owner)},
               headers={"X-Forwarded-For": "203.0.113.5"})

    botnet = proxied.test_client()
    for number in range(10):
        _attempt(botnet, f"192.0.2.{number}", "owner@example.com", "guess")
    assert _attempt(botnet, "192.0.2.99", "owner@example.com", RIGHT).status_code == 429

    # The owner's browser has signed in to this account before: it goes straight through,
    # even from a new address (a train's wifi), and the count starts again.
    assert _attempt(owner, "100.64.0.1", "owner@example.com", RIGHT).status_code == 302
    assert _failures(proxied) == 0


def test_a_forged_known_device_cookie_does_not_help(proxied):
    botnet = proxied.test_client()
    for number in range(9):
        _attempt(botnet, f"192.0.2.{number}", "owner@example.com", "guess")
    botnet.set_cookie("signet_known", "WzFd.forged.signature")
    assert _attempt(botnet, "192.0.2.77", "owner@example.com", RIGHT).status_code == 429


def _age_last_failure(app, seconds: int) -> None:
    with app.app_context():
        user = db.session.execute(select(User).filter_by(email="owner@example.com")).scalar_one()
        user.last_failed_login_at = user.last_failed_login_at - timedelta(seconds=seconds)
        db.session.commit()
