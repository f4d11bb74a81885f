"""Sandbox work for the signer's preview: the source with the marks burned in by compose().

compose() is what the final PDF is made with (portal/sealing/certificate.py assemble_final),
so a preview cannot show a value other than the final will. These functions run in the
sandbox (the source is a file someone uploaded) and need no app.
"""

import math
from io import BytesIO

from pypdf import PdfReader, PdfWriter
from reportlab.pdfbase import pdfmetrics

from portal.pdfs.active import remove_active_content
from portal.pdfs.isolated import render_page_jpeg
from portal.sandbox import preload
from portal.sealing.burn import (
    BOLD_FONT_NAME,
    compose,
    overlay_pages,
    register_font,
    written,
)

preload(__name__)

NOTICE_RED = (0.78, 0.1, 0.12)
NOTICE_BAND = (1.0, 0.93, 0.93)
NOTICE_SIZE = 11.0  # the header line, in points; shrunk to fit a narrow page
NOTICE_MARGIN = 8.0
DIAGONAL_ALPHA = 0.16  # the page's own text must stay readable through it
DIAGONAL_SHARE = 0.8  # of the page's diagonal that the slanted notice spans


def composed_page_jpeg(pdf_bytes: bytes, marks: list, page: int, width: int) -> bytes:
    """Page `page` of `pdf_bytes` with `marks` burned in, as a JPEG `width` pixels wide."""
    return render_page_jpeg(compose(pdf_bytes, marks), page, width)


def draft_pdf(pdf_bytes: bytes, marks: list, notice: str) -> bytes:
    """`pdf_bytes` with `marks` burned in and `notice` across and atop every page.

    The notice is drawn after compose(), over the values too: no page of this file can pass
    for the signed document. Cleaned of active content like everything we hand out.
    """
    composed = compose(pdf_bytes, marks)
    writer = PdfWriter(clone_from=PdfReader(BytesIO(composed)))

    def draw(pdf, geometry) -> None:
        _draw_notice(pdf, notice, geometry.width, geometry.height)

    overlay_pages(writer, range(1, len(writer.pages) + 1), draw)
    drafted, _removed = remove_active_content(written(writer))
    return drafted


def _draw_notice(pdf, notice: str, width: float, height: float) -> None:
    register_font()
    pdf.saveState()
    # A band along the top edge: read first, and pdftotext finds it as one line.
    size = _fitting_size(notice, NOTICE_SIZE, width - 2 * NOTICE_MARGIN)
    band = size * 2.2
    pdf.setFillColorRGB(*NOTICE_BAND)
    pdf.rect(0, height - band, width, band, stroke=0, fill=1)
    pdf.setFillColorRGB(*NOTICE_RED)
    pdf.setFont(BOLD_FONT_NAME, size)
    pdf.drawCentredString(width / 2, height - band + size * 0.75, notice)
    # The same words large and faint from corner to corner.
    diagonal = math.hypot(width, height)
    large = _fitting_size(notice, diagonal / 8, diagonal * DIAGONAL_SHARE)
    pdf.setFillAlpha(DIAGONAL_ALPHA)
    pdf.setFont(BOLD_FONT_NAME, large)
    pdf.translate(width / 2, height / 2)
    pdf.rotate(math.degrees(math.atan2(height, width)))
    pdf.drawCentredString(0, -large * 0.35, notice)
    pdf.restoreState()


def _fitting_size(text: str, size: float, room: float) -> float:
    needed = pdfmetrics.stringWidth(text, BOLD_FONT_NAME, size)
    return size if needed <= room else max(1.0, size * room / needed)
