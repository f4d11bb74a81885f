"""The placement editor in Chromium by mouse (1280 px) and by finger (390 px): select, edit,
duplicate, resize, move, zoom, delete and undo, each change checked in the database."""

import re

import pytest
from playwright.sync_api import expect

from portal.documents.models import Field
from portal.extensions import db
from tests.documents.support import META, signature_for, upload_draft, user
from tests.helpers import browser_log_in, page_width

pytestmark = pytest.mark.browser

LONG_LABEL = "Подпись генерального директора"
SELECTED = re.compile(r"\bis-selected\b")


def fields_of(app, document_id):
    with app.app_context():
        return list(db.session.execute(
            db.select(Field).where(Field.document_id == document_id).order_by(Field.id)
        ).scalars())


def draft_with_fields(app, admin_id, *fields_for):
    from portal.documents import services

    with app.app_context():
        document = upload_draft(admin_id)
        company = document.parties_with_role("company")[0]
        client = document.parties_with_role("client")[0]
        services.set_fields(user(admin_id), META, document.id,
                            [make(company, client) for make in fields_for])
        return document.id


def saving(page, method):
    return page.expect_response(lambda r: r.request.method == method and "/fields" in r.url)


def layer_share(page, locator):
    """The field's box as fractions of its page, as the screen shows it."""
    return page.evaluate("""el => {
        const box = el.getBoundingClientRect(), page = el.parentNode.getBoundingClientRect();
        return [(box.left - page.left) / page.width, (box.top - page.top) / page.height,
                box.width / page.width, box.height / page.height];
    }""", locator.element_handle())


def test_mouse_selects_edits_duplicates_resizes_zooms_deletes_and_undoes(app, desktop, admin):
    document_id = draft_with_fields(
        app, admin["id"], lambda company, client: signature_for(client, x=0.1, y=0.5))
    browser_log_in(desktop, admin["email"], admin["password"])
    desktop.goto(f"/documents/{document_id}/fields")
    field = desktop.locator(".placement-field").first
    panel = desktop.locator("#placement-panel")

    # A click selects the field and opens its panel.
    field.click()
    expect(field).to_have_class(SELECTED)
    expect(panel).to_be_visible()
    expect(desktop.locator("#panel-name")).to_have_text("Signature")

    # Rename it and make it optional through the panel.
    desktop.fill("#panel-label", LONG_LABEL)
    desktop.uncheck("#panel-required")
    with saving(desktop, "PATCH") as saved:
        desktop.click("#panel-save")
    assert saved.value.ok
    [stored] = fields_of(app, document_id)
    assert (stored.label, stored.required) == (LONG_LABEL, False)
    expect(desktop.locator("#panel-name")).to_have_text(LONG_LABEL)
    expect(field).to_contain_text("Подпись генерального")

    # Duplicate: a copy a little lower and to the right, same owner, kind and label.
    with saving(desktop, "POST") as saved:
        desktop.click("#panel-duplicate")
    assert saved.value.status == 201
    original, copy = fields_of(app, document_id)
    assert (copy.party_id, copy.type, copy.label, copy.required) == (
        original.party_id, "signature", LONG_LABEL, False)
    assert (copy.x, copy.y) == pytest.approx((original.x + 0.02, original.y + 0.02), abs=1e-6)
    copy_el = desktop.locator(f".placement-field[data-field-id='{copy.id}']")
    expect(copy_el).to_have_class(SELECTED)

    # Resize the copy by its corner.
    handle = copy_el.locator(".placement-handle").bounding_box()
    page_box = desktop.locator(".placement-layer").first.bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    desktop.mouse.move(x, y)
    desktop.mouse.down()
    desktop.mouse.move(x + 40, y + 10, steps=3)
    desktop.mouse.move(x + 80, y + 20, steps=3)
    with saving(desktop, "PATCH") as saved:
        desktop.mouse.up()
    assert saved.value.ok
    resized = fields_of(app, document_id)[1]
    assert resized.w == pytest.approx(copy.w + 80 / page_box["width"], abs=0.004)
    assert resized.h == pytest.approx(copy.h + 20 / page_box["height"], abs=0.004)
    assert (resized.x, resized.y) == (copy.x, copy.y)

    # Zoom in twice and back to the width: bigger pages, the same places on them.
    before = layer_share(desktop, copy_el)
    width = desktop.locator(".placement-page").first.bounding_box()["width"]
    desktop.click("#zoom-in")
    desktop.click("#zoom-in")
    assert desktop.locator(".placement-page").first.bounding_box()["width"] > width * 1.5
    assert layer_share(desktop, copy_el) == pytest.approx(before, abs=0.002)
    expect(desktop.locator("#zoom-level")).not_to_have_text("100%")
    assert page_width(desktop) <= 1280
    desktop.click("#zoom-fit")
    expect(desktop.locator("#zoom-level")).to_have_text("100%")
    assert layer_share(desktop, copy_el) == pytest.approx(before, abs=0.002)
    assert fields_of(app, document_id)[1].w == resized.w  # zooming saves nothing

    # Ctrl+Z undoes the resize, the Undo button the duplicate.
    copy_el.focus()
    with saving(desktop, "PATCH") as saved:
        desktop.keyboard.press("Control+z")
    assert saved.value.ok
    assert (fields_of(app, document_id)[1].w, fields_of(app, document_id)[1].h) == (
        copy.w, copy.h)
    with saving(desktop, "DELETE") as saved:
        desktop.click("#placement-undo")
    assert saved.value.ok
    assert [f.id for f in fields_of(app, document_id)] == [original.id]
    expect(desktop.locator(".placement-field")).to_have_count(1)

    # Delete through the panel, then undo brings it back with its label.
    field.click()
    with saving(desktop, "DELETE") as saved:
        desktop.click("#panel-delete")
    assert saved.value.ok
    expect(desktop.locator(".placement-field")).to_have_count(0)
    expect(panel).to_be_hidden()
    assert fields_of(app, document_id) == []
    with saving(desktop, "POST") as saved:
        desktop.click("#placement-undo")
    assert saved.value.status == 201
    [back] = fields_of(app, document_id)
    assert (back.label, back.x, back.y, back.required) == (
        LONG_LABEL, original.x, original.y, False)

    # Escape lets go of a field; a click on the empty page too, without placing one.
    restored = desktop.locator(f".placement-field[data-field-id='{back.id}']")
    restored.click()
    expect(panel).to_be_visible()
    desktop.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(restored).not_to_have_class(SELECTED)
    restored.click()
    expect(panel).to_be_visible()
    desktop.locator(".placement-layer").first.click(position={"x": 20, "y": 20})
    expect(panel).to_be_hidden()
    expect(desktop.locator(".placement-field")).to_have_count(1)
    assert len(fields_of(app, document_id)) == 1
    assert desktop.console_errors == []


