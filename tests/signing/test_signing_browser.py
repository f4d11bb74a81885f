"""A signer on a phone: open the link, agree, type the mailed code, draw, sign (Chromium)."""

import os
import re
import time

import pytest

from portal.documents.models import Document
from portal.extensions import db
from tests.helpers import page_width
from tests.signing.support import sent_document

pytestmark = pytest.mark.browser
CODE = re.compile(r"\b(\d{6})\b")
SCREENSHOTS = os.environ.get("SIGNET_SCREENSHOTS")  # a folder, to look at the pages by eye


@pytest.fixture
def app(make_app, smtp_server):
    """The live server's app mails through the loopback SMTP server."""
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)


def _code_mail(mailbox, address, timeout=5.0):
    """The newest code mail to `address`, waiting for it to arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = [m for m in mailbox.to(address) if "signing code" in m["Subject"]]
        if mails:
            return mails[-1]
        time.sleep(0.05)
    raise AssertionError(f"no code mail to {address}")


def _snap(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"signing-{name}.png"), full_page=True,
                        caret="initial")  # hiding the caret injects a style the CSP refuses


def _no_sideways_scroll(page):
    assert page_width(page) <= 390


def test_a_signer_signs_on_a_phone(app, admin, mailbox, phone):
    with app.app_context():
        signing = sent_document(admin["id"], extra_fields=False)

    phone.goto(signing.url)
    phone.get_by_role("heading", name="Read the document, then accept the agreement").wait_for()
    phone.locator(".signing-sheet img").first.wait_for()
    _no_sideways_scroll(phone)
    _snap(phone, "agree")

    phone.get_by_role("button", name="I agree: send me a code").click()
    phone.get_by_role("heading", name="Enter the code we sent you").wait_for()
    mail = _code_mail(mailbox, "director@signet.example")
    code = CODE.search(mail.get_body(("plain",)).get_content()).group(1)
    phone.fill("#signing-code", code)
    _snap(phone, "code")
    phone.get_by_role("button", name="Confirm").click()
    phone.get_by_role("heading", name="Fill in your fields and sign").wait_for()
    assert phone.locator(".sign-button").is_disabled()

    pad = phone.locator("canvas.signature-pad")
    box = pad.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    phone.mouse.down()
    for step in range(1, 12):  # a zigzag
        height = box["height"] * (0.3 + (step % 2) * 0.4)
        phone.mouse.move(box["x"] + 20 + step * 22, box["y"] + height)
    phone.mouse.up()
    _no_sideways_scroll(phone)
    _snap(phone, "draw")
    phone.locator(".signing-field-form button[type=submit]").click()
    phone.locator(".signing-field.is-filled img.field-image").wait_for()
    assert phone.locator(".sign-button").is_enabled()
    _snap(phone, "filled")

    phone.get_by_role("button", name="Sign the document").click()
    phone.get_by_role("heading", name="You have signed").wait_for()
    _no_sideways_scroll(phone)
    _snap(phone, "signed")
    assert phone.console_errors == []


def test_a_forwarded_link_on_another_phone_asks_for_its_own_code(app, admin, mailbox, phone,
                                                                   browser, live_server):
    with app.app_context():
        signing = sent_document(admin["id"], extra_fields=False)
    phone.goto(signing.url)
    phone.get_by_role("button", name="I agree: send me a code").click()
    phone.get_by_role("heading", name="Enter the code we sent you").wait_for()
    mail = _code_mail(mailbox, "director@signet.example")
    phone.fill("#signing-code", CODE.search(mail.get_body(("plain",)).get_content()).group(1))
    phone.get_by_role("button", name="Confirm").click()
    phone.get_by_role("heading", name="Fill in your fields and sign").wait_for()

    other = browser.new_context(viewport={"width": 390, "height": 844},
                                base_url=live_server.url)
    try:
        forwarded = other.new_page()
        forwarded.goto(signing.url)
        forwarded.get_by_role("heading", name="Enter the code we sent you").wait_for()
        assert forwarded.get_by_text("only in the browser where the code was confirmed").count()
        assert forwarded.locator(".sign-button").count() == 0
        _no_sideways_scroll(forwarded)
        _snap(forwarded, "forwarded")
    finally:
        other.close()
    # The first phone is still in its session.
    phone.reload()
    phone.get_by_role("heading", name="Fill in your fields and sign").wait_for()


def test_the_page_speaks_the_documents_language_until_the_signer_picks_one(app, admin, phone):
    with app.app_context():
        signing = sent_document(admin["id"], extra_fields=False)
        db.session.get(Document, signing.document_id).language = "ru"
        db.session.commit()
    phone.goto(signing.url)  # the browser itself prefers English
    assert phone.locator("html").get_attribute("lang") == "ru"
    assert phone.get_by_role("button", name="I agree: send me a code").count() == 0  # Russian
    phone.locator(".language-picker button[value=pt]").click()
    phone.wait_for_url(f"**{signing.url}")
    assert phone.locator("html").get_attribute("lang") == "pt"
    phone.reload()
    assert phone.locator("html").get_attribute("lang") == "pt"
    _no_sideways_scroll(phone)
    _snap(phone, "language-pt")
    assert phone.console_errors == []


def test_a_value_too_long_for_its_box_is_refused_on_the_phone(app, admin, mailbox, phone):
    with app.app_context():
        signing = sent_document(admin["id"])  # with a text field "Position" among others
    phone.goto(signing.url)
    phone.get_by_role("button", name="I agree: send me a code").click()
    mail = _code_mail(mailbox, "director@signet.example")
    phone.fill("#signing-code", CODE.search(mail.get_body(("plain",)).get_content()).group(1))
    phone.get_by_role("button", name="Confirm").click()
    phone.get_by_role("heading", name="Fill in your fields and sign").wait_for()
    field = phone.locator(f"#field-{signing.fields['text']}")
    field.locator("input[name=value]").fill("Chief executive officer, " * 20)
    field.locator("button[type=submit]").click()
    field.get_by_text("Too long for its box: shorten it.").wait_for()
    _no_sideways_scroll(phone)
    _snap(phone, "too-long")
    field.locator("input[name=value]").fill("Chief executive officer")
    field.locator("button[type=submit]").click()
    phone.locator(f"#field-{signing.fields['text']}.is-filled").wait_for()
