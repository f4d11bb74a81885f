"""Handing a document over from its page in headless Chromium: htmx posts the panel with the
CSRF header, the page reloads with the new responsible; handing your own away ends on the list."""

import pytest
from playwright.sync_api import expect

from portal.auth.roles import SUPERVISOR, give_role
from portal.documents.models import Document
from portal.extensions import db
from tests.documents.support import ready_draft, signet_company
from tests.factories import make_user
from tests.helpers import browser_log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def draft(app, employee):
    with app.app_context():
        make_user(email="olga@example.com", name="Olga Other")
        sue = make_user(email="sue@example.com", name="Sue Supervisor")
        give_role(sue, SUPERVISOR)
        db.session.commit()
        return ready_draft(employee["id"], company=signet_company()).id


def _hand_over(page, document_id: int, name: str) -> None:
    page.goto(f"/documents/{document_id}")
    panel = page.locator("#responsible-panel")
    panel.get_by_label("Hand over to").select_option(label=name)
    panel.get_by_role("button", name="Reassign").click()


def test_a_supervisor_hands_a_document_over_and_stays_on_it(app, desktop, draft):
    browser_log_in(desktop, "sue@example.com", "correct horse battery")
    _hand_over(desktop, draft, "Olga Other")
    expect(desktop.locator(".flash-success")).to_contain_text(
        "Olga Other is now responsible for this document.")
    expect(desktop.locator("#responsible-panel strong")).to_have_text("Olga Other")
    expect(desktop.locator("#audit-timeline")).to_contain_text("Responsible changed")
    with app.app_context():
        assert db.session.get(Document, draft).responsible.name == "Olga Other"
    assert desktop.console_errors == []


def test_handing_your_own_document_away_lands_on_the_list(app, phone, employee, draft):
    browser_log_in(phone, employee["email"], employee["password"])
    _hand_over(phone, draft, "Olga Other")
    phone.wait_for_url("**/documents")
    expect(phone.locator(".flash-info")).to_contain_text("no longer among your documents")
    assert phone.console_errors == []
