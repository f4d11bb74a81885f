"""The overlay is drawn over a page without rewriting its content or touching other pages."""

from io import BytesIO

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject

from portal.documents.models import Document
from portal.parties.models import Company
from portal.sealing.burn import Mark, burn_marks, overlay_pages, written
from portal.sealing.certificate import add_footer, assemble_final
from tests.fixtures import fixture_bytes
from tests.pdfs.support import darkened_box, light_app, png, render

TOLERANCE = 0.015
SQUARE = (0.5, 0.7, 0.2, 0.1)  # x, y, w, h of the displayed page, origin top-left
PAGE_TEXT_AREA = (60, 50, 300, 100)  # pixels from the top-left: where "Page 1" is printed


def black_square(pdf, geometry) -> None:
    x, y, w, h = SQUARE
    pdf.rect(x * geometry.width, (1 - y - h) * geometry.height, w * geometry.width,
             h * geometry.height, stroke=0, fill=1)


def stream(data: bytes) -> StreamObject:
    content = StreamObject()
    content.set_data(data)
    return content


def two_pages(resources_on: str, first_page_tail: bytes = b"") -> PdfWriter:
    """Two Letter pages printing "Page n" in Courier. Their /Resources, with a font and an image
    neither draws, are either on the page tree (inherited) or one indirect dictionary shared
    by both pages."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Courier"),
    }))
    image = stream(b"\x00")
    image.update({NameObject("/Type"): NameObject("/XObject"),
                  NameObject("/Subtype"): NameObject("/Image"),
                  NameObject("/Width"): NumberObject(1), NameObject("/Height"): NumberObject(1),
                  NameObject("/ColorSpace"): NameObject("/DeviceGray"),
                  NameObject("/BitsPerComponent"): NumberObject(8)})
    resources = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): font}),
        NameObject("/XObject"): DictionaryObject({NameObject("/Logo"): writer._add_object(image)}),
    })
    shared = writer._add_object(resources)
    for number in (1, 2):
        page = writer.add_blank_page(612, 792)
        del page["/Resources"]
        text = b"BT /F1 36 Tf 72 720 Td (Page %d) Tj ET" % number
        page[NameObject("/Contents")] = writer._add_object(
            stream(text + (first_page_tail if number == 1 else b"")))
        if resources_on == "page":
            page[NameObject("/Resources")] = shared
    if resources_on == "tree":
        writer.pages[0]["/Parent"].get_object()[NameObject("/Resources")] = shared
    return writer


def assert_square(found) -> None:
    x, y, w, h = SQUARE
    assert found == pytest.approx((x, y, x + w, y + h), abs=TOLERANCE)


@pytest.mark.parametrize("resources_on", ["tree", "page"])
def test_only_the_chosen_page_gets_the_overlay_and_keeps_its_own_fonts(resources_on):
    writer = two_pages(resources_on)
    before = written(writer)
    overlay_pages(writer, [1], black_square)
    after = written(writer)

    assert_square(darkened_box(before, after, page=1))
    assert darkened_box(before, after, page=2) is None
    # The page's own text still finds its font, now through the page's copy of the resources.
    shown_before = render(before).crop(PAGE_TEXT_AREA)
    assert shown_before.getextrema()[0] < 80
    assert shown_before.tobytes() == render(after).crop(PAGE_TEXT_AREA).tobytes()
    reader = PdfReader(BytesIO(after))
    assert set(reader.pages[0]["/Resources"]["/XObject"]) == {"/Logo", "/SignetOverlay1"}
    assert "/F1" in reader.pages[0]["/Resources"]["/Font"]
    assert set(reader.pages[1]["/Resources"]["/XObject"]) == {"/Logo"}
    if resources_on == "tree":
        assert set(reader.pages[0]["/Parent"]["/Resources"]["/XObject"]) == {"/Logo"}


def test_the_page_content_is_kept_byte_for_byte_between_a_save_and_a_restore():
    writer = two_pages("page")
    original = writer.pages[0]["/Contents"].get_object().get_data()
    overlay_pages(writer, [1], black_square)
    contents = PdfReader(BytesIO(written(writer))).pages[0]["/Contents"]
    data = [part.get_object().get_data() for part in contents]
    assert data[0].strip() == b"q"
    assert data[1] == original
    drawing = data[2].split()
    assert drawing[:2] == [b"Q", b"q"] and drawing[-2:] == [b"Do", b"Q"]


def test_a_page_that_leaves_its_graphics_state_changed_still_gets_the_square_in_place():
    # Scaled by two and a light grey fill, never restored: the overlay must not inherit either.
    writer = two_pages("page", first_page_tail=b"\n2 0 0 2 0 0 cm 0.9 g")
    before = written(writer)
    overlay_pages(writer, [1], black_square)
    assert_square(darkened_box(before, written(writer)))


def test_a_second_overlay_on_the_same_page_gets_a_name_of_its_own():
    source = fixture_bytes("plain.pdf")
    mark = Mark(page=1, x=0.55, y=0.62, w=0.3, h=0.12, kind="image", image=png(60, 24))
    burned = burn_marks(source, [mark])
    stamped = add_footer(burned, document_id=7, verification_code="ABCD-EFGH-JKMN")
    page = PdfReader(BytesIO(stamped)).pages[0]
    assert set(page["/Resources"]["/XObject"]) >= {"/SignetOverlay1", "/SignetOverlay2"}
    assert "Document 7" in page.extract_text()
    # The footer was added at the foot; the mark above it is still there, unchanged.
    _x0, footer_top, _x1, _y1 = darkened_box(burned, stamped)
    assert footer_top > 0.95
    above_the_footer = (0, 0, render(burned).width, render(burned).height * 0.9)
    with_mark = render(burned).crop(above_the_footer)
    assert with_mark.tobytes() != render(source).crop(above_the_footer).tobytes()
    assert with_mark.tobytes() == render(stamped).crop(above_the_footer).tobytes()


def a_document() -> Document:
    return Document(id=9, number="ACT-9", title="Act", language="ru", page_count=3,
                    verification_code="ABCD-EFGH-JKMN", parties=[],
                    company=Company(legal_name="ООО «Ромашка»"))


def final_with(tmp_path, marks) -> bytes:
    with light_app(tmp_path).app_context():
        return assemble_final(fixture_bytes("three-pages.pdf"), a_document(), marks=marks,
                              original_sha256="0" * 64, events=[], chain_head="",
                              verify_url="http://localhost/verify")


def test_assemble_final_burns_the_marks_and_stamps_the_footers_in_one_pass(tmp_path):
    marks = [Mark(page=3, x=0.1, y=0.5, w=0.5, h=0.05, kind="text", text="Иванов И. И."),
             Mark(page=1, x=0.6, y=0.8, w=0.3, h=0.1, kind="image", image=png(90, 30))]
    final = final_with(tmp_path, marks)
    plain = final_with(tmp_path, [])
    assert darkened_box(plain, final, page=1) == pytest.approx((0.6, 0.8, 0.9, 0.9),
                                                                abs=TOLERANCE)
    assert darkened_box(plain, final, page=2) is None
    reader = PdfReader(BytesIO(final))
    assert "Иванов И. И." in reader.pages[2].extract_text()
    total = len(reader.pages)
    assert total > 3
    for number, page in enumerate(reader.pages, 1):
        assert f"Страница {number} из {total}" in " ".join(page.extract_text().split())
        # One overlay for the marks and the footer together.
        forms = {name for name in page["/Resources"]["/XObject"] if "Signet" in name}
        assert forms == {"/SignetOverlay1"}, number


def test_a_mark_past_the_documents_own_pages_is_refused_even_with_certificate_pages(tmp_path):
    with pytest.raises(ValueError):
        final_with(tmp_path, [Mark(page=4, x=0.1, y=0.1, w=0.1, h=0.1, kind="check")])
