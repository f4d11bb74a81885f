"""The rules board in headless Chromium on a phone: add an email rule, see its card, disable it."""

import os
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.automation.models import AutomationRule
from portal.extensions import db
from tests.helpers import browser_log_in, fits_its_width

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SIGNET_SCREENSHOTS")  # a folder: save screenshots there to look at


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=False)


def console_errors(page) -> list[str]:
    # A Playwright screenshot injects a style (hiding the caret) that our CSP blocks.
    return [error for error in page.console_errors
            if not (SHOTS and "inline style" in error)]


def test_phone_adds_an_email_rule_and_disables_it(app, phone, admin):
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto("/automation/")
    board = phone.locator("#rules-board")
    expect(board.locator(".board-column")).to_have_count(8)
    assert fits_its_width(phone)

    completed = board.locator(".board-column.stage-completed")
    completed.scroll_into_view_if_needed()
    completed.locator(".column-add").click()
    panel = phone.locator("#side-panel #rule-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("select[name=trigger]")).to_have_value("all_signed")
    subject = panel.locator("input[name=subject]")
    expect(subject).to_be_hidden()  # only the chosen action's fields show
    expect(panel.locator("[data-show-when='trigger=stuck']")).to_be_hidden()

    panel.locator("input[name=name]").fill("Tell accounting")
    panel.locator("select[name=action]").select_option("send_email")
    expect(subject).to_be_visible()
    variables = panel.locator("[data-show-when='action=send_email'] .rule-variables")
    expect(variables).to_be_visible()
    expect(variables).to_contain_text("{{ document.number }}")
    panel.locator("select[name=recipient]").select_option("address")
    panel.locator("input[name=address]").fill("acc@example.com")
    subject.fill("{{ document.number }} is signed")
    panel.locator("textarea[name=body]").fill("Signed: {{ document.link }}")
    shot(phone, "rule-form-390.png")
    panel.locator("button[type=submit]").click()

    expect(phone.locator("#side-panel #rule-panel")).to_have_count(0)  # the panel closed
    card = phone.locator("#rules-completed .rule-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Tell accounting")
    expect(card).to_contain_text("Email to acc@example.com")
    expect(card.locator(".badge.ok")).to_have_text("Enabled")

    card.locator("button", has_text="Disable").click()
    expect(card).to_have_class(re.compile(r"\bis-disabled\b"))
    expect(card.locator("button", has_text="Enable")).to_be_visible()
    shot(phone, "rules-390.png")
    assert fits_its_width(phone)
    assert console_errors(phone) == []
    with app.app_context():
        saved = db.session.scalars(select(AutomationRule)).one()
        assert (saved.trigger, saved.enabled, saved.params["address"]) == (
            "all_signed", False, "acc@example.com")
