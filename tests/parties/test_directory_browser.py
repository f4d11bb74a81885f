"""The counterparties directory in headless Chromium on a phone: htmx search, CSS-only form."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_counterparty
from tests.helpers import browser_log_in, page_width

pytestmark = pytest.mark.browser




def test_search_filter_and_delete_without_reloading(app, phone, admin):
    with app.app_context():
        make_counterparty(name="ООО «Вектор»", kind="company", email="info@vektor.example")
        make_counterparty(name="Maria Silva", email="maria@example.com")
        make_counterparty(name="Northwind Trading Ltd", kind="company",
                          email="contracts@northwind.example")
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto("/counterparties")
    listing = phone.locator("#counterparty-list")
    expect(listing).to_contain_text("Maria Silva")

    phone.locator("input[name=q]").press_sequentially("ВЕКТ", delay=30)
    expect(listing).not_to_contain_text("Maria Silva")
    expect(listing).to_contain_text("ООО «Вектор»")
    assert "q=" in phone.url

    phone.locator("input[name=q]").fill("")
    phone.locator("input[name=q]").press("Enter")  # the "search" event
    expect(listing).to_contain_text("Maria Silva")
    # The emptied box also fires its own search 250 ms later: let it land before the next filter,
    # as a person's next click would.
    phone.wait_for_load_state("networkidle")
    phone.select_option("select[name=kind]", "company")
    expect(listing).not_to_contain_text("Maria Silva")
    expect(listing).to_contain_text("Northwind Trading Ltd")
    assert "kind=company" in phone.url

    phone.once("dialog", lambda dialog: dialog.accept())
    phone.locator("tr", has_text="Northwind").get_by_role("button", name="Delete").click()
    expect(listing).not_to_contain_text("Northwind Trading Ltd")
    expect(listing).to_contain_text("ООО «Вектор»")
    assert phone.console_errors == []


def test_kind_radio_shows_company_fields_only_for_a_company(phone, admin):
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto("/counterparties/new")
    representative = phone.locator("input[name=representative_name]")
    tax_id = phone.locator("input[name=tax_id]")
    expect(representative).to_be_hidden()
    expect(tax_id).to_be_hidden()
    expect(phone.get_by_text("Full name", exact=True)).to_be_visible()

    phone.get_by_label("Company", exact=True).check()
    expect(representative).to_be_visible()
    expect(tax_id).to_be_visible()
    expect(phone.get_by_text("Company name", exact=True)).to_be_visible()
    expect(phone.get_by_text("Full name", exact=True)).to_be_hidden()
    width = page_width(phone)
    assert width <= 390
    assert phone.console_errors == []


@pytest.mark.parametrize("width", [390, 1280])
def test_phone_numbers_stay_on_one_line(app, browser, live_server, admin, width):
    with app.app_context():
        make_counterparty(name="Общество с ограниченной ответственностью «Северный ветер»",
                          kind="company", email="info@veter.example", phone="+79161234567")
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  base_url=live_server.url, locale="ru")
    try:
        page = context.new_page()
        browser_log_in(page, admin["email"], admin["password"])
        page.goto("/counterparties")
        number = page.locator("#counterparty-list .phone-number").first
        expect(number).to_contain_text("916")
        box = number.evaluate("n => ({lines: n.getClientRects().length})")
        assert box["lines"] == 1
        assert page.evaluate("document.documentElement.scrollWidth"
                             " <= document.documentElement.clientWidth")
    finally:
        context.close()
