"""The whole flow in headless Chromium on phones: create an act from a template, send it, our
signer signs from the mailed link, the client from the texted link, everyone gets the final PDF."""

import json
import re
import time
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect
from pypdf import PdfReader

from portal.audit.service import events_for
from portal.doctemplates.services import install_builtin_templates
from portal.documents.models import Document
from portal.extensions import db
from portal.signing.filling import signing_date_text
from portal.storage import read
from tests.factories import make_company, make_counterparty, make_user
from tests.helpers import browser_log_in, page_width
from tests.services import LiveServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TIMEOUT = 10_000  # ms, for anything that waits on a mail, a text or the final PDF
LINK = re.compile(r"https?://[^\s\"'<>]+/s/[A-Za-z0-9_\-]+")
CODE = re.compile(r"\b(\d{6})\b")

SENDER = {"email": "sender@example.com", "password": "correct horse battery"}
SIGNER_EMAIL = "director@acme.example"
CLIENT_EMAIL = "office@vektor.example"
CLIENT_PHONE = "+351912345678"
ITEM = "Website redesign, phase one"
CLIENT_TAX_ID = "7701234567"
EVERY_SIGNER_EVENT = ("party.opened", "party.consent", "party.code_sent",
                      "party.code_confirmed", "field.filled", "party.signed")


@pytest.fixture
def app(make_app, smtp_server, sms_gateway):
    """Mail goes to the loopback SMTP server, texts to the loopback SMS gateway."""
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                    SMS_GATEWAY_URL=sms_gateway.url)


@pytest.fixture
def server(app):
    live = LiveServer(app)
    yield live
    live.stop()


@pytest.fixture
def actors(browser, server):
    """A fresh phone-sized browser context per person; each page collects its console errors."""
    contexts = []

    def open_phone():
        context = browser.new_context(viewport=PHONE, base_url=server.url)
        context.set_default_timeout(TIMEOUT)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        return page

    yield open_phone
    for context in contexts:
        context.close()


@pytest.fixture
def stamp_png(tmp_path):
    """A round blue stamp on a transparent background."""
    image = Image.new("RGBA", (240, 240), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 230, 230), outline=(30, 60, 160, 255), width=8)
    draw.ellipse((50, 50, 190, 190), outline=(30, 60, 160, 200), width=4)
    path = tmp_path / "stamp.png"
    image.save(path, "PNG")
    return path


def _no_sideways_scroll(page) -> None:
    width = page_width(page)
    assert width <= PHONE["width"], f"{page.url} scrolls sideways ({width}px)"


def _wait(found, what: str, timeout: float = TIMEOUT / 1000):
    """Poll `found()` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _mails(mailbox, address: str, subject_part: str) -> list:
    return [m for m in mailbox.to(address) if subject_part in m["Subject"]]


def _text_of_mail(message) -> str:
    return message.get_body(("plain",)).get_content()


def _path_of(link: str) -> str:
    """The signing link's path: mails carry SIGNET_BASE_URL, the live server has its own port."""
    return urlsplit(link).path


def _texts_to(sms_gateway, phone: str) -> list[str]:
    texts = []
    for request in sms_gateway.requests:
        body = json.loads(request["body"])
        if body.get("to") == phone:
            texts.append(body["text"])
    return texts


def _image_count(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(BytesIO(pdf)).pages)


# --- the sender --------------------------------------------------------------------------------

