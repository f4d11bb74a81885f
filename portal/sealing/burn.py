"""Burn field values (text, images, check marks) into a PDF's pages.

Marks are placed by fractions (x, y, w, h; origin top-left) of the DISPLAYED page, the same
convention as portal.pdfs.page_geometry and the previews. One multi-page reportlab overlay
is drawn in displayed coordinates and merged into each page with the matrix for its
rotation and crop box, so marks land where the user put them on any page.
"""

import math
import threading
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from pypdf import PdfReader, PdfWriter, Transformation
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from portal.config import REPO_ROOT
from portal.pdfs.geometry import PageGeometry, geometry_of

FONT_NAME = "Signet-DejaVuSans"
FONT_PATH = REPO_ROOT / "portal" / "fonts" / "DejaVuSans.ttf"
MARK_KINDS = ("text", "image", "check")
MIN_FONT_SIZE = 4.0
MAX_FONT_SIZE = 48.0
LINE_SPACING = 1.2
TEXT_PADDING = 0.04  # of the box height, at most 2 pt, left and right of the text
INK = (0.05, 0.05, 0.1)
# Fractions may be a hair outside 0..1 after float round trips through the browser.
EPSILON = 1e-6

_font_lock = threading.Lock()
_font_registered = False


@dataclass(frozen=True)
class Mark:
    """One value to burn in: where (fractions of the displayed page) and what."""

    page: int  # 1-based
    x: float
    y: float
    w: float
    h: float
    kind: Literal["text", "image", "check"]
    text: str = ""
    image: bytes | None = None
    font_size: float | None = None  # None: as large as fits the box


def burn_marks(pdf_bytes: bytes, marks: list[Mark]) -> bytes:
    """A new PDF: `pdf_bytes` with every mark drawn into its page content."""
    reader = PdfReader(BytesIO(pdf_bytes), strict=False)
    geometries = [geometry_of(page, number) for number, page in enumerate(reader.pages, 1)]
    for mark in marks:
        _validate(mark, len(geometries))
    writer = PdfWriter(clone_from=reader)
    if not marks:
        return _written(writer)
    by_page: dict[int, list[Mark]] = {}
    for mark in marks:
        by_page.setdefault(mark.page, []).append(mark)
    numbers = sorted(by_page)
    overlay = PdfReader(BytesIO(_overlay(numbers, by_page, geometries)))
    for overlay_page, number in zip(overlay.pages, numbers, strict=True):
        target = writer.pages[number - 1]
        ctm = geometries[number - 1].ctm
        target.merge_transformed_page(overlay_page, Transformation(ctm), over=True)
        # Merging leaves the page's content as one uncompressed stream: ~7 KB a text page.
        target.compress_content_streams()
    return _written(writer)


def _written(writer: PdfWriter) -> bytes:
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _validate(mark: Mark, page_total: int) -> None:
    if mark.kind not in MARK_KINDS:
        raise ValueError(f"unknown mark kind {mark.kind!r}")
    if not 1 <= mark.page <= page_total:
        raise ValueError(f"page {mark.page} does not exist (the PDF has {page_total})")
    values = (mark.x, mark.y, mark.w, mark.h)
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        raise ValueError("mark position must be finite numbers")
    if mark.w <= 0 or mark.h <= 0:
        raise ValueError("mark must have a positive width and height")
    if (mark.x < -EPSILON or mark.y < -EPSILON or mark.x + mark.w > 1 + EPSILON
            or mark.y + mark.h > 1 + EPSILON):
        raise ValueError("mark lies outside the page")
    if mark.kind == "image" and not mark.image:
        raise ValueError("an image mark needs image bytes")
    if mark.font_size is not None and not mark.font_size > 0:
        raise ValueError("font size must be positive")


def _overlay(numbers, by_page, geometries) -> bytes:
    """One reportlab document: one page per marked page, in displayed coordinates."""
    register_font()
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1, pageCompression=1)
    images: dict[bytes, ImageReader] = {}
    for number in numbers:
        geometry = geometries[number - 1]
        pdf.setPageSize((geometry.width, geometry.height))
        for mark in by_page[number]:
            _draw(pdf, mark, geometry, images)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def register_font() -> str:
    """Register DejaVu Sans with reportlab once per process; return its name."""
    global _font_registered
    with _font_lock:
        if not _font_registered:
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
            _font_registered = True
    return FONT_NAME


