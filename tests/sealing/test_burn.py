"""Burn-in: marks land where the fraction says, on any page shape, and text stays text."""

from io import BytesIO

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from portal.pdfs import page_geometry
from portal.sealing.burn import Mark, burn_marks, fit_text
from tests.fixtures import fixture_bytes
from tests.pdfs.support import darkened_box, png, render, with_rotation

TOLERANCE = 0.015
PLACE = (0.55, 0.62, 0.3, 0.12)  # x, y, w, h: lower right, away from the fixtures' text


def black_box_for(pdf_bytes: bytes, x, y, w, h, page=1) -> Mark:
    """An image mark of a black PNG with the box's own aspect, so it fills the box."""
    geometry = page_geometry(pdf_bytes)[page - 1]
    image = png(max(1, round(w * geometry.width)), max(1, round(h * geometry.height)))
    return Mark(page=page, x=x, y=y, w=w, h=h, kind="image", image=image)


def assert_box(found, x, y, w, h):
    assert found is not None, "nothing was drawn"
    assert found == pytest.approx((x, y, x + w, y + h), abs=TOLERANCE)


SHAPES = {
    "plain": fixture_bytes("plain.pdf"),
    "rotated-90": fixture_bytes("rotated-90.pdf"),
    "cropped-offset": fixture_bytes("cropped-offset.pdf"),
    "cropped-offset-rotated-180": with_rotation(fixture_bytes("cropped-offset.pdf"), 180),
    "cropped-offset-rotated-270": with_rotation(fixture_bytes("cropped-offset.pdf"), 270),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_black_box_lands_at_its_fraction_of_the_displayed_page(shape):
    source = SHAPES[shape]
    burned = burn_marks(source, [black_box_for(source, *PLACE)])
    assert_box(darkened_box(source, burned), *PLACE)
    # The page itself is unchanged in shape.
    assert page_geometry(burned) == page_geometry(source)


def test_a_full_block_character_fills_its_box_on_a_rotated_page():
    source = fixture_bytes("rotated-90.pdf")
    # Asked large: it is shrunk to the box (unasked, a value stops at a body-text size).
    mark = Mark(page=1, x=0.1, y=0.7, w=0.05, h=0.08, kind="text", text="█", font_size=48)
    found = darkened_box(source, burn_marks(source, [mark]))
    assert found is not None
    x0, y0, x1, y1 = found
    # Inside the box (a glyph has side bearings and padding), and most of its height.
    assert x0 >= 0.1 - TOLERANCE and x1 <= 0.15 + TOLERANCE
    assert y0 >= 0.7 - TOLERANCE and y1 <= 0.78 + TOLERANCE
    assert y1 - y0 > 0.05


def test_marks_go_to_their_own_pages_only():
    source = fixture_bytes("three-pages.pdf")
    marks = [black_box_for(source, 0.1, 0.5, 0.2, 0.1, page=1),
             black_box_for(source, 0.6, 0.8, 0.3, 0.1, page=3)]
    burned = burn_marks(source, marks)
    assert len(PdfReader(BytesIO(burned)).pages) == 3
    assert_box(darkened_box(source, burned, page=1), 0.1, 0.5, 0.2, 0.1)
    assert darkened_box(source, burned, page=2) is None
    assert_box(darkened_box(source, burned, page=3), 0.6, 0.8, 0.3, 0.1)


def test_cyrillic_and_portuguese_text_is_printed_and_extractable():
    source = fixture_bytes("cropped-offset.pdf")
    marks = [
        Mark(page=1, x=0.1, y=0.7, w=0.6, h=0.05, kind="text", text="Иванов Иван Иванович"),
        Mark(page=1, x=0.1, y=0.8, w=0.6, h=0.05, kind="text", text="João Conceição, São Paulo"),
    ]
    burned = burn_marks(source, marks)
    text = PdfReader(BytesIO(burned)).pages[0].extract_text()
    assert "Иванов Иван Иванович" in text
    assert "João Conceição, São Paulo" in text
    found = darkened_box(source, burned)
    assert found[0] >= 0.1 - TOLERANCE and found[1] >= 0.7 - TOLERANCE
    assert found[2] <= 0.7 + TOLERANCE and found[3] <= 0.85 + TOLERANCE


def test_long_text_wraps_and_shrinks_to_stay_inside_its_box():
    source = fixture_bytes("plain.pdf")
    long_text = ("Общество с ограниченной ответственностью «Ромашка», "
                 "юридический адрес: г. Москва, ул. Ленина, д. 1, офис 15\nИНН 7701234567")
    mark = Mark(page=1, x=0.5, y=0.6, w=0.3, h=0.1, kind="text", text=long_text, font_size=20)
    burned = burn_marks(source, [mark])
    found = darkened_box(source, burned)
    assert found[0] >= 0.5 - 0.005 and found[2] <= 0.8 + 0.005
    assert found[1] >= 0.6 - 0.005 and found[3] <= 0.7 + 0.005
    # Several lines, so the text block spans most of the box height.
    assert found[3] - found[1] > 0.06
    assert "7701234567" in PdfReader(BytesIO(burned)).pages[0].extract_text()


def test_fit_text_keeps_a_requested_size_that_fits_and_shrinks_one_that_does_not():
    size, lines = fit_text("Short", 10, width=200, height=30)
    assert (size, lines) == (10, ["Short"])
    size, lines = fit_text("a long line of words that cannot fit at twenty", 20, 100, 30)
    assert size < 20 and len(lines) >= 2
    size, lines = fit_text("Fit me", None, width=300, height=20)
    assert size == 10 and lines == ["Fit me"]  # unasked: the size of a document's own text
    size, lines = fit_text("Fit me", None, width=300, height=8)
    assert size < 10 and lines == ["Fit me"]


def test_an_image_keeps_its_aspect_and_its_transparency():
    source = fixture_bytes("plain.pdf")
    # A 2:1 signature: black stroke on a transparent background, placed over the document text.
    signature = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    ImageDraw.Draw(signature).rectangle([0, 0, 399, 19], fill=(0, 0, 0, 255))
    buffer = BytesIO()
    signature.save(buffer, "PNG")
    page = page_geometry(source)[0]
    box_w, box_h = 0.4, 0.4 * page.width / page.height  # a square box on the page
    mark = Mark(page=1, x=0.05, y=0.02, w=box_w, h=box_h, kind="image", image=buffer.getvalue())
    burned = burn_marks(source, [mark])
    x0, y0, x1, _y1 = darkened_box(source, burned)
    # Left-aligned, full box width; vertically centred: the 2:1 image starts a quarter down.
    assert (x0, x1) == pytest.approx((0.05, 0.45), abs=TOLERANCE)
    assert y0 == pytest.approx(0.02 + box_h / 4, abs=TOLERANCE)
    # The document's text under the transparent part of the image still shows.
    before, after = render(source), render(burned)
    under_image = (60, 98, 220, 130)  # points from the top-left: the fixture's 2nd-3rd lines
    assert before.crop(under_image).getextrema()[0] < 80  # there is text there
    assert before.crop(under_image).tobytes() == after.crop(under_image).tobytes()


def test_a_check_mark_is_drawn_inside_its_box():
    source = fixture_bytes("plain.pdf")
    burned = burn_marks(source, [Mark(page=1, x=0.7, y=0.5, w=0.04, h=0.03, kind="check")])
    x0, y0, x1, y1 = darkened_box(source, burned)
    assert 0.7 - 0.005 <= x0 < x1 <= 0.74 + 0.005
    assert 0.5 - 0.005 <= y0 < y1 <= 0.53 + 0.005


def test_no_marks_gives_an_equivalent_pdf():
    source = fixture_bytes("three-pages.pdf")
    burned = burn_marks(source, [])
    assert page_geometry(burned) == page_geometry(source)
    assert darkened_box(source, burned, page=2) is None


@pytest.mark.parametrize(
    "mark",
    [
        Mark(page=2, x=0.1, y=0.1, w=0.1, h=0.1, kind="check"),
        Mark(page=0, x=0.1, y=0.1, w=0.1, h=0.1, kind="check"),
        Mark(page=1, x=0.95, y=0.1, w=0.1, h=0.1, kind="check"),
        Mark(page=1, x=0.1, y=-0.1, w=0.1, h=0.1, kind="check"),
        Mark(page=1, x=0.1, y=0.1, w=0, h=0.1, kind="check"),
        Mark(page=1, x=float("nan"), y=0.1, w=0.1, h=0.1, kind="check"),
        Mark(page=1, x=0.1, y=0.1, w=0.1, h=0.1, kind="image"),
        Mark(page=1, x=0.1, y=0.1, w=0.1, h=0.1, kind="stamp"),  # type: ignore[arg-type]
    ],
    ids=["no-such-page", "page-zero", "past-right-edge", "above-top", "no-width", "nan",
         "image-without-bytes", "unknown-kind"],
)
def test_bad_marks_raise_value_error(mark):
    with pytest.raises(ValueError):
        burn_marks(fixture_bytes("plain.pdf"), [mark])