def _create_and_send(page) -> int:
    """Log in, create the act from the English template, text the client, send; the id."""
    browser_log_in(page, SENDER["email"], SENDER["password"])
    page.goto("/documents/new")
    page.get_by_label("Template").select_option(label="Act of completed work")
    page.locator("#client-q").press_sequentially("vektor", delay=20)
    page.get_by_label("Vektor LLC").check()
    expect(page.locator(".new-client")).to_be_hidden()
    page.fill("input[name=title]", "Website work, March")
    page.fill("input[name=items-0-name]", ITEM)
    page.fill("input[name=items-0-quantity]", "2")
    page.fill("input[name=items-0-unit]", "stage")
    page.fill("input[name=items-0-price]", "1500")
    _no_sideways_scroll(page)
    page.click("text=Create the draft")
    expect(page.locator(".flash-success")).to_contain_text("created")
    document_id = int(re.search(r"/documents/(\d+)", page.url).group(1))

    # The client has both an email and a phone: email is the default, we text the link.
    page.get_by_role("link", name="Parties", exact=True).click()
    page.wait_for_url(f"**/documents/{document_id}/parties")
    expect(page.locator("input[name=client-stamp_required]")).to_be_checked()
    page.check("input[name=client-channel][value=sms]")
    _no_sideways_scroll(page)
    page.click("text=Save the parties")
    expect(page.locator(".flash-success")).to_contain_text("Parties saved")

    page.get_by_role("button", name="Send for signing").click()
    expect(page.locator(".flash-success")).to_contain_text("Sent for signing")
    _no_sideways_scroll(page)
    return document_id


# --- a signer ----------------------------------------------------------------------------------

def _draw_signature(page, field) -> None:
    pad = field.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):  # a zigzag
        height = box["height"] * (0.3 + (step % 2) * 0.4)
        page.mouse.move(box["x"] + 20 + step * 22, box["y"] + height, steps=2)
    page.mouse.up()
    field.get_by_role("button", name="Save").click()
    expect(field.locator("img.field-image")).to_be_visible()


def _upload_stamp(page, field, stamp_png) -> None:
    upload = field.locator("input[name=method][value=upload]")
    if upload.get_attribute("type") == "radio":
        upload.check()
    field.locator("input[name=image]").set_input_files(str(stamp_png))
    field.get_by_role("button", name="Save").click()
    expect(field.locator("img.field-image")).to_be_visible()


def _sign_through_the_page(page, path: str, read_code, stamp_png) -> None:
    """Agree, confirm the code, fill every field the page asks for, sign."""
    page.goto(path)
    expect(page.get_by_role("heading", name="Read the document, then accept the agreement")
           ).to_be_visible()
    expect(page.locator(".signing-sheet img").first).to_be_visible()
    _no_sideways_scroll(page)

    page.get_by_role("button", name="I agree: send me a code").click()
    expect(page.get_by_role("heading", name="Enter the code we sent you")).to_be_visible()
    page.fill("#signing-code", read_code())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Fill in your fields and sign")).to_be_visible()
    expect(page.locator(".sign-button")).to_be_disabled()
    _no_sideways_scroll(page)

    fields = page.locator(".signing-field:has(form.signing-field-form)")
    filled_stamp = False
    while fields.count():
        # Pinned by id: the ":has(form)" locator moves on to the next field once this one saves.
        field = page.locator(f"#{fields.first.get_attribute('id')}")
        if field.locator("canvas.signature-pad").count():
            _draw_signature(page, field)
        elif field.locator("input[name=image]").count():
            _upload_stamp(page, field, stamp_png)
            filled_stamp = True
        else:
            field.locator("input[name=value]").fill("Accepted in full")
            field.get_by_role("button", name="Save").click()
            expect(field.locator("form.signing-field-form")).to_have_count(0)
    assert filled_stamp, "no stamp field on the signing page"
    _no_sideways_scroll(page)

    expect(page.locator(".sign-button")).to_be_enabled()
    page.get_by_role("button", name="Sign the document").click()
    expect(page.get_by_role("heading", name="You have signed")).to_be_visible()
    _no_sideways_scroll(page)


# --- the test ----------------------------------------------------------------------------------

