"""Burn field values (text, images, check marks) into a PDF's pages.

Marks are placed by fractions (x, y, w, h; origin top-left) of the DISPLAYED page, the same
convention as portal.pdfs.page_geometry and the previews. One multi-page reportlab overlay
is drawn in displayed coordinates and each of its pages is drawn over its page (a form
XObject) with the matrix for the page's rotation and crop box, so marks land where the user
put them on any page.

compose() makes the final PDF's pages (marks, certificate pages, footers) from the stored
source, a file someone uploaded: it runs in the sandbox (portal/sandbox.py), bounded in time
and memory, and needs no app.
"""

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    StreamObject,
)
from reportlab.lib.fonts import addMapping
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from portal.config import REPO_ROOT
from portal.pdfs.active import remove_active_content
from portal.pdfs.geometry import PageGeometry, geometry_of
from portal.sandbox import ExpectedError, preload

preload(__name__)

FONT_NAME = "Signet-DejaVuSans"
BOLD_FONT_NAME = "Signet-DejaVuSans-Bold"
FONT_PATH = REPO_ROOT / "portal" / "fonts" / "DejaVuSans.ttf"
BOLD_FONT_PATH = REPO_ROOT / "portal" / "fonts" / "DejaVuSans-Bold.ttf"
MARK_KINDS = ("text", "image", "check")
MIN_FONT_SIZE = 4.0
MAX_FONT_SIZE = 48.0
LINE_SPACING = 1.2
TEXT_PADDING = 0.04  # of the box height, at most 2 pt, left and right of the text
INK = (0.05, 0.05, 0.1)
OVERLAY_NAME = "/SignetOverlay"
# Fractions may be a hair outside 0..1 after float round trips through the browser.
EPSILON = 1e-6
FOOTER_SIZE = 6.5
FOOTER_BASELINE = 10.0  # points above the displayed page's bottom edge
FOOTER_GREY = (0.42, 0.44, 0.5)
FOOTER_SIDE_MARGIN = 12.0
# In a footer text, where the page's number and the page total go.
PAGE_PLACEHOLDER, TOTAL_PLACEHOLDER = "{page}", "{total}"

# Paints one page of an overlay: a canvas the size of the displayed page, origin bottom-left.
Draw = Callable[[canvas.Canvas, PageGeometry], None]

_font_lock = threading.Lock()
_font_registered = False


class BadMark(ExpectedError, ValueError):
    """A mark that cannot be drawn (a page the PDF lacks, a box off the page...)."""


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


def burn_marks(pdf_bytes: bytes, marks: Sequence[Mark]) -> bytes:
    """A new PDF: `pdf_bytes` with every mark drawn into its page content."""
    return compose(pdf_bytes, marks)


def compose(pdf_bytes: bytes, marks: Sequence[Mark], appended: bytes | None = None,
            footer: str | None = None) -> bytes:
    """`pdf_bytes` with `marks` burned in, `appended`'s pages after its own, and a footer.

    `footer` is drawn at the foot of every page, with PAGE_PLACEHOLDER and
    TOTAL_PLACEHOLDER replaced. Marks and footers are drawn in one overlay pass; BadMark (a
    ValueError) if a mark is bad.
    """
    reader = PdfReader(BytesIO(pdf_bytes), strict=False)
    draw_marks = marks_drawer(marks, len(reader.pages))
    writer = PdfWriter(clone_from=reader)
    if appended:
        writer.append(PdfReader(BytesIO(appended)), import_outline=False)
    total = len(writer.pages)

    def draw(pdf, geometry) -> None:
        draw_marks(pdf, geometry)
        if footer:
            text = footer.replace(PAGE_PLACEHOLDER, str(geometry.number))
            _draw_footer(pdf, text.replace(TOTAL_PLACEHOLDER, str(total)),
                         geometry.width, geometry.height)

    overlay_pages(writer, range(1, total + 1) if footer else {mark.page for mark in marks},
                  draw)
    # The source was cleaned when it was kept; this holds for sources kept before that, too.
    final, _removed = remove_active_content(written(writer))
    return final


def _draw_footer(pdf, text: str, width: float, height: float) -> None:
    # Shrunk to fit a narrow page rather than run off its edges.
    room = max(1.0, width - 2 * min(FOOTER_SIDE_MARGIN, width / 10))
    size = min(FOOTER_SIZE, room / max(1.0, pdfmetrics.stringWidth(text, FONT_NAME, 1)))
    pdf.setFont(FONT_NAME, size)
    pdf.setFillColorRGB(*FOOTER_GREY)
    pdf.drawCentredString(width / 2, min(FOOTER_BASELINE, height / 4), text)


def marks_drawer(marks: Sequence[Mark], page_total: int) -> Draw:
    """A `draw` for overlay_pages painting each page's marks; ValueError if a mark is bad."""
    by_page: dict[int, list[Mark]] = {}
    for mark in marks:
        _validate(mark, page_total)
        by_page.setdefault(mark.page, []).append(mark)
    images: dict[bytes, ImageReader] = {}

    def draw(pdf: canvas.Canvas, geometry: PageGeometry) -> None:
        for mark in by_page.get(geometry.number, ()):
            _draw(pdf, mark, geometry, images)

    return draw


def overlay_pages(writer: PdfWriter, numbers: Iterable[int], draw: Draw) -> None:
    """Let `draw` paint each chosen page (1-based) of `writer` in displayed points.

    `draw(pdf, geometry)` sees a canvas the size of the displayed page, origin bottom-left,
    whatever the page's /Rotate, CropBox or MediaBox origin. All pages share one reportlab
    document (one font embedding, one parse). Each of its pages becomes a form XObject drawn
    over the page with the page's matrix; the page's own content streams are kept as they
    are, never parsed (pypdf's page merge parses and rewrites them: ~4 ms a text page).
    """
    numbers = sorted(set(numbers))
    if not numbers:
        return
    geometries = [geometry_of(writer.pages[number - 1], number) for number in numbers]
    overlay = _overlay_pdf(geometries, draw)
    for overlay_page, geometry in zip(overlay.pages, geometries, strict=True):
        form = writer._add_object(_as_form(overlay_page, writer))
        _draw_form_over(writer, writer.pages[geometry.number - 1], form, geometry.ctm)


