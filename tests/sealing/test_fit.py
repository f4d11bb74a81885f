"""The one authority on whether a value fits its box: wrap, shrink to 6 pt, report the rest."""

from io import BytesIO

import pytest
from pypdf import PdfReader

from portal.pdfs.fitting import (
    AUTO_FONT_SIZE,
    LAST_RESORT_FONT_SIZE,
    READABLE_FONT_SIZE,
    fit_in_box,
    smallest_height,
    text_fits,
    width_of,
)
from portal.sealing.burn import Mark, burn_marks
from tests.fixtures import fixture_bytes

REQUISITES = "\n".join([
    "Константинопольский Александр Владимирович, Заместитель генерального директора",
    "ООО «Северо-Западная торговая компания «Вектор-Инвест»»",
    "ИНН: 7812345678", "КПП: 781201001", "ОГРН: 1157847000001",
    "Адрес: 197374, г. Санкт-Петербург, Приморский пр-т, д. 54, корп. 1, офис 405",
    "Банк: ПАО «Банк «Санкт-Петербург»", "Р/с: 40702810555000001234",
    "К/с: 30101810900000000790", "БИК: 044030790",
])
MM = 72 / 25.4


def test_a_short_value_is_set_like_the_documents_own_text_on_one_line():
    fit = fit_in_box("03.12.2026", 25 * MM, 6 * MM)
    assert fit.readable and fit.inside and fit.lines == ("03.12.2026",)
    assert fit.size == AUTO_FONT_SIZE == 10  # not a headline beside 9-10 pt body text


def test_long_requisites_fit_a_tall_box_by_wrapping_and_shrinking():
    width, height = 80 * MM, 36 * MM
    fit = fit_in_box(REQUISITES, width, height)
    assert fit.readable and fit.inside and text_fits(REQUISITES, width, height)
    assert READABLE_FONT_SIZE <= fit.size < 10
    # Every line is there (the address wraps), each within the box's width, the block in it.
    assert "".join(fit.lines).replace(" ", "") == REQUISITES.replace("\n", "").replace(" ", "")
    assert len(fit.lines) > len(REQUISITES.splitlines())
    assert all(width_of(line, fit.size) <= width - 2 * fit.padding for line in fit.lines)
    assert fit.block_height <= height


def test_requisites_in_a_one_line_box_are_reported_as_not_fitting():
    # The box the Russian act had: 75 x 7 mm for ten lines.
    width, height = 75 * MM, 7 * MM
    assert not text_fits(REQUISITES, width, height)
    fit = fit_in_box(REQUISITES, width, height)
    # Nothing is dropped: below the readable floor, every line still inside the box.
    assert not fit.readable and fit.inside and fit.size < READABLE_FONT_SIZE
    assert "".join(fit.lines).replace(" ", "") == REQUISITES.replace("\n", "").replace(" ", "")
    # What the editor tells the sender: the height that would do at this width.
    needed = smallest_height(REQUISITES, width)
    assert not text_fits(REQUISITES, width, needed - 2)
    assert text_fits(REQUISITES, width, needed + 1)


def test_a_value_too_long_even_for_the_last_resort_runs_past_the_box_rather_than_lose_lines():
    text = "\n".join(f"line {number}" for number in range(200))
    fit = fit_in_box(text, 40, 10)
    assert fit.size == LAST_RESORT_FONT_SIZE and not fit.inside and not fit.readable
    assert len(fit.lines) == 200


def test_a_requested_size_is_kept_when_it_fits_and_empty_text_always_fits():
    assert fit_in_box("Short", 200, 30, font_size=10).size == 10
    assert text_fits("   ", 5, 5)


@pytest.mark.parametrize("height_mm", [7, 36])
def test_the_burn_in_draws_every_line_whatever_the_box(height_mm):
    source = fixture_bytes("plain.pdf")
    page = PdfReader(BytesIO(source)).pages[0]
    page_height = float(page.mediabox.height)
    mark = Mark(page=1, x=0.1, y=0.5, w=80 * MM / float(page.mediabox.width),
                h=height_mm * MM / page_height, kind="text", text=REQUISITES)
    text = PdfReader(BytesIO(burn_marks(source, [mark]))).pages[0].extract_text()
    squeezed = "".join(text.split())
    for line in REQUISITES.splitlines():
        assert "".join(line.split()) in squeezed, line
