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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    StreamObject,
    TextStringObject,
)
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from portal.pdfs import fitting
from portal.pdfs.active import remove_active_content
from portal.pdfs.archival import Archive, make_archival
from portal.pdfs.fitting import (  # noqa: F401 (FONT_NAME and friends are imported from here)
    BOLD_FONT_NAME,
    FONT_NAME,
    LINE_SPACING,
    MAX_FONT_SIZE,
    READABLE_FONT_SIZE,
    TextFit,
    fit_in_box,
    register_font,
    text_fits,
)
from portal.pdfs.geometry import PageGeometry, geometry_of
from portal.sandbox import ExpectedError, preload

preload(__name__)

MARK_KINDS = ("text", "image", "check")
# Text is wrapped and shrunk down to this readable floor; how far below it, and what happens
# when even that is not enough, is portal/pdfs/fitting.py's to say (never a line dropped).
MIN_FONT_SIZE = READABLE_FONT_SIZE
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


@dataclass(frozen=True)
class DocumentInfo:
    """What a reader's "Properties" and a screen reader say of the final PDF."""

    title: str
    author: str
    subject: str
    language: str


def burn_marks(pdf_bytes: bytes, marks: Sequence[Mark]) -> bytes:
    """A new PDF: `pdf_bytes` with every mark drawn into its page content."""
    return compose(pdf_bytes, marks)


def compose(pdf_bytes: bytes, marks: Sequence[Mark], appended: bytes | None = None,
            footer: str | None = None, about: DocumentInfo | None = None) -> bytes:
    """`pdf_bytes` with `marks` burned in, `appended`'s pages after its own, and a footer.

    `footer` is drawn at the foot of every page, with PAGE_PLACEHOLDER and
    TOTAL_PLACEHOLDER replaced. Marks and footers are drawn in one overlay pass; BadMark (a
    ValueError) if a mark is bad. `about` becomes the file's title, author, subject and language.
    """
    reader = PdfReader(BytesIO(pdf_bytes), strict=False)
    draw_marks = marks_drawer(marks, len(reader.pages))
    writer = PdfWriter(clone_from=reader)
    if about is not None:
        _describe(writer, about)
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


def compose_final(pdf_bytes: bytes, marks: Sequence[Mark], appended: bytes | None,
                  footer: str | None, about: DocumentInfo, archive: Archive
                  ) -> tuple[bytes, tuple[str, ...]]:
    """compose(), then the archival layer (portal/pdfs/archival.py): the final PDF before its
    seal, and why it is not PDF/A-3b (empty when it is)."""
    return make_archival(compose(pdf_bytes, marks, appended, footer, about), archive)


def _describe(writer: PdfWriter, about: DocumentInfo) -> None:
    # The uploaded file's own XMP packet would contradict the new title in readers that prefer
    # it: the document information dictionary is the one description the final PDF keeps.
    writer._root_object.pop(NameObject("/Metadata"), None)
    writer.add_metadata({"/Title": about.title, "/Author": about.author,
                         "/Subject": about.subject, "/Creator": "Signet",
                         "/Producer": "Signet"})
    root = writer._root_object
    root[NameObject("/Lang")] = TextStringObject(about.language)
    # Readers show the title instead of the file name when asked to.
    preferences = DictionaryObject(_dictionary(root.get("/ViewerPreferences")))
    preferences[NameObject("/DisplayDocTitle")] = BooleanObject(True)
    root[NameObject("/ViewerPreferences")] = preferences


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
    # Our font from the first operator on: reportlab's default (Helvetica) would be a font
    # the page names and does not embed, which an archival PDF may not have.
    pdf = canvas.Canvas(buffer, invariant=1, pageCompression=1, initialFontName=FONT_NAME)
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


def _draw(pdf, mark: Mark, geometry: PageGeometry, images) -> None:
    box = geometry.to_displayed_points(mark.x, mark.y, mark.w, mark.h)
    pdf.saveState()
    if mark.kind == "text":
        _draw_text(pdf, mark.text, mark.font_size, box)
    else:
        _clip_to(pdf, box)
        if mark.kind == "image":
            _draw_image(pdf, mark.image, box, images)
        else:
            _draw_check(pdf, box)
    pdf.restoreState()


def _clip_to(pdf, box) -> None:
    """Nothing may leak outside the box onto the document's own text."""
    clip = pdf.beginPath()
    clip.rect(*box)
    pdf.clipPath(clip, stroke=0, fill=0)


# --- text ----------------------------------------------------------------------------------

def fit_text(text: str, font_size: float | None, width: float, height: float):
    """(size, lines) of `text` in `width` x `height` points with no padding (see fitting)."""
    fit = fitting.fit_lines(text, width, height, font_size)
    return fit.size, list(fit.lines)


def _draw_text(pdf, text: str, font_size: float | None, box) -> None:
    """Every line of `text` in the box, as fitting.fit_in_box sets it.

    Only a value too long even at the last-resort size (fit.inside False) runs below the box,
    unclipped: content that was signed is never cut off (the sender and the signer were
    warned before).
    """
    left, bottom, width, height = box
    if not text.strip():
        return
    fit: TextFit = fit_in_box(text, width, height, font_size)
    if fit.inside:
        _clip_to(pdf, box)
    ascent, _descent = pdfmetrics.getAscentDescent(FONT_NAME, fit.size)
    spare = max(0.0, height - fit.block_height)
    # One line sits in the middle of its box (a date, a number); several lines start at the
    # top, under the box's caption, as a paragraph does (requisites in a box made for ten).
    top = bottom + height - (spare / 2 if len(fit.lines) == 1 else min(spare, fit.padding))
    baseline = top - ascent
    pdf.setFillColorRGB(*INK)
    pdf.setFont(FONT_NAME, fit.size)
    for line in fit.lines:
        pdf.drawString(left + fit.padding, baseline, line)
        baseline -= fit.size * LINE_SPACING


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
