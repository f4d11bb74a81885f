"""A visitor on a phone, then on a desktop: details, code, agree, draw, sign; our signer
pre-signing a link the same way (Chromium)."""

import pytest

from tests.helpers import page_width
from tests.links.support import invitation_path, link_state, publish, publish_presigned
from tests.signing.support import last_code, png_bytes

pytestmark = pytest.mark.browser


def _fits(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 844 if width < 600 else 900})
    assert page_width(page) <= width


def _fits_both(page) -> None:
    _fits(page, 1280)
    _fits(page, 390)


def test_a_visitor_signs_through_a_public_link(app, admin, phone):
    with app.app_context():
        published = publish(admin["id"], title="Standard offer", values={
            "currency": "EUR", "items": [{"name": "Logo", "quantity": "1", "price": "1250"}]})
    phone.goto(published.url)
    phone.get_by_role("heading", name="Standard offer").wait_for()
    _fits_both(phone)
    assert "1,250.00\u00a0EUR" in phone.locator("#visitor-terms").inner_text()  # what it costs
    phone.get_by_label("A company").check()
    assert phone.get_by_label("Who signs for the company").is_visible()
    phone.get_by_label("A person").check()
    assert not phone.get_by_label("Who signs for the company").is_visible()
    phone.get_by_label("Full name, or the company's name").fill("Maria Silva")
    phone.get_by_label("Email").fill("maria@example.com")
    phone.get_by_role("button", name="Send me a code").click()

    phone.get_by_role("heading", name="Enter the code we sent you").wait_for()
    _fits_both(phone)
    with app.app_context():
        code = last_code("maria@example.com")
    phone.get_by_label("Code").fill(code)
    phone.get_by_role("button", name="Confirm and open the document").click()

    phone.get_by_role("heading", name="Read the document, then accept the agreement").wait_for()
    _fits_both(phone)
    phone.get_by_role("button", name="I agree", exact=True).click()
    phone.get_by_role("heading", name="Fill in your fields and sign").wait_for()
    pad = phone.locator("canvas.signature-pad")
    box = pad.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    phone.mouse.down()
    for step in range(1, 10):
        phone.mouse.move(box["x"] + 20 + step * 22,
                         box["y"] + box["height"] * (0.3 + (step % 2) * 0.4))
    phone.mouse.up()
    phone.locator(".signing-field-form button[type=submit]").click()
    phone.locator(".signing-field.is-filled img.field-image").wait_for()
    phone.get_by_role("button", name="Sign the document").click()
    phone.get_by_role("heading", name="You have signed").wait_for()
    _fits_both(phone)
    assert phone.console_errors == []


def test_our_signer_presigns_a_link_on_a_phone(app, admin, phone, tmp_path):
    published = publish_presigned(app, admin["id"])
    phone.goto(invitation_path(app))
    phone.get_by_role("heading", name="Read and accept the agreement").wait_for()
    _fits_both(phone)
    phone.get_by_role("button", name="I agree: send me a code").click()
    phone.get_by_role("heading", name="Enter the code we sent you").wait_for()
    _fits_both(phone)
    with app.app_context():
        code = last_code("director@signet.example")
    phone.get_by_label("Code").fill(code)
    phone.get_by_role("button", name="Confirm", exact=True).click()
    phone.get_by_role("heading", name="Your signature for the link").wait_for()
    _fits_both(phone)
    assert not phone.get_by_label("Your name as it should appear").is_visible()
    pad = phone.locator("canvas.signature-pad")
    box = pad.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    phone.mouse.down()
    for step in range(1, 10):
        phone.mouse.move(box["x"] + 20 + step * 22,
                         box["y"] + box["height"] * (0.3 + (step % 2) * 0.4))
    phone.mouse.up()
    stamp = tmp_path / "stamp.png"
    stamp.write_bytes(png_bytes(size=(160, 160)))
    phone.get_by_label("Stamp image").set_input_files(str(stamp))
    phone.get_by_role("button", name="Sign for the link").click()
    phone.get_by_role("heading", name="Signed for the link").wait_for()
    _fits_both(phone)
    assert link_state(app, published.link_id) == "open"
    assert phone.console_errors == []