def touch_drag(cdp, start, end, steps=6):
    """A real finger: touch events through the DevTools protocol (pointer type "touch")."""
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                          "touchPoints": [{"x": start[0], "y": start[1]}]})
    for step in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * step / steps
        y = start[1] + (end[1] - start[1]) * step / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                              "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_finger_selects_moves_zooms_and_undoes_with_readable_labels(
        app, browser, live_server, admin):
    document_id = draft_with_fields(
        app, admin["id"],
        lambda company, client: signature_for(company, x=0.1, y=0.3),
        lambda company, client: {**signature_for(client, x=0.6, y=0.3), "label": LONG_LABEL},
        lambda company, client: {"party_id": client.id, "type": "initials", "page": 1,
                                 "x": 0.1, "y": 0.5, "w": 0.1, "h": 0.045},
        lambda company, client: {"party_id": None, "type": "date", "page": 1,
                                 "x": 0.6, "y": 0.5, "w": 0.18, "h": 0.035})
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True, base_url=live_server.url)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        browser_log_in(page, admin["email"], admin["password"])
        page.goto(f"/documents/{document_id}/fields")
        expect(page.locator("#placement.is-ready")).to_have_count(1)
        # No label is cut to a stub: whole words that fit, a shorter name, or the icon alone.
        for text in page.locator(".placement-field-text").all():
            assert text.evaluate("""el => getComputedStyle(el).display === 'none' ||
                el.scrollWidth <= el.clientWidth + 1"""), text.text_content()
        shown = [text.inner_text() for text in page.locator(".placement-field-label").all()]
        assert shown[0] == "Signature" and shown[1] in (LONG_LABEL, "Signature")
        assert shown[2] == ""  # initials at 390 px: the icon alone
        assert shown[3] == "Date"
        labelled = page.locator(".placement-field").nth(1)
        labelled.scroll_into_view_if_needed()

        # A tap selects it; the panel shows its whole label, inside the screen.
        labelled.tap()
        expect(labelled).to_have_class(SELECTED)
        name = page.locator("#panel-name")
        expect(name).to_have_text(LONG_LABEL)
        box = name.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
        assert name.evaluate("el => el.scrollWidth <= el.clientWidth")
        field_box = labelled.bounding_box()
        assert field_box["y"] + field_box["height"] <= page.locator(
            "#placement-panel").bounding_box()["y"], "the sheet hides the field it edits"

        # A finger drags it: the server keeps the new place.
        [_, before, *_] = fields_of(app, document_id)
        layer = page.locator(".placement-layer").first.bounding_box()
        cdp = context.new_cdp_session(page)
        start = (field_box["x"] + 12, field_box["y"] + field_box["height"] / 2)
        with saving(page, "PATCH") as saved:
            touch_drag(cdp, start, (start[0] - 60, start[1] - 50))
        assert saved.value.ok
        moved = fields_of(app, document_id)[1]
        assert moved.x == pytest.approx(before.x - 60 / layer["width"], abs=0.006)
        assert moved.y == pytest.approx(before.y - 50 / layer["height"], abs=0.006)

        # Zoomed in, the page scrolls inside its column and the field keeps its place.
        share = layer_share(page, labelled)
        page.tap("#zoom-in")
        assert page.locator(".placement-page").first.bounding_box()["width"] > layer["width"]
        assert layer_share(page, labelled) == pytest.approx(share, abs=0.002)
        assert page_width(page) <= 390
        page.tap("#zoom-fit")

        # Undo puts it back where it was.
        with saving(page, "PATCH") as saved:
            page.tap("#placement-undo")
        assert saved.value.ok
        undone = fields_of(app, document_id)[1]
        assert (undone.x, undone.y) == (before.x, before.y)
        assert page_width(page) <= 390
    finally:
        context.close()
    assert errors == []
