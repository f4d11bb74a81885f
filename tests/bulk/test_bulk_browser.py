"""Bulk send in headless Chromium: upload, columns, confirm, and the progress polled to done,
on a desktop (1280 px) and a phone (390 px) in one browser context."""

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from portal.bulk.jobs import run_batch
from portal.bulk.models import BulkBatch, BulkRow
from portal.extensions import db
from tests.bulk.test_pages import CP1251_CSV
from tests.documents.support import make_template, signet_company
from tests.factories import make_counterparty
from tests.helpers import browser_log_in, fits_its_width

pytestmark = pytest.mark.browser
# A long address, as real ones are: the client column must make room for it.
SHEET = CP1251_CSV.replace(b"ivan@example.com", b"ivan.petrov@northwindholding.example.com")
# Each client's email is one line box: the column is wide enough, nothing breaks mid-word.
EMAILS_ON_ONE_LINE = """[...document.querySelectorAll('#bulk-rows td.bulk-client .small')]
    .every(span => span.getClientRects().length === 1)"""
# The stacked cards' labels ("Row:", "Status:") share one font.
LABEL_FONTS = """[...document.querySelectorAll('#row-2 td')].map(
    td => getComputedStyle(td, '::before').fontFamily)"""


def _upload(page, template_id: int) -> None:
    page.goto(f"/bulk/new?template={template_id}")
    page.set_input_files("input[name=file]", files=[{
        "name": "clients.csv", "mimeType": "text/csv", "buffer": SHEET}])
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("#bulk-rows")).to_be_visible()


def _as_queued(batch_id: int) -> None:
    """As if confirmed while the worker is busy: its rows wait for a run."""
    db.session.execute(update(BulkBatch).where(BulkBatch.id == batch_id)
                       .values(status="confirmed", skip_invalid=True))
    for old, new in (("valid", "pending"), ("invalid", "skipped")):
        db.session.execute(update(BulkRow).where(BulkRow.batch_id == batch_id,
                                                 BulkRow.status == old).values(status=new))
    db.session.commit()


def test_upload_check_confirm_and_follow_on_a_desktop_and_a_phone(app, desktop, admin):
    with app.app_context():
        template_id = make_template().id
        signet_company()
        make_counterparty(name="Мария Силва", email="maria@example.com")
    page = desktop
    browser_log_in(page, admin["email"], admin["password"])

    # Desktop: the rows checked, the first document drawn, the columns checked again, sent.
    _upload(page, template_id)
    expect(page.locator("#row-4.row-invalid")).to_contain_text("Email")
    expect(page.locator("#row-5")).to_contain_text("The same as in row 2")
    expect(page.locator("#row-3")).to_contain_text("matched Мария Силва")
    expect(page.locator("#bulk-preview img").first).to_be_visible()
    expect(page.locator("#preview-loading")).to_have_count(0)  # its spinner went with it
    assert page.evaluate(EMAILS_ON_ONE_LINE)
    page.select_option("#map-place", "")
    page.get_by_role("button", name="Check again").click()
    expect(page.locator("#bulk-summary")).to_contain_text("4")  # every row misses its place
    expect(page.get_by_text("No row can be sent")).to_be_visible()
    page.select_option("#map-place", label="Место")
    page.get_by_role("button", name="Check again").click()
    confirm = page.get_by_role("button", name="Send 2, skip 2 invalid")
    confirm.click()
    expect(page.locator("#batch-status")).to_have_text("done")
    expect(page.locator("#bulk-rows a.mono")).to_have_count(2)  # each sent row's document
    assert page.locator("#batch-progress[hx-trigger]").count() == 0
    # Our signer's one invitation, reminded from the batch page (htmx swaps the piece).
    signing = page.locator("#bulk-signing")
    signing.get_by_role("button", name="Remind now").click()
    expect(signing.locator(".flash-success")).to_contain_text("was reminded")
    expect(signing).to_contain_text("again after")
    if os.environ.get("SIGNET_SCREENSHOTS"):
        signing.screenshot(path=os.path.join(os.environ["SIGNET_SCREENSHOTS"],
                                             "bulk-signing-1280.png"))

    # Phone: the check page's table stays within the page; a queued run is followed live.
    page.set_viewport_size({"width": 390, "height": 844})
    _upload(page, template_id)
    assert fits_its_width(page)
    assert len(set(page.evaluate(LABEL_FONTS))) == 1
    with app.app_context():
        batch_id = db.session.scalar(select(BulkBatch.id).order_by(BulkBatch.id.desc()))
        _as_queued(batch_id)
    page.goto(f"/bulk/{batch_id}")
    expect(page.locator("#batch-progress[hx-trigger='every 2s']")).to_have_count(1)
    expect(page.locator("#batch-status")).to_have_text("queued")
    assert fits_its_width(page)
    with app.app_context():
        run_batch(batch_id)  # the worker gets to it
    expect(page.locator("#batch-status")).to_have_text("done", timeout=10_000)
    expect(page.locator("#bulk-rows a.mono")).to_have_count(2)
    expect(page.locator("#batch-progress[hx-trigger]")).to_have_count(0)
    expect(page.locator("#bulk-signing").get_by_role("button", name="Remind now")).to_be_visible()
    assert fits_its_width(page)
    if os.environ.get("SIGNET_SCREENSHOTS"):
        page.locator("#bulk-signing").screenshot(
            path=os.path.join(os.environ["SIGNET_SCREENSHOTS"], "bulk-signing-390.png"))
    assert page.console_errors == []
