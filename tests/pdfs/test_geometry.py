"""Page geometry: the displayed page (crop box, rotation) that field fractions refer to."""

from io import BytesIO

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject

from portal.pdfs import page_count, page_geometry
from portal.pdfs.geometry import normalise_rotation
from tests.fixtures import fixture_bytes
from tests.pdfs.support import with_rotation

A4_WIDTH, A4_HEIGHT = 595.2756, 841.8898


def test_a_plain_a4_page_is_portrait_with_its_media_box():
    (page,) = page_geometry(fixture_bytes("plain.pdf"))
    assert page.number == 1 and page.rotation == 0
    assert page.width == pytest.approx(A4_WIDTH) and page.height == pytest.approx(A4_HEIGHT)
    assert page.crop_box == pytest.approx((0, 0, A4_WIDTH, A4_HEIGHT))
    assert not page.is_landscape


def test_a_page_rotated_90_degrees_is_displayed_landscape():
    (page,) = page_geometry(fixture_bytes("rotated-90.pdf"))
    assert page.rotation == 90
    assert (page.width, page.height) == pytest.approx((A4_HEIGHT, A4_WIDTH))
    assert page.is_landscape
    # The crop box stays in unrotated PDF space.
    assert page.crop_box == pytest.approx((0, 0, A4_WIDTH, A4_HEIGHT))


def test_the_displayed_page_is_the_crop_box_of_a_shifted_media_box():
    (page,) = page_geometry(fixture_bytes("cropped-offset.pdf"))
    assert page.crop_box == (150, 260, 645, 960)
    assert (page.width, page.height) == (495, 700)


def test_a_crop_box_reaching_outside_the_media_box_is_clipped_to_it():
    writer = PdfWriter(clone_from=PdfReader(BytesIO(fixture_bytes("cropped-offset.pdf"))))
    writer.pages[0].cropbox.lower_left = (0, 0)  # below and left of the MediaBox
    out = BytesIO()
    writer.write(out)
    (page,) = page_geometry(out.getvalue())
    assert page.crop_box == (100, 200, 645, 960)


def test_rotation_inherited_from_the_page_tree_counts():
    writer = PdfWriter(clone_from=PdfReader(BytesIO(fixture_bytes("three-pages.pdf"))))
    pages_root = writer.root_object["/Pages"].get_object()
    pages_root[NameObject("/Rotate")] = NumberObject(270)
    for page in writer.pages:
        page.pop("/Rotate", None)
    out = BytesIO()
    writer.write(out)
    geometries = page_geometry(out.getvalue())
    assert [g.rotation for g in geometries] == [270, 270, 270]
    assert all(g.is_landscape for g in geometries)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (90, 90), (-90, 270), (450, 90), (180, 180), (100, 90), ("junk", 0)],
)
def test_odd_rotate_values_read_as_pdfium_reads_them(value, expected):
    assert normalise_rotation(value) == expected


def test_the_transform_of_each_rotation_maps_the_displayed_top_left_corner():
    source = fixture_bytes("cropped-offset.pdf")
    x0, y0, x1, y1 = 150, 260, 645, 960
    # Where the displayed top-left corner sits in PDF space for each /Rotate.
    expected = {0: (x0, y1), 90: (x0, y0), 180: (x1, y0), 270: (x1, y1)}
    for rotation, corner in expected.items():
        (page,) = page_geometry(with_rotation(source, rotation))
        a, b, c, d, e, f = page.ctm
        top_left = (0, page.height)
        assert (a * top_left[0] + c * top_left[1] + e,
                b * top_left[0] + d * top_left[1] + f) == pytest.approx(corner)


def test_page_count():
    assert page_count(fixture_bytes("three-pages.pdf")) == 3
    assert page_count(fixture_bytes("plain.pdf")) == 1
