"""On a phone, the client reads the act with the director's signature and its own values drawn in
(Chromium, 390 px), and a browser without the client's signing session does not."""

import re
import time
from io import BytesIO

import pytest
from PIL import Image

from portal.documents.models import Document
from portal.extensions import db
from portal.pdfs import render_preview
from tests.helpers import page_width
from tests.signing.support import HEADERS, data_url, png_bytes, post
from tests.signing.test_preview import (
    CLIENT_ADDRESS,
    CLIENT_TEXT,
    DIRECTOR_SIGNATURE_BOX,
    DIRECTOR_TEXT,
    NOTICE,
    both_signers_document,
    box_pixels,
    client_link,
    pdf_text,
)

pytestmark = pytest.mark.browser
CODE = re.compile(r"\b(\d{6})\b")
DIRECTOR_ADDRESS = "director@signet.example"


@pytest.fixture
def app(make_app, smtp_server):
    """The live server's app mails through the loopback SMTP server."""
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)


def _code(mailbox, address, timeout=5.0) -> str:
    """The code in the newest code mail to `address`, waiting for it to arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = [m for m in mailbox.to(address) if "signing code" in m["Subject"]]
        if mails:
            return CODE.search(mails[-1].get_body(("plain",)).get_content()).group(1)
        time.sleep(0.05)
    raise AssertionError(f"no code mail to {address}")


def _director_signs(app, mailbox, signing) -> None:
    client = app.test_client()
    client.get(signing.url, headers=HEADERS)
    post(client, f"{signing.url}/consent")
    post(client, f"{signing.url}/code", {"code": _code(mailbox, DIRECTOR_ADDRESS)})
    url, fields = f"{signing.url}/fields", signing.fields
    post(client, f"{url}/{fields['signature']}", {"method": "draw",
                                                  "drawing": data_url(png_bytes())})
    post(client, f"{url}/{fields['initials']}", {"method": "type", "typed": "A. P."})
    post(client, f"{url}/{fields['stamp']}", {"method": "upload", "image": (
        BytesIO(png_bytes((120, 120))), "stamp.png")})
    post(client, f"{url}/{fields['text']}", {"value": DIRECTOR_TEXT})
    post(client, f"{url}/{fields['number']}", {"value": "1250"})
    post(client, f"{url}/{fields['checkbox']}", {"value": "yes"})
    assert post(client, f"{signing.url}/sign").headers.get("HX-Redirect") == signing.url


def _has_ink(image: Image.Image) -> bool:
    return image.convert("L").getextrema()[0] < 128


def test_the_client_reads_the_act_as_it_will_be_on_a_phone(app, admin, mailbox, phone,
                                                           browser, live_server):
    with app.app_context():
        signing = both_signers_document(admin["id"])
    _director_signs(app, mailbox, signing)
    link = client_link(app, signing)
    with app.app_context():
        source = db.session.get(Document, link.document_id).source_sha256
        plain = Image.open(BytesIO(render_preview(source, 1, 1000)))
    assert not _has_ink(box_pixels(plain, DIRECTOR_SIGNATURE_BOX))

    phone.goto(link.url)
    phone.get_by_role("button", name="I agree: send me a code").click()
    phone.get_by_role("heading", name="Enter the code we sent you").wait_for()
    phone.fill("#signing-code", _code(mailbox, CLIENT_ADDRESS))
    phone.get_by_role("button", name="Confirm").click()
    phone.get_by_role("heading", name="Fill in your fields and sign").wait_for()

    # The picture the phone shows, taken as a PNG: the director's signature is on it.
    picture = phone.locator("#page-sheet-1 img")
    picture.scroll_into_view_if_needed()
    phone.wait_for_function(
        "() => { const i = document.querySelector('#page-sheet-1 img');"
        " return i.complete && i.naturalWidth > 0; }")
    shown = Image.open(BytesIO(picture.screenshot(type="png")))
    assert shown.width <= 390
    assert _has_ink(box_pixels(shown, DIRECTOR_SIGNATURE_BOX))

    # The client types its position: the page picture is fetched again with it drawn in.
    before = picture.get_attribute("src")
    text_field = phone.locator(f"#field-{link.fields['text']}")
    text_field.locator("input[name=value]").fill(CLIENT_TEXT)
    text_field.locator("button[type=submit]").click()
    phone.locator(f"#field-{link.fields['text']}.is-filled").wait_for()
    phone.wait_for_function(
        "before => document.querySelector('#page-sheet-1 img').getAttribute('src') !== before",
        arg=before)
    assert page_width(phone) <= 390

    # "Open the PDF": a new tab with the draft, every value so far, marked as not signed.
    open_pdf = phone.get_by_role("link", name="Open the PDF")
    assert open_pdf.get_attribute("target") == "_blank"
    draft = phone.request.get(open_pdf.get_attribute("href"))
    assert draft.ok and draft.headers["content-type"] == "application/pdf"
    text = pdf_text(draft.body())
    assert NOTICE in text and DIRECTOR_TEXT in text and CLIENT_TEXT in text

    # The same link in a browser without the client's signing session: no own values.
    elsewhere = browser.new_context(base_url=live_server.url)
    try:
        other = pdf_text(elsewhere.request.get(f"{link.url}/document.pdf").body())
    finally:
        elsewhere.close()
    assert NOTICE in other and DIRECTOR_TEXT in other
    assert CLIENT_TEXT not in other and "Maria Silva" not in other
    assert phone.console_errors == []
