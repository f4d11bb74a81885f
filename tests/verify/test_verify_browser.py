"""The verify page in headless Chromium: a phone uploads a PDF and reads the verdict."""

import pytest
from playwright.sync_api import expect

from tests.fixtures import fixture_bytes
from tests.helpers import page_width
from tests.verify.page_files import CODE, NUMBER, issue, sealed_pdf, with_added_page

pytestmark = pytest.mark.browser


def _choose(page, name: str, data: bytes) -> None:
    page.set_input_files("#verify-file", {"name": name, "mimeType": "application/pdf",
                                          "buffer": data})


def _fits(page) -> None:
    width = page_width(page)
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{page.url} scrolls sideways ({width}px > {viewport}px)"


@pytest.fixture
def sealed(app, admin):
    """Our sealed PDF, registered as the final copy of a completed document."""
    with app.app_context():
        final = sealed_pdf()
        issue(admin["id"], final)
    return final


def test_a_phone_uploads_the_signed_pdf_and_sees_it_is_authentic(phone, sealed):
    phone.goto("/verify")
    _fits(phone)
    _choose(phone, "act.pdf", sealed)
    phone.get_by_role("button", name="Check the document").click()

    expect(phone.locator("#verdict h1")).to_have_text("Authentic and unchanged")
    expect(phone.locator("#registry")).to_contain_text(NUMBER)
    expect(phone.locator("#registry")).to_contain_text("Maria Silva")
    _fits(phone)
    assert phone.console_errors == []


def test_the_qr_link_shows_the_document_and_a_changed_copy_is_caught(phone, sealed):
    phone.goto(f"/verify?code={CODE}")
    expect(phone.locator("#code-document")).to_contain_text(NUMBER)
    expect(phone.locator("#verify-code")).to_have_value(CODE)
    _fits(phone)

    _choose(phone, "act.pdf", with_added_page(sealed))
    phone.get_by_role("button", name="Check the document").click()

    expect(phone.locator("#verdict h1")).to_have_text("Changed after signing")
    expect(phone.locator("#signatures")).to_contain_text("1 page was added")
    expect(phone.locator("#registry")).to_contain_text(f"belongs to document {NUMBER}")
    _fits(phone)
    assert phone.console_errors == []


@pytest.mark.parametrize("name,data,title", [
    ("plain.pdf", fixture_bytes("plain.pdf"), "Not signed"),
    ("notes.pdf", fixture_bytes("text-file.pdf"), "Not a PDF or unreadable"),
])
def test_other_verdicts_read_clearly_on_a_phone(phone, name, data, title):
    phone.goto("/verify")
    _choose(phone, name, data)
    phone.get_by_role("button", name="Check the document").click()

    expect(phone.locator("#verdict h1")).to_have_text(title)
    _fits(phone)
    assert phone.console_errors == []


def test_a_file_over_the_limit_is_refused_before_it_is_sent(app, phone):
    app.config["SIGNET_UPLOAD_MAX_BYTES"] = 4096
    phone.goto("/verify")
    requests = []
    phone.on("request", lambda request: request.method == "POST" and requests.append(request))

    _choose(phone, "big.pdf", fixture_bytes("plain.pdf"))
    expect(phone.locator("#verify-file-error")).to_contain_text("larger than 4 KB")
    phone.get_by_role("button", name="Check the document").click()

    expect(phone.locator("#verify-file-error")).to_be_visible()
    assert requests == [] and phone.url.endswith("/verify")
    assert phone.console_errors == []


def test_the_seal_help_folds_under_a_result_and_the_ca_downloads(desktop, sealed):
    desktop.goto("/verify")
    with desktop.expect_download() as download:
        desktop.get_by_role("link", name="Certificate (.cer)").click()
    assert download.value.suggested_filename == "signet-ca.cer"

    _choose(desktop, "act.pdf", sealed)
    desktop.get_by_role("button", name="Check the document").click()
    expect(desktop.locator("#verdict h1")).to_have_text("Authentic and unchanged")
    help_link = desktop.get_by_role("link", name="All certificates (.pem)")
    expect(help_link).to_be_hidden()
    desktop.locator("#trust summary").click()
    expect(help_link).to_be_visible()
    assert desktop.console_errors == []
