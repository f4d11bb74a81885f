"""The documents pages in headless Chromium: the placement editor on a desktop, pages on a phone."""

import pytest
from playwright.sync_api import expect

from portal.documents.models import Document, Field
from portal.extensions import db
from tests.documents.support import make_template, ready_draft, signet_company, upload_draft
from tests.factories import make_counterparty
from tests.helpers import browser_log_in, page_width

pytestmark = pytest.mark.browser






def fields_of(app, document_id):
    with app.app_context():
        return list(db.session.execute(
            db.select(Field).where(Field.document_id == document_id).order_by(Field.id)
        ).scalars())


def test_place_a_signature_by_clicking_and_drag_it(app, desktop, admin):
    with app.app_context():
        document = upload_draft(admin["id"])
        document_id = document.id
        client_id = document.parties_with_role("client")[0].id
    browser_log_in(desktop, admin["email"], admin["password"])
    desktop.goto(f"/documents/{document_id}/fields")
    expect(desktop.locator("#placement.is-ready")).to_have_count(1)
    desktop.check(f"input[name=placement-party][value='{client_id}']")
    desktop.check("input[name=placement-type][value=signature]")
    layer = desktop.locator(".placement-layer[data-page='1']")
    size = layer.bounding_box()
    # A click at 40 % across and 30 % down the page centres the new field there.
    layer.click(position={"x": size["width"] * 0.4, "y": size["height"] * 0.3})
    placed = desktop.locator(".placement-field[data-field-id]")
    expect(placed).to_have_count(1)
    [field] = fields_of(app, document_id)
    assert (field.party_id, field.type, field.page) == (client_id, "signature", 1)
    assert field.x == pytest.approx(0.4 - field.w / 2, abs=0.005)
    assert field.y == pytest.approx(0.3 - field.h / 2, abs=0.005)
    box = layer.bounding_box()

    # Drag it 128 px right and 90 px down (by its middle, not the resize corner).
    handle = placed.bounding_box()
    start_x, start_y = handle["x"] + handle["width"] / 3, handle["y"] + handle["height"] / 2
    desktop.mouse.move(start_x, start_y)
    desktop.mouse.down()
    desktop.mouse.move(start_x + 64, start_y + 45, steps=4)
    desktop.mouse.move(start_x + 128, start_y + 90, steps=4)
    desktop.mouse.up()
    expect(desktop.locator("#placement-status")).to_have_text("Saved.")
    [moved] = fields_of(app, document_id)
    assert moved.x == pytest.approx(field.x + 128 / box["width"], abs=0.003)
    assert moved.y == pytest.approx(field.y + 90 / box["height"], abs=0.003)
    assert (moved.w, moved.h) == (field.w, field.h)

    # Keyboard: an arrow moves it, Delete removes it.
    placed.focus()
    with desktop.expect_response(lambda r: r.request.method == "PATCH") as saved:
        desktop.keyboard.press("ArrowLeft")
    assert saved.value.ok
    assert fields_of(app, document_id)[0].x == pytest.approx(moved.x - 0.005, abs=1e-4)
    desktop.keyboard.press("Delete")
    expect(desktop.locator(".placement-field")).to_have_count(0)
    expect(desktop.locator("#placement-status")).to_have_text("Field removed.")
    assert fields_of(app, document_id) == []
    assert desktop.console_errors == []


def test_a_stamp_is_not_offered_for_a_person(app, desktop, admin):
    with app.app_context():
        document = upload_draft(admin["id"])  # the client is a person
        document_id = document.id
        company_id = document.parties_with_role("company")[0].id
        client_id = document.parties_with_role("client")[0].id
    browser_log_in(desktop, admin["email"], admin["password"])
    desktop.goto(f"/documents/{document_id}/fields")
    stamp = desktop.locator("input[name=placement-type][value=stamp]")
    desktop.check(f"input[name=placement-party][value='{client_id}']")
    expect(stamp).to_be_disabled()
    desktop.check(f"input[name=placement-party][value='{company_id}']")
    expect(stamp).to_be_enabled()
    assert desktop.console_errors == []


