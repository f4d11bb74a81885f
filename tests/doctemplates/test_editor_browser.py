"""The template editor in headless Chromium on a phone: the live preview follows the typing."""

import pytest
from playwright.sync_api import expect

from tests.helpers import browser_log_in, page_width

pytestmark = pytest.mark.browser




def test_live_preview_renders_shows_errors_and_recovers(phone, admin):
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto("/templates/new")
    preview = phone.locator("#preview-slot")
    # The starter template is rendered once the page loads.
    expect(preview.locator("img")).to_have_count(1, timeout=10_000)
    expect(preview).to_contain_text("client.signature")

    editor = phone.locator("textarea[name=body_html]")
    editor.fill("<h1>Act</h1>\n{% for item in items %}")
    editor.press("End")  # "input" fires on typing, as in a real edit
    editor.press_sequentially(" ", delay=10)
    expect(preview).to_contain_text("Line 2", timeout=10_000)
    expect(preview).to_contain_text("Syntax error")
    expect(preview.locator("img")).to_have_count(0)

    editor.press_sequentially("{% endfor %}{{ anchor('client.date') }}", delay=5)
    expect(preview.locator("img")).to_have_count(1, timeout=10_000)
    expect(preview).to_contain_text("client.date")

    width = page_width(phone)
    assert width <= 390
    assert phone.console_errors == []
