"""Uploads: what is accepted becomes a PDF; what is refused says why in plain words."""

from io import BytesIO

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from portal.pdfs import PdfRejected, ingest_upload
from tests.fixtures import fixture_bytes
from tests.pdfs.support import configured, light_app, render


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return light_app(tmp_path_factory.mktemp("ingest"))


def rejection(app, data, **config) -> str:
    with pytest.raises(PdfRejected) as caught, configured(app, **config):
        ingest_upload(data, "upload")
    assert caught.value.status == 422
    return caught.value.message


def accept(app, data, filename="upload"):
    with app.app_context():
        return ingest_upload(data, filename)


# --- PDFs ----------------------------------------------------------------------------------

def test_a_pdf_is_kept_byte_identical_with_its_pages_described(app):
    data = fixture_bytes("three-pages.pdf")
    prepared = accept(app, data, "contract.pdf")
    assert prepared.pdf_bytes == data
    assert prepared.source_kind == "pdf"
    assert prepared.page_count == 3
    assert [page.number for page in prepared.pages] == [1, 2, 3]
    assert round(prepared.pages[0].width) == 595 and round(prepared.pages[0].height) == 842


def test_the_type_comes_from_the_content_not_the_name(app):
    prepared = accept(app, fixture_bytes("transparent.png"), "scan.pdf")
    assert prepared.source_kind == "png"
    message = rejection(app, fixture_bytes("text-file.pdf"))
    assert message.startswith("This file is not a PDF, PNG or JPEG")


def test_an_empty_file_is_refused(app):
    assert "The file is empty" in rejection(app, b"")


def test_a_file_over_the_size_limit_names_the_limit_in_megabytes(app):
    message = rejection(app, b"%PDF-1.7" + b"0" * 200_000, SIGNET_UPLOAD_MAX_BYTES=128 * 1024)
    assert message == "This file is larger than 0.125 MB. Choose a smaller file."


def test_the_default_limit_is_stated_in_whole_megabytes(app):
    with app.app_context():
        limit = app.config["SIGNET_UPLOAD_MAX_BYTES"]
        with pytest.raises(PdfRejected) as caught:
            ingest_upload(b"%PDF-" + b"0" * limit, "big.pdf")
    assert "larger than 20 MB" in caught.value.message


def test_a_truncated_pdf_is_refused_as_damaged(app):
    message = rejection(app, fixture_bytes("broken-truncated.pdf"))
    assert "This PDF is damaged and cannot be opened" in message


def test_garbage_behind_a_pdf_header_is_refused_as_damaged(app):
    message = rejection(app, b"%PDF-1.7\n" + bytes(range(256)) * 8)
    assert "damaged" in message


def test_an_encrypted_pdf_is_refused_even_with_an_empty_password(app):
    message = rejection(app, fixture_bytes("encrypted-empty-password.pdf"))
    assert "protected with a password" in message
    assert "Remove the protection" in message


def test_a_pdf_with_a_user_password_is_refused_asking_to_remove_it(app):
    writer = PdfWriter(clone_from=PdfReader(BytesIO(fixture_bytes("plain.pdf"))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = BytesIO()
    writer.write(out)
    assert "protected with a password" in rejection(app, out.getvalue())


def test_a_pdf_without_pages_is_refused(app):
    out = BytesIO()
    PdfWriter().write(out)
    assert "This PDF has no pages" in rejection(app, out.getvalue())


def test_too_many_pages_are_refused_with_the_count_and_the_limit(app):
    message = rejection(app, fixture_bytes("three-pages.pdf"), SIGNET_MAX_PAGES=2)
    assert "This PDF has 3 pages; the limit is 2" in message


# --- images --------------------------------------------------------------------------------

def _one_page_pdf(prepared):
    reader = PdfReader(BytesIO(prepared.pdf_bytes))
    assert prepared.page_count == 1 == len(reader.pages)
    return reader


def test_a_png_becomes_a_landscape_a4_page_with_transparency_on_white(app):
    prepared = accept(app, fixture_bytes("transparent.png"))
    _one_page_pdf(prepared)
    page = prepared.pages[0]
    assert (round(page.width), round(page.height)) == (842, 595)
    image = render(prepared.pdf_bytes)
    width, height = image.size
    # The 200x100 image fills the page width: its transparent right half stays white,
    # the black square (pixels 20..79 of 200) is dark.
    assert image.getpixel((int(width * 0.75), height // 2)) > 240
    assert image.getpixel((int(width * 0.25), height // 2)) < 30


def test_a_jpeg_is_turned_by_its_exif_orientation(app):
    prepared = accept(app, fixture_bytes("exif-orientation-6.jpg"))
    _one_page_pdf(prepared)
    page = prepared.pages[0]
    assert page.height > page.width  # stored landscape, displayed portrait
    image = Image.Image.convert(render(prepared.pdf_bytes), "L")
    width, height = image.size
    # The red band along the stored top is along the right edge once turned.
    assert image.getpixel((int(width * 0.97), height // 2)) < 150
    assert image.getpixel((int(width * 0.03), height // 2)) > 240


def test_a_large_photo_is_downsampled_to_a_sensible_resolution(app):
    out = BytesIO()
    Image.new("RGB", (4000, 3000), (200, 180, 160)).save(out, "JPEG", quality=80)
    prepared = accept(app, out.getvalue())
    embedded = PdfReader(BytesIO(prepared.pdf_bytes)).pages[0].images[0].image
    # A 4:3 photo on landscape A4 fills the page height (8.27 in): 1654 pixels at 200 dpi.
    assert (embedded.width, embedded.height) == (2205, 1654)
    assert len(prepared.pdf_bytes) < 300_000


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(app):
    message = rejection(app, fixture_bytes("huge-pixels.png"))
    assert "This image is too large (900 megapixels; the limit is 40)" in message


def test_the_pixel_limit_comes_from_the_configuration(app):
    message = rejection(app, fixture_bytes("transparent.png"), SIGNET_IMAGE_MAX_PIXELS=10_000)
    assert "This image is too large" in message


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n" + b"not really a png", fixture_bytes("exif-orientation-6.jpg")[:400]],
    ids=["png-garbage", "jpeg-truncated"],
)
def test_an_unreadable_image_is_refused(app, data):
    assert "This image is damaged and cannot be read" in rejection(app, data)
