"""The portal in headless Chromium on a phone-sized screen."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_counterparty
from tests.helpers import browser_log_in, page_width

pytestmark = pytest.mark.browser

SCREENS = [
    "/",
    "/counterparties",
    "/counterparties/new",
    "/companies",
    "/companies/new",
    "/admin/users",
    "/admin/users/new",
    "/admin/departments",
    "/outbox",
]




def test_every_screen_fits_a_phone_without_errors(phone, admin):
    browser_log_in(phone, admin["email"], admin["password"])
    for path in SCREENS:
        response = phone.goto(path)
        assert response.ok, f"{path}: {response.status}"
        width = page_width(phone)
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
    # CSP violations and script errors show up in the console.
    assert phone.console_errors == []


def test_menu_opens_and_leads_to_a_screen(phone, admin):
    browser_log_in(phone, admin["email"], admin["password"])
    menu_link = phone.locator("#main-menu nav a", has_text="Counterparties")
    assert not menu_link.is_visible()
    phone.click("#main-menu summary")
    menu_link.click()
    phone.wait_for_url("**/counterparties")
    assert phone.locator("h1").first.inner_text() == "Counterparties"


def test_counterparty_search_filters_as_you_type(app, phone, admin):
    with app.app_context():
        make_counterparty(name="ООО «Вектор»", kind="company", email="info@vektor.example")
        make_counterparty(name="Maria Silva", email="maria@example.com")
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto("/counterparties")
    results = phone.locator("#counterparty-list")
    assert "Maria Silva" in results.inner_text()
    phone.locator("input[name=q]").press_sequentially("ВЕКТ", delay=30)
    expect(results).not_to_contain_text("Maria Silva")
    expect(results).to_contain_text("Вектор")
    assert "q=" in phone.url
    assert phone.console_errors == []


def test_language_picker_switches_the_page(phone, admin):
    browser_log_in(phone, admin["email"], admin["password"])
    phone.click("button[name=locale][value=ru]")
    expect(phone.locator("html")).to_have_attribute("lang", "ru")
    expect(phone.locator("h1").first).to_contain_text("Добро пожаловать")
