"""The profile's token section in headless Chromium on a phone."""

import pytest
from playwright.sync_api import expect

from tests.helpers import page_width

pytestmark = pytest.mark.browser


def test_create_copy_and_revoke_a_token_on_a_phone(phone, employee):
    phone.goto("/login")
    phone.fill("input[name=email]", employee["email"])
    phone.fill("input[name=password]", employee["password"])
    phone.click("button[type=submit]")
    phone.wait_for_url("**/")

    phone.goto("/profile")
    phone.fill("input[name=name]", "Phone script")
    phone.get_by_role("button", name="Create token").click()
    secret = phone.locator("#new-token-secret")
    expect(secret).to_be_visible()
    assert secret.input_value().startswith("sgt_")
    phone.click("[data-copy]")
    expect(phone.locator("[data-copy]")).to_have_text("Copied")
    width = page_width(phone)
    assert width <= 390, f"the profile scrolls sideways on a phone ({width}px)"

    phone.on("dialog", lambda dialog: dialog.accept())
    phone.get_by_role("button", name="Revoke").click()
    expect(phone.locator("#api-tokens")).to_contain_text("Token “Phone script” revoked.")
    expect(phone.locator("#new-token-secret")).to_have_count(0)
    assert phone.console_errors == []