def _draw(pdf, mark: Mark, geometry: PageGeometry, images) -> None:
    box = geometry.to_displayed_points(mark.x, mark.y, mark.w, mark.h)
    pdf.saveState()
    # Nothing may leak outside the box onto the document's own text.
    clip = pdf.beginPath()
    clip.rect(*box)
    pdf.clipPath(clip, stroke=0, fill=0)
    if mark.kind == "text":
        _draw_text(pdf, mark.text, mark.font_size, box)
    elif mark.kind == "image":
        _draw_image(pdf, mark.image, box, images)
    else:
        _draw_check(pdf, box)
    pdf.restoreState()


# --- text ----------------------------------------------------------------------------------

def _wrap(text: str, size: float, max_width: float) -> list[str]:
    """Lines that fit `max_width`: words wrap, explicit newlines stay, long words break."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if _width(candidate, size) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            while _width(word, size) > max_width and len(word) > 1:
                cut = _longest_prefix(word, size, max_width)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def _longest_prefix(word: str, size: float, max_width: float) -> int:
    cut = 1
    while cut < len(word) and _width(word[: cut + 1], size) <= max_width:
        cut += 1
    return cut


def _width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, FONT_NAME, size)


def _block_height(line_count: int, size: float) -> float:
    ascent, descent = pdfmetrics.getAscentDescent(FONT_NAME, size)
    return (line_count - 1) * size * LINE_SPACING + (ascent - descent)


def _fits(lines: list[str], size: float, width: float, height: float) -> bool:
    return (_block_height(len(lines), size) <= height
            and all(_width(line, size) <= width for line in lines))


def fit_text(text: str, font_size: float | None, width: float, height: float):
    """(size, lines): the requested size (or the largest that fits), shrunk until it fits."""
    size = font_size or min(MAX_FONT_SIZE, height / LINE_SPACING * 0.95)
    size = max(MIN_FONT_SIZE, size)
    lines = _wrap(text, size, width)
    if _fits(lines, size, width, height):
        return size, lines
    low, high = MIN_FONT_SIZE, size  # binary search: the largest size that still fits
    best = (MIN_FONT_SIZE, _wrap(text, MIN_FONT_SIZE, width))
    for _step in range(10):  # (48 - 4) / 2**10: finer than 0.05 pt
        middle = (low + high) / 2
        candidate = _wrap(text, middle, width)
        if _fits(candidate, middle, width, height):
            best, low = (middle, candidate), middle
        else:
            high = middle
    return best


def _draw_text(pdf, text: str, font_size: float | None, box) -> None:
    left, bottom, width, height = box
    if not text.strip():
        return
    padding = min(2.0, height * TEXT_PADDING, width * TEXT_PADDING)
    inner_width = width - 2 * padding
    size, lines = fit_text(text, font_size, inner_width, height)
    ascent, _descent = pdfmetrics.getAscentDescent(FONT_NAME, size)
    block = _block_height(len(lines), size)
    # The block is centred vertically; a block too tall starts at the top and is clipped.
    top = bottom + height - max(0.0, (height - block) / 2)
    baseline = top - ascent
    pdf.setFillColorRGB(*INK)
    pdf.setFont(FONT_NAME, size)
    for line in lines:
        pdf.drawString(left + padding, baseline, line)
        baseline -= size * LINE_SPACING


# --- images and check marks ----------------------------------------------------------------

def _draw_image(pdf, data: bytes, box, images) -> None:
    """The image as large as fits, aspect kept, left-aligned and centred vertically."""
    left, bottom, width, height = box
    reader = images.get(data)
    if reader is None:
        reader = images[data] = ImageReader(BytesIO(data))
    pixel_width, pixel_height = reader.getSize()
    scale = min(width / pixel_width, height / pixel_height)
    draw_width, draw_height = pixel_width * scale, pixel_height * scale
    pdf.drawImage(reader, left, bottom + (height - draw_height) / 2, draw_width, draw_height,
                  mask="auto")


def _draw_check(pdf, box) -> None:
    """A tick centred in the box, as thick as a pen stroke in a box this size."""
    left, bottom, width, height = box
    side = min(width, height)
    x0 = left + (width - side) / 2
    y0 = bottom + (height - side) / 2
    pdf.setStrokeColorRGB(*INK)
    pdf.setLineWidth(side * 0.12)
    pdf.setLineCap(1)
    pdf.setLineJoin(1)
    path = pdf.beginPath()
    path.moveTo(x0 + side * 0.18, y0 + side * 0.52)
    path.lineTo(x0 + side * 0.42, y0 + side * 0.25)
    path.lineTo(x0 + side * 0.84, y0 + side * 0.80)
    pdf.drawPath(path, stroke=1, fill=0)
