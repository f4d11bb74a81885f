"""Passkeys in headless Chromium: registered and used as the second factor with Chromium's
virtual authenticator (DevTools protocol), and the pages at phone and desktop widths.

WebAuthn refuses an IP address as the relying party: the portal is reached as localhost."""

import os
import re

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.auth.models import SecurityEvent
from portal.auth.two_factor.models import Passkey
from portal.extensions import db
from tests.helpers import page_width

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("SIGNET_SCREENSHOTS")  # a folder, to look at the pages by eye


def _snap(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"two-factor-{name}.png"),
                        full_page=True, caret="initial")


@pytest.fixture
def portal_url(app, live_server):
    url = live_server.url.replace("127.0.0.1", "localhost")
    app.config["SIGNET_BASE_URL"] = url
    return url


def _virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    answer = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
    }})
    return cdp, answer["authenticatorId"]


def _log_in(page, url, email, password):
    page.goto(f"{url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _log_out(page):
    page.evaluate("document.querySelector('form[action=\"/logout\"]').submit()")
    page.wait_for_url("**/login")


def _fits(page, width):
    assert page_width(page) <= width


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_passkey_is_registered_and_then_asked_at_login(app, employee, portal_url, viewport,
                                                         request):
    page = request.getfixturevalue(viewport)
    width = 1280 if viewport == "desktop" else 390
    cdp, authenticator = _virtual_authenticator(page)
    _log_in(page, portal_url, employee["email"], employee["password"])
    page.wait_for_url(f"{portal_url}/")

    page.goto(f"{portal_url}/profile/two-factor")
    _fits(page, width)
    page.fill("input[name=name]", "Work laptop")
    page.click("button:has-text('Add a passkey')")
    expect(page.locator("h1")).to_have_text("Your recovery codes")
    assert page.locator("ol.recovery-codes li").count() == 10
    _fits(page, width)
    _snap(page, f"codes-{width}")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1
    page.click("text=I have saved them")
    expect(page.locator("#passkeys td.wrap-anywhere")).to_have_text("Work laptop")
    _fits(page, width)
    _snap(page, f"manage-{width}")

    _log_out(page)
    _log_in(page, portal_url, employee["email"], employee["password"])
    page.wait_for_url("**/login/second-factor")
    _fits(page, width)
    _snap(page, f"second-step-{width}")
    page.click("button:has-text('Use a passkey')")
    page.wait_for_url(f"{portal_url}/")
    assert page.console_errors == []
    with app.app_context():
        kinds = [(e.kind, e.method) for e in db.session.execute(
            select(SecurityEvent).order_by(SecurityEvent.id)).scalars()]
        assert ("passkey_added", "") in kinds and ("signed_in", "passkey") in kinds
        assert db.session.execute(select(Passkey)).scalar_one().last_used_at is not None


def test_another_authenticator_is_not_accepted(app, employee, portal_url, desktop):
    cdp, authenticator = _virtual_authenticator(desktop)
    _log_in(desktop, portal_url, employee["email"], employee["password"])
    desktop.wait_for_url(f"{portal_url}/")
    desktop.goto(f"{portal_url}/profile/two-factor")
    desktop.fill("input[name=name]", "Key")
    desktop.click("button:has-text('Add a passkey')")
    expect(desktop.locator("h1")).to_have_text("Your recovery codes")
    _log_out(desktop)
    # The passkey is gone from this browser: another authenticator holds nothing for us.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    _log_in(desktop, portal_url, employee["email"], employee["password"])
    desktop.wait_for_url("**/login/second-factor")
    desktop.set_default_timeout(15_000)
    desktop.click("button:has-text('Use a passkey')")
    expect(desktop.locator("[data-passkey-status]")).not_to_be_empty()
    assert desktop.url.endswith("/login/second-factor")


def test_the_authenticator_app_set_up_in_the_browser(app, employee, desktop, portal_url):
    _log_in(desktop, portal_url, employee["email"], employee["password"])
    desktop.wait_for_url(f"{portal_url}/")
    desktop.goto(f"{portal_url}/profile/two-factor")
    desktop.click("button:has-text('Set up an authenticator app')")
    desktop.wait_for_url("**/profile/two-factor/totp")
    assert desktop.locator("img.totp-qr").evaluate("img => img.naturalWidth") > 100
    secret = re.sub(r"\s", "", desktop.locator("#totp-secret").inner_text())
    _snap(desktop, "totp-setup-1280")
    desktop.fill("input[name=code]", pyotp.TOTP(secret).now())
    desktop.click("button:has-text('Turn on')")
    expect(desktop.locator("h1")).to_have_text("Your recovery codes")
    assert desktop.console_errors == []