def test_an_act_goes_from_the_sender_to_both_signers_and_back_as_a_signed_pdf(
        app, server, actors, mailbox, sms_gateway, stamp_png):
    sms_gateway.requests.clear()
    with app.app_context():
        make_user(email=SENDER["email"], name="Sam Sender", password=SENDER["password"],
                  is_admin=True)
        make_company(legal_name="Acme LLC", signer_name="Anna Director",
                     signer_position="Director", signer_email=SIGNER_EMAIL,
                     address="1 Main Street, Lisbon")
        make_counterparty(name="Vektor LLC", kind="company", email=CLIENT_EMAIL,
                          phone=CLIENT_PHONE, representative_name="Ivan Petrov",
                          representative_position="CEO", tax_id=CLIENT_TAX_ID)
        install_builtin_templates()

    # 1. The sender, on a phone.
    sender = actors()
    document_id = _create_and_send(sender)
    with app.app_context():
        document = db.session.get(Document, document_id)
        number = document.number
        assert document.stage == "company_signing"
        assert document.parties_with_role("client")[0].channel == "sms"

    # 2. Our signer: the invitation mail, then the code mail.
    invitation = _wait(lambda: _mails(mailbox, SIGNER_EMAIL, number), "the invitation mail")[0]
    link = LINK.search(_text_of_mail(invitation)).group(0)
    assert _texts_to(sms_gateway, CLIENT_PHONE) == []  # the client waits for our signature

    def signer_code():
        mail = _wait(lambda: _mails(mailbox, SIGNER_EMAIL, "signing code"), "the code mail")[-1]
        return CODE.search(_text_of_mail(mail)).group(1)

    signer = actors()
    _sign_through_the_page(signer, _path_of(link), signer_code, stamp_png)

    # 3. The client: the link and the code arrive by text.
    texts = _wait(lambda: _texts_to(sms_gateway, CLIENT_PHONE), "the client's invitation text")
    client_link = LINK.search(texts[0]).group(0)
    assert number in texts[0]

    def client_code():
        coded = _wait(lambda: [t for t in _texts_to(sms_gateway, CLIENT_PHONE)
                               if not LINK.search(t) and CODE.search(t)], "the code text")
        return CODE.search(coded[-1]).group(1)

    client = actors()
    _sign_through_the_page(client, _path_of(client_link), client_code, stamp_png)

    # 4. Completed, finalized, and everyone has the signed PDF.
    def finalized():
        with app.app_context():
            db.session.commit()  # a fresh snapshot: the job wrote through another connection
            found = db.session.get(Document, document_id)
            return found if found.final_sha256 else None

    _wait(finalized, "the final PDF")
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert document.stage == "completed" and document.completed_at is not None
        events = events_for(document_id)
        types = {event.type for event in events}
        assert {"document.completed", "document.finalized"} <= types
        party_ids = {p.role: p.id for p in document.parties}
        source_images = _image_count(read(document.source_sha256))
        unfilled = [(f.type, f.party.role) for f in document.fields
                    if f.type in ("signature", "stamp") and not f.value_sha256]
        assert unfilled == [], f"image fields left empty: {unfilled}"
        signed_on = signing_date_text("en", document.parties_with_role("client")[0].signed_at)
        for role in ("company", "client"):
            own = {e.type for e in events
                   if e.actor_type == "party" and e.actor_id == party_ids[role]}
            missing = set(EVERY_SIGNER_EVENT) - own
            assert not missing, f"{role} has no audit events {sorted(missing)}"

    for address in (SIGNER_EMAIL, CLIENT_EMAIL, SENDER["email"]):
        signed = _wait(lambda a=address: _mails(mailbox, a, f"Signed: {number}"),
                       f"the signed PDF mail to {address}")
        assert len(signed) == 1, f"{address} got {len(signed)} final mails"
        pdfs = [part.get_content() for part in signed[0].iter_attachments()
                if part.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1, f"no PDF attached for {address}"
        text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdfs[0])).pages)
        assert number in text
        assert ITEM in text
        # Burned into the fields: the client's requisites (the act's body writes "Tax ID 77..."
        # without the colon) and the signing date of both signers.
        assert f"Tax ID: {CLIENT_TAX_ID}" in text
        assert text.count(signed_on) >= 2, f"{signed_on!r} not burned in twice"
        assert _image_count(pdfs[0]) > source_images  # the signatures and stamps

    for page in (sender, signer, client):
        assert page.console_errors == [], f"{page.url}: {page.console_errors}"
