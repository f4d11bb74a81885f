"""Retention on a phone: the company's dry run and the legal hold form fit and work."""

import os

import pytest

from portal.documents.models import Document
from portal.extensions import db
from tests.helpers import browser_log_in, fits_its_width
from tests.retention.support import completed_document, retention_company

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SIGNET_SCREENSHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"retention-{name}.png"), full_page=True)


def test_company_dry_run_and_legal_hold_on_a_phone(app, admin, phone):
    with app.app_context():
        company = retention_company(30, 20, name="Keeper Consulting Limited Liability Company")
        document_id = completed_document(admin["id"], company, number="ACT-2026-00042").id
        company_id = company.id
    browser_log_in(phone, admin["email"], admin["password"])

    phone.goto(f"/companies/{company_id}#retention")
    card = phone.locator("#retention")
    assert "1 document would have its PDFs deleted now" in card.inner_text()
    assert card.locator(".retention-list li").count() == 2
    assert fits_its_width(phone)
    _shot(phone, "company")

    phone.goto(f"/documents/{document_id}#legal-hold")
    phone.locator("#legal-hold summary").click()
    phone.fill("#hold-reason", "Court request 12/26")
    assert fits_its_width(phone)
    _shot(phone, "hold-form")
    phone.locator("#legal-hold button[type=submit]").click()
    phone.wait_for_url(f"**/documents/{document_id}#legal-hold")
    assert phone.locator(".document-meta .badge", has_text="Legal hold").is_visible()
    assert fits_its_width(phone)
    _shot(phone, "held")
    assert phone.console_errors == []
    with app.app_context():
        assert db.session.get(Document, document_id).legal_hold