def _overlay_pdf(geometries: list[PageGeometry], draw: Draw) -> PdfReader:
    register_font()
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1, pageCompression=1)
    for geometry in geometries:
        pdf.setPageSize((geometry.width, geometry.height))
        draw(pdf, geometry)
        pdf.showPage()
    pdf.save()
    return PdfReader(BytesIO(buffer.getvalue()))


def _as_form(page, writer: PdfWriter) -> StreamObject:
    """A reportlab page as a form XObject for `writer`: its content bytes as they are encoded."""
    form = page["/Contents"].get_object().clone(writer)  # reportlab: one stream a page
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(FloatObject(value) for value in page.mediabox)
    # Fonts and images are indirect: cloned into `writer` once, shared by every form.
    form[NameObject("/Resources")] = page["/Resources"].clone(writer)
    return form


def _draw_form_over(writer: PdfWriter, page, form: IndirectObject, ctm) -> None:
    """Page content becomes: q, its own streams untouched, Q, then the form drawn by `ctm`."""
    name = _register_xobject(page, form)
    matrix = " ".join(_pdf_number(value) for value in ctm)
    # A "q" stream of each page's own: pypdf duplicates a stream shared by content arrays
    # when it clones the file, and warns that the object count exceeds the trailer's.
    save_state = writer._add_object(_content_stream(b"q\n"))
    # Starts with a newline: the page's last stream may end without one.
    drawing = writer._add_object(_content_stream(f"\nQ q {matrix} cm {name} Do Q\n".encode()))
    page[NameObject("/Contents")] = ArrayObject(
        [save_state, *_content_streams(page, writer), drawing])


def _register_xobject(page, form: IndirectObject) -> NameObject:
    """`form` under a new name in the page's XObjects; the name.

    Copy on write: a page's /Resources (its own, or inherited from the page tree) may be
    shared with other pages, so the page gets a copy of its own and the shared one stays.
    """
    resources = DictionaryObject(_inherited_resources(page))
    xobjects = DictionaryObject(_dictionary(resources.get("/XObject")))
    index = 1
    while f"{OVERLAY_NAME}{index}" in xobjects:
        index += 1
    name = NameObject(f"{OVERLAY_NAME}{index}")
    xobjects[name] = form
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    return name


def _inherited_resources(page) -> DictionaryObject:
    """The page's /Resources, else its nearest ancestor's in the page tree, else none."""
    node, seen = page, 0
    while node is not None and seen < 64:  # a page tree can loop in a broken file
        resources = _dictionary(node.get("/Resources"))
        if resources:
            return resources
        node = _resolved(node.get("/Parent"))
        seen += 1
    return DictionaryObject()


def _content_streams(page, writer: PdfWriter) -> list[IndirectObject]:
    """References to the page's content streams, in order; none if it has no content."""
    contents = page.get("/Contents")
    value = _resolved(contents)
    items = list(value) if isinstance(value, ArrayObject) else [contents]
    return [item if isinstance(item, IndirectObject) else writer._add_object(item)
            for item in items if isinstance(_resolved(item), StreamObject)]


def _dictionary(value) -> DictionaryObject:
    """`value` resolved if it is a dictionary; an empty one if missing, null or malformed."""
    value = _resolved(value)
    return value if isinstance(value, DictionaryObject) else DictionaryObject()


def _resolved(value):
    return value.get_object() if value is not None else None


def _content_stream(data: bytes) -> StreamObject:
    stream = StreamObject()
    stream.set_data(data)
    return stream


def _pdf_number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def written(writer: PdfWriter) -> bytes:
    """The writer's PDF as bytes."""
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _validate(mark: Mark, page_total: int) -> None:
    if mark.kind not in MARK_KINDS:
        raise BadMark(f"unknown mark kind {mark.kind!r}")
    if not 1 <= mark.page <= page_total:
        raise BadMark(f"page {mark.page} does not exist (the PDF has {page_total})")
    values = (mark.x, mark.y, mark.w, mark.h)
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        raise BadMark("mark position must be finite numbers")
    if mark.w <= 0 or mark.h <= 0:
        raise BadMark("mark must have a positive width and height")
    if (mark.x < -EPSILON or mark.y < -EPSILON or mark.x + mark.w > 1 + EPSILON
            or mark.y + mark.h > 1 + EPSILON):
        raise BadMark("mark lies outside the page")
    if mark.kind == "image" and not mark.image:
        raise BadMark("an image mark needs image bytes")
    if mark.font_size is not None and not mark.font_size > 0:
        raise BadMark("font size must be positive")


def register_font() -> str:
    """Register DejaVu Sans (regular and bold) with reportlab once per process; the name."""
    global _font_registered
    with _font_lock:
        if not _font_registered:
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
            pdfmetrics.registerFont(TTFont(BOLD_FONT_NAME, str(BOLD_FONT_PATH)))
            # <b> in reportlab paragraphs picks the bold face of the family.
            addMapping(FONT_NAME, 0, 0, FONT_NAME)
            addMapping(FONT_NAME, 1, 0, BOLD_FONT_NAME)
            addMapping(FONT_NAME, 0, 1, FONT_NAME)
            addMapping(FONT_NAME, 1, 1, BOLD_FONT_NAME)
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
