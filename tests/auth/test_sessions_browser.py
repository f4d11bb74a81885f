"""Sessions and the security log in Chromium, at phone and desktop widths."""

import pytest

from tests.helpers import browser_log_in, fits_its_width

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.mark.parametrize("width", [390, 1280])
def test_signing_out_another_browser_from_the_profile(browser, live_server, admin, width):
    office = browser.new_context(viewport={"width": width, "height": 900},
                                 base_url=live_server.url)
    laptop = browser.new_context(viewport={"width": 1280, "height": 900},
                                 base_url=live_server.url, user_agent="Mozilla/5.0 (Macintosh; "
                                 "Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 "
                                 "Safari/605.1.15")
    try:
        page, other = office.new_page(), laptop.new_page()
        errors = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        browser_log_in(page, admin["email"], PASSWORD)
        browser_log_in(other, admin["email"], PASSWORD)

        page.goto("/profile")
        sessions = page.locator("#sessions .session-item")
        assert sessions.count() == 2
        assert "Safari, macOS" in page.locator("#sessions").inner_text()
        assert fits_its_width(page)

        the_mac = sessions.filter(has_text="Safari, macOS")
        the_mac.get_by_role("button", name="Sign out").click()
        page.locator("#sessions .flash").wait_for()
        assert "That session has ended." in page.locator("#sessions").inner_text()
        assert page.locator("#sessions .session-item").count() == 1

        other.goto("/profile")
        assert "/login" in other.url

        page.get_by_role("link", name="Security log").click()
        page.wait_for_url("**/profile/security")
        log = page.locator("main").inner_text()
        assert "Session ended" in log and "Signed in" in log
        assert fits_its_width(page)
        assert errors == []
    finally:
        office.close()
        laptop.close()


def test_sign_out_everywhere_asks_first_and_lands_on_the_login_page(desktop, admin):
    browser_log_in(desktop, admin["email"], PASSWORD)
    desktop.goto("/profile")
    desktop.once("dialog", lambda dialog: dialog.accept())
    desktop.get_by_role("button", name="Sign out everywhere").click()
    desktop.wait_for_url("**/login")
    assert "You have been signed out everywhere." in desktop.locator("main").inner_text()
    desktop.goto("/profile")
    assert "/login" in desktop.url
    assert desktop.console_errors == []
