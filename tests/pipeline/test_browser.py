"""The board in headless Chromium: columns scroll sideways on a phone, a card opens the panel."""

import os

import pytest
from playwright.sync_api import expect

from tests.helpers import browser_log_in, page_width
from tests.pipeline.support import at_client_signing, declined, draft, expired, stopped
from tests.progress.support import sent_document

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SIGNET_SCREENSHOTS")  # a folder: save screenshots there to look at


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=False)


def console_errors(page) -> list[str]:
    # A Playwright screenshot injects a style (hiding the caret) that our CSP blocks.
    return [error for error in page.console_errors
            if not (SHOTS and "inline style" in error)]


def test_phone_columns_scroll_sideways_and_a_card_opens_the_panel(app, phone, admin):
    with app.app_context():
        draft(admin["id"])
        waiting = sent_document(admin["id"])
        at_client_signing(admin["id"])
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto("/pipeline")
    board = phone.locator("#board")
    expect(board).to_be_visible()
    widths = board.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert widths[0] > widths[1] + 300  # several columns side by side, wider than the screen
    assert page_width(phone) <= 390  # the page does not
    shot(phone, "board-390.png")
    board.evaluate("b => b.scrollBy(300, 0)")
    phone.wait_for_function("document.getElementById('board').scrollLeft > 0")
    phone.locator(f"#card-{waiting} .card-title a").click()
    panel = phone.locator("#side-panel #panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Anna Petrova")
    expect(panel.locator("text=Remind now")).to_be_visible()
    assert phone.url.endswith("/pipeline")  # the board stays underneath
    shot(phone, "panel-390.png")
    panel.locator("text=Remind now").click()
    expect(panel.locator(".flash-success")).to_contain_text("was reminded")
    phone.locator("[data-close-panel]").click()
    expect(phone.locator("#side-panel #panel")).to_have_count(0)
    assert console_errors(phone) == []


def test_desktop_filter_swaps_the_columns_and_keeps_the_url(app, desktop, admin):
    with app.app_context():
        draft(admin["id"], title="Supply contract")
        draft(admin["id"], title="Акт сверки")
    browser_log_in(desktop, admin["email"], admin["password"])
    desktop.goto("/pipeline")
    expect(desktop.locator(".pipeline-card")).to_have_count(2)
    shot(desktop, "board-1280.png")
    desktop.fill("input[name=q]", "АКТ")
    expect(desktop.locator(".pipeline-card")).to_have_count(1)
    expect(desktop.locator(".pipeline-card")).to_contain_text("Акт сверки")
    assert "q=" in desktop.url
    desktop.locator(".segmented input[value=list] + span").click()
    expect(desktop.locator("table.pipeline-list")).to_be_visible()
    assert "view=list" in desktop.url
    desktop.locator("table.pipeline-list a").first.click()
    expect(desktop.locator("#side-panel #panel")).to_be_visible()
    shot(desktop, "panel-1280.png")
    assert console_errors(desktop) == []


def test_home_dashboard_and_a_documents_status_fit_a_phone_and_a_desktop(app, phone, desktop,
                                                                        admin):
    with app.app_context():
        draft(admin["id"])
        waiting = sent_document(admin["id"])
        at_client_signing(admin["id"])
    for page, width in ((phone, 390), (desktop, 1280)):
        browser_log_in(page, admin["email"], admin["password"])
        expect(page.locator("#count-waiting_for_me .stat-number")).to_have_text("1")
        expect(page.locator("#dashboard-activity li").first).to_be_visible()
        assert page_width(page) <= width
        page.click("#count-waiting_for_client")
        page.wait_for_url("**/pipeline?*focus=waiting_for_client*")
        expect(page.locator("[data-card-id]")).to_have_count(1)
        page.goto(f"/documents/{waiting}")
        status = page.locator("#document-status")
        expect(status).to_contain_text("Anna Petrova")
        assert page_width(page) <= width
        expect(page.locator("#stop-form form")).to_be_hidden()  # a quiet action, folded
        if width == 390:  # remind once, through htmx: the block swaps in with its answer
            status.get_by_role("button", name="Remind now").click()
            expect(status.locator(".flash-success")).to_contain_text("Anna Petrova was reminded.")
            expect(status).to_contain_text("Reminded within the hour")
        shot(page, f"document-status-{width}.png")
        assert console_errors(page) == [], width


def test_every_stage_fits_a_laptop_and_the_board_lines_up_with_the_header(app, desktop, admin):
    with app.app_context():
        draft(admin["id"])
        ids = {"declined": declined(admin["id"]), "stopped": stopped(admin["id"]),
               "expired": expired(admin["id"])}
    browser_log_in(desktop, admin["email"], admin["password"])
    for language, closed_title in (("en", "Closed"), ("ru", "Закрытые"), ("pt", "Encerrados")):
        desktop.context.set_extra_http_headers({"Accept-Language": language})
        desktop.goto("/pipeline")
        measured = desktop.evaluate("""() => {
          const board = document.getElementById('board').getBoundingClientRect();
          const columns = [...document.querySelectorAll('#board > .board-column')]
            .map(column => column.getBoundingClientRect());
          return {boardLeft: board.left, columns: columns.length,
                  brandLeft: document.querySelector('.brand').getBoundingClientRect().left,
                  outside: columns.filter(c => c.left < board.left || c.right > board.right + 1)
                    .length};
        }""")
        assert measured["columns"] == 5, measured  # draft, the two signings, completed, closed
        assert measured["outside"] == 0, measured
        assert abs(measured["boardLeft"] - measured["brandLeft"]) <= 1, measured
        closed = desktop.locator(".board-closed")
        expect(closed.locator("#column-title-closed")).to_have_text(closed_title)
        expect(closed.locator("#closed-count")).to_have_text("3")
        for stage, document_id in ids.items():
            expect(closed.locator(f"#cards-{stage} #card-{document_id}")).to_be_visible()
        shot(desktop, f"board-closed-{language}.png")
    assert console_errors(desktop) == []
