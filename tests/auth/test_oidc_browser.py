"""Single sign-on in headless Chromium at phone and desktop widths: the button, the provider's
page and back, signed in."""

import os

import pytest
from playwright.sync_api import expect

from tests.factories import make_user
from tests.helpers import page_width

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("SIGNET_SCREENSHOTS")  # a folder, to look at the pages by eye


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("password_login", [True, False])
def test_sign_in_through_the_provider(request, app, oidc_provider, live_server, viewport,
                                      password_login):
    page = request.getfixturevalue(viewport)
    # The callback on the live server's address: a loopback redirect fits any port.
    app.config.update(oidc_provider.settings(SIGNET_BASE_URL=live_server.url,
                                             SIGNET_PASSWORD_LOGIN=password_login))
    with app.app_context():
        make_user(email="ana@example.com", name="Ana Local")
    page.goto("/login")
    button = page.get_by_role("link", name="Sign in with Test IdP")
    expect(button).to_be_visible()
    width = page.viewport_size["width"]
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page_width(page) <= width
    password = page.locator("input[name=password]")
    if password_login:
        expect(password).to_be_visible()
    else:  # folded away for the break-glass accounts
        expect(password).to_be_hidden()
        page.get_by_text("Emergency sign-in with a password").click()
        expect(password).to_be_visible()
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(
            SCREENSHOTS, f"sso-login-{width}-{'password' if password_login else 'sso-only'}.png"),
            full_page=True, caret="initial")

    assert page.console_errors == []  # ours; the provider's test page has its own

    button.click()
    page.wait_for_url(f"{oidc_provider.issuer}/interaction/**")
    page.fill("input[name=login]", "ana")
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Welcome, Ana Local")).to_be_visible()
