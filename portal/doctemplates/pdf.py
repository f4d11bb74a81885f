"""HTML to PDF with xhtml2pdf: only our fonts may be read, nothing from the network.

Field anchors: `{{ anchor("client.signature") }}` draws a fully transparent image of a fixed
size (the space a signature needs). Each anchor's image has its own pixel size, so after the
render PDFium finds every anchor by its image object and reads its box. One render is
enough, the layout is exactly the one printed, and the PDF carries no marker text.

The HTML comes from a template its editors wrote (images as data: URIs included), so the
render, the anchor search and the editor's page images run in the sandbox: render_pdf is
called through portal.pdfs.bounded.run_bounded and needs no app.
"""

import base64
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pypdfium2.raw as pdfium_c
from flask_babel import gettext as _
from markupsafe import Markup
from PIL import Image, ImageDraw, ImageFont
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from portal.doctemplates.sandbox import TemplateRefused
from portal.documents.models import FIELD_TYPES
from portal.pdfs.active import remove_active_content
from portal.pdfs.fitting import FONT_NAME, FONT_PATH, register_font
from portal.pdfs.isolated import encode_jpeg, render_page_image
from portal.pdfs.pdfium import open_document
from portal.sandbox import ExpectedError, preload

preload(__name__)

FONT_DIR = (Path(__file__).resolve().parent.parent / "fonts").resolve()
FONT_SCHEME = "signet-font:"
FONT_FILES = {
    "DejaVuSans": "DejaVuSans.ttf",
    "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}
# Logos written into a template as data: URIs stay possible; every other URL is refused.
ALLOWED_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,", re.IGNORECASE)
REFUSED = str(FONT_DIR / "refused-resource")  # does not exist: xhtml2pdf skips it

RESOURCE_POLICY = ResourceAccessPolicy.server(
    base_dir=None,
    extra_roots=(FONT_DIR,),
    allow_remote=False,
    max_resources=10,
    max_render_seconds=30,
)

STANDARD_FONT = "Helvetica"  # what reportlab and xhtml2pdf fall back to
ANCHOR_ROLES = ("company", "client", "approver")
ANCHOR_NAME = re.compile(r"^(company|client|approver)\.([a-z]+)(\.[a-z0-9_]{1,30})?$")
MAX_ANCHORS = 60
# Each anchor's image: (index + 1) x MARKER_HEIGHT_PX pixels, fully transparent.
MARKER_HEIGHT_PX = 3
# The space each field type gets by default, in millimetres (width, height). Requisites run
# to ten lines or more (signer and position, company, tax and registration numbers, a long
# address, bank details): 85 x 60 mm (half an A4 page's width, where the built-in templates
# put it) holds long real ones at about 7 pt (portal/pdfs/fitting.py's readable floor is 6 pt).
ANCHOR_SIZES_MM = {
    "signature": (50, 15),
    "initials": (20, 10),
    "stamp": (40, 40),
    "date": (32, 7),
    "text": (60, 7),
    "number": (30, 7),
    "requisites": (85, 60),
    "checkbox": (5, 5),
}
MAX_ANCHOR_MM = 180
BASE_CSS = f"""
@page {{ size: a4 portrait; margin: 18mm 15mm 18mm 20mm; }}
@font-face {{ font-family: DejaVu; src: url("{FONT_SCHEME}DejaVuSans"); }}
@font-face {{ font-family: DejaVu; src: url("{FONT_SCHEME}DejaVuSans-Bold"); font-weight: bold; }}
@font-face {{ font-family: DejaVu; src: url("{FONT_SCHEME}DejaVuSans-Oblique");
  font-style: italic; }}
@font-face {{ font-family: DejaVu; src: url("{FONT_SCHEME}DejaVuSans-BoldOblique");
  font-weight: bold; font-style: italic; }}
html, body, p, div, span, td, th, h1, h2, h3, h4, li {{ font-family: DejaVu; }}
body {{ font-size: 9.5pt; line-height: 1.35; color: #1b1d24; }}
h1 {{ font-size: 15pt; margin: 0 0 2mm 0; }}
h2 {{ font-size: 11pt; margin: 5mm 0 2mm 0; }}
h3 {{ font-size: 10pt; margin: 3mm 0 1mm 0; }}
h1, h2, h3 {{ page-break-after: avoid; }}
p {{ margin: 0 0 2mm 0; }}
table {{ width: 100%; }}
th, td {{ vertical-align: top; padding: 1.2mm 1.5mm 0.6mm 1.5mm; text-align: left; }}
table.grid th, table.grid td {{ border: 0.5pt solid #8a8f9c; }}
table.grid th {{ background-color: #eef0f5; font-weight: bold; }}
.num {{ text-align: right; }}
.center {{ text-align: center; }}
.muted {{ color: #5b6070; }}
.small {{ font-size: 8pt; }}
.total td {{ font-weight: bold; }}
"""


@dataclass(frozen=True)
class AnchorBox:
    """Where an anchor landed: 1-based page; x, y, w, h as fractions, top-left origin."""

    page: int
    x: float
    y: float
    w: float
    h: float

    def as_dict(self) -> dict:
        return {"page": self.page, "x": self.x, "y": self.y, "w": self.w, "h": self.h}


@dataclass
class RenderedPdf:
    pdf_bytes: bytes
    page_count: int
    anchors: dict[str, AnchorBox] = field(default_factory=dict)
    # JPEGs of the first pages with the anchors outlined, when the editor asked for them.
    previews: tuple[bytes, ...] = ()


class RenderFailed(ExpectedError):
    """xhtml2pdf could not make the PDF; the one argument says why (untranslated)."""


@lru_cache(maxsize=MAX_ANCHORS)
def _marker_png(index: int) -> str:
    image = Image.new("RGBA", (index + 1, MARKER_HEIGHT_PX), (255, 255, 255, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _millimetres(value, default: float) -> float:
    try:
        number = float(value) if value is not None else default
    except (TypeError, ValueError) as error:
        raise TemplateRefused(_("An anchor's width and height are numbers of millimetres.")) \
            from error
    if not 1 <= number <= MAX_ANCHOR_MM:
        raise TemplateRefused(_("An anchor's size must be between 1 and %(max)s mm.",
                                max=MAX_ANCHOR_MM))
    return number


class AnchorRecorder:
    """The `anchor(name, width=None, height=None)` helper of one render (sizes in mm)."""

    def __init__(self):
        self.anchors: dict[str, tuple[int, float, float]] = {}  # name -> (index, w_mm, h_mm)

    def __call__(self, name, width=None, height=None) -> Markup:
        name = str(name)
        match = ANCHOR_NAME.match(name)
        if not match or match.group(2) not in FIELD_TYPES:
            raise TemplateRefused(_(
                "“%(name)s” is not an anchor name: use role.type, e.g. client.signature "
                "(roles: %(roles)s; types: %(types)s).",
                name=name[:60], roles=", ".join(ANCHOR_ROLES), types=", ".join(FIELD_TYPES)))
        if name in self.anchors:
            raise TemplateRefused(_("The anchor “%(name)s” is used twice; add a suffix "
                                    "such as %(name)s.2.", name=name))
        if len(self.anchors) >= MAX_ANCHORS:
            raise TemplateRefused(_("A template may have at most %(count)s anchors.",
                                    count=MAX_ANCHORS))
        default_w, default_h = ANCHOR_SIZES_MM[match.group(2)]
        w_mm, h_mm = _millimetres(width, default_w), _millimetres(height, default_h)
        index = len(self.anchors)
        self.anchors[name] = (index, w_mm, h_mm)
        return Markup('<img class="signet-anchor" alt="" src="data:image/png;base64,{}" '
                      'style="width: {}mm; height: {}mm"/>').format(
            _marker_png(index), f"{w_mm:g}", f"{h_mm:g}")


def _link_callback(uri, rel):
    """Our fonts by name and inline images; anything else points at a file that is not there."""
    uri = str(uri or "")
    if uri.startswith(FONT_SCHEME):
        name = FONT_FILES.get(uri[len(FONT_SCHEME):])
        return str(FONT_DIR / name) if name else REFUSED
    if ALLOWED_DATA_IMAGE.match(uri):
        return None  # kept as it is; the policy still bounds its size
    return REFUSED


def _document(html: str) -> str:
    # The base CSS comes first so a template's own <style> can override it.
    return f'<style type="text/css">{BASE_CSS}</style>\n{html}'


def render_pdf(html: str, recorded: dict, preview_pages: int = 0,
               preview_width: int = 700) -> RenderedPdf:
    """The PDF of `html`, where its `recorded` anchors landed, and page images if asked."""
    # A template may link to javascript: or file: addresses like any HTML: cut them out.
    pdf_bytes, _removed = remove_active_content(html_to_pdf(html))
    page_count, anchors = locate_anchors(pdf_bytes, recorded)
    previews = tuple(_outlined_page(pdf_bytes, page, preview_width, anchors)
                     for page in range(1, min(page_count, preview_pages) + 1))
    return RenderedPdf(pdf_bytes, page_count, anchors, previews)


def html_to_pdf(html: str) -> bytes:
    """Render HTML to PDF bytes; xhtml2pdf's errors become RenderFailed."""
    output = io.BytesIO()
    try:
        with _embedded_fonts_only():
            status = pisa.CreatePDF(_document(html), dest=output, encoding="utf-8",
                                    link_callback=_link_callback,
                                    resource_policy=RESOURCE_POLICY)
    except Exception as error:  # xhtml2pdf raises many kinds on bad markup or limits
        raise RenderFailed(f"{type(error).__name__}: {error}"[:500]) from error
    if status.err:
        errors = [message for mode, _line, message, _fragment in status.log if mode == "error"]
        raise RenderFailed(str(errors[0] if errors else "unknown error")[:500])
    return output.getvalue()


@contextmanager
def _embedded_fonts_only():
    """reportlab starts every page by selecting Helvetica, and xhtml2pdf sets Helvetica on
    the empty text beside an image (our anchors): a standard font that is never embedded,
    which an archival PDF (PDF/A) may not name. While xhtml2pdf renders, the canvas starts in
    our font and "Helvetica" is DejaVu Sans, embedded (only empty text is drawn in it).
    """
    register_font()
    default = rl_config.canvas_basefontname
    standard = pdfmetrics._fonts.get(STANDARD_FONT)
    rl_config.canvas_basefontname = FONT_NAME
    pdfmetrics._fonts[STANDARD_FONT] = _standard_font_stand_in()
    try:
        yield
    finally:
        rl_config.canvas_basefontname = default
        if standard is None:
            pdfmetrics._fonts.pop(STANDARD_FONT, None)
        else:
            pdfmetrics._fonts[STANDARD_FONT] = standard


@lru_cache(maxsize=1)
def _standard_font_stand_in() -> TTFont:
    return TTFont(STANDARD_FONT, str(FONT_PATH))


def _image_boxes(page, page_number: int) -> dict[int, AnchorBox]:
    """Marker images on one page by their index."""
    left, bottom, right, top = page.get_cropbox()
    width, height = right - left, top - bottom
    found = {}
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        px_width, px_height = image.get_px_size()
        if px_height != MARKER_HEIGHT_PX or px_width > MAX_ANCHORS:
            continue
        x0, y0, x1, y1 = image.get_bounds()
        found[px_width - 1] = AnchorBox(
            page=page_number,
            x=round((x0 - left) / width, 5),
            y=round((top - y1) / height, 5),
            w=round((x1 - x0) / width, 5),
            h=round((y1 - y0) / height, 5),
        )
    return found


def locate_anchors(pdf_bytes: bytes, recorded: dict) -> tuple[int, dict[str, AnchorBox]]:
    """The page count and each recorded anchor's box (xhtml2pdf pages are never rotated)."""
    by_index = {}
    with open_document(pdf_bytes) as document:
        page_count = len(document)
        for number in range(1, page_count + 1):
            page = document[number - 1]
            try:
                for index, box in _image_boxes(page, number).items():
                    by_index.setdefault(index, box)
            finally:
                page.close()
    anchors = {name: by_index[index] for name, (index, _w, _h) in recorded.items()
               if index in by_index}
    return page_count, anchors



# --- the editor's page images ----------------------------------------------------------------

ROLE_COLOURS = {"company": (37, 99, 235), "client": (22, 163, 74), "approver": (217, 119, 6)}


@lru_cache(maxsize=1)
def _label_font():
    return ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), 11)


def _outlined_page(pdf_bytes: bytes, page: int, width: int, anchors: dict) -> bytes:
    image = render_page_image(pdf_bytes, page, width)
    _outline_anchors(image, anchors, page)
    return encode_jpeg(image)


def _outline_anchors(image, anchors: dict, page: int) -> None:
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for name, box in anchors.items():
        if box.page != page:
            continue
        colour = ROLE_COLOURS.get(name.split(".")[0], (100, 100, 100))
        left, top = box.x * width, box.y * height
        right, bottom = left + box.w * width, top + box.h * height
        draw.rectangle((left, top, right, bottom), outline=colour, width=2)
        draw.text((left + 3, top + 2), name, fill=colour, font=_label_font())