def test_document_pages_fit_a_phone_without_errors(app, phone, admin):
    with app.app_context():
        document_id = ready_draft(admin["id"]).id
        make_template()
    browser_log_in(phone, admin["email"], admin["password"])
    for path in ("/documents", "/documents/new", "/documents/new/upload",
                 f"/documents/{document_id}", f"/documents/{document_id}/parties",
                 f"/documents/{document_id}/edit", f"/documents/{document_id}/fields"):
        response = phone.goto(path)
        assert response.ok, f"{path}: {response.status}"
        width = page_width(phone)
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
    assert phone.console_errors == []


def test_send_from_the_phone_disables_the_button_and_lands_on_the_page(app, phone, admin):
    with app.app_context():
        document_id = ready_draft(admin["id"]).id
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto(f"/documents/{document_id}")
    phone.click("#send-panel button[type=submit]")
    expect(phone.locator(".flash-success")).to_contain_text("Sent for signing")
    expect(phone.locator("#stop-form")).to_be_visible()
    with app.app_context():
        assert db.session.get(Document, document_id).stage == "company_signing"
    assert page_width(phone) <= 390
    assert phone.console_errors == []


def test_create_from_a_template_on_a_phone(app, phone, admin):
    with app.app_context():
        signet_company()
        make_template()
        make_counterparty(name="Maria Silva", email="maria@example.com")
        make_counterparty(name="ООО «Вектор»", kind="company", email="info@vektor.example",
                          representative_name="Иван Петров")
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto("/documents/new")
    # The directory search swaps the options; pick the company it finds.
    phone.locator("#client-q").press_sequentially("вект", delay=20)
    expect(phone.locator("#counterparty-options")).not_to_contain_text("Maria Silva")
    phone.get_by_label("ООО «Вектор»").check()
    expect(phone.locator(".new-client")).to_be_hidden()
    phone.fill("input[name=items-0-name]", "Разработка")
    phone.fill("input[name=items-0-price]", "1000")
    phone.click("text=Add a row")
    expect(phone.locator(".item-row")).to_have_count(2)
    phone.fill("input[name=items-1-name]", "Removed again")
    phone.locator(".item-row").nth(1).get_by_role("button", name="Remove this row").click()
    expect(phone.locator(".item-row")).to_have_count(1)
    phone.click("text=Create the draft")
    expect(phone.locator(".flash-success")).to_contain_text("created")
    with app.app_context():
        document = db.session.execute(db.select(Document)).scalar_one()
        assert document.counterparty.name == "ООО «Вектор»"
        assert [item["name"] for item in document.variables["items"]] == ["Разработка"]
    assert page_width(phone) <= 390
    assert phone.console_errors == []


def test_a_tap_places_a_field_on_a_touch_phone(app, browser, live_server, admin):
    with app.app_context():
        document_id = upload_draft(admin["id"]).id
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True, base_url=live_server.url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        browser_log_in(page, admin["email"], admin["password"])
        page.goto(f"/documents/{document_id}/fields")
        page.check("input[name=placement-type][value=initials]")
        layer = page.locator(".placement-layer[data-page='1']")
        size = layer.bounding_box()
        layer.tap(position={"x": size["width"] * 0.5, "y": size["height"] * 0.2})
        expect(page.locator(".placement-field[data-field-id]")).to_have_count(1)
        [field] = fields_of(app, document_id)
        assert field.type == "initials"
        assert field.x + field.w / 2 == pytest.approx(0.5, abs=0.01)
        assert page_width(page) <= 390
    finally:
        context.close()
    assert errors == []


def test_a_double_click_on_create_makes_one_draft(app, phone, admin):
    from pathlib import Path

    with app.app_context():
        signet_company()
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto("/documents/new/upload")
    phone.fill("input[name=title]", "Act for a double click")
    phone.set_input_files("input[name=file]", str(Path(__file__).parent / "fixtures" / "plain.pdf"))
    phone.check("input[name=client_kind][value=person]")
    phone.fill("input[name=client_name]", "Rui Costa")
    phone.fill("input[name=client_email]", "rui@example.com")
    # A second tap while the first request is already on its way.
    phone.locator("button[type=submit].primary").evaluate(
        "button => { button.click(); setTimeout(() => button.click(), 30); }"
    )
    phone.wait_for_url("**/documents/*")
    expect(phone.locator("h1").first).to_contain_text("Act for a double click")
    with app.app_context():
        titles = db.session.execute(db.select(Document.title)).scalars().all()
    assert titles == ["Act for a double click"]
