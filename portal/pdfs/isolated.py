"""Work on files the portal did not make; runs only inside the sandbox (portal/sandbox.py).

Upload checks, image conversion and page images: everything that decodes a stream or loads
a page with PDFium happens here, in a child process with a memory and time limit, never in
the web process. Nothing here needs the app: limits come in as arguments, refusals leave as
FileRefused codes (portal/pdfs/errors.py turns them into messages), results are plain values.

A PDF is kept byte-identical unless it carries active content: its sha256 is the evidence of
what the sender uploaded. With active content, the cleaned file is what is kept, shown, signed
and sealed, and the caller tells the sender what was removed.
"""

import math
import warnings
import zlib
from dataclasses import dataclass, field
from io import BytesIO
from typing import Literal

import pikepdf
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps
from pypdf import PdfWriter
from pypdf.errors import LimitReachedError
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject
from reportlab.lib.pagesizes import A4, landscape

from portal.pdfs import active
from portal.pdfs.errors import (
    ALREADY_SIGNED,
    DAMAGED,
    DYNAMIC_FORM,
    ENCRYPTED,
    IMAGE_TOO_LARGE,
    IMAGE_UNREADABLE,
    NO_PAGES,
    PDF_IMAGE_TOO_LARGE,
    TOO_COMPLEX,
    TOO_MANY_PAGES,
    FileRefused,
)
from portal.pdfs.geometry import PageGeometry, geometry_of, reader_for
from portal.pdfs.pdfium import open_document
from portal.sandbox import ExpectedError, preload

preload(__name__)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
# A scan placed on A4 needs no more than this to stay sharp; more only makes the file big.
IMAGE_DPI = 200
A4_LONG_SIDE_PIXELS = math.ceil(A4[1] / 72 * IMAGE_DPI)
# A displayed size differing by more than this between pypdf and PDFium means the two
# libraries read the file differently: previews and burn-in would not line up.
SIZE_TOLERANCE_PT = 1.0
# Every page is drawn this small once at upload: an image of a billion pixels, or a page
# that takes minutes to draw, is refused now rather than found by a signer later.
PROBE_SCALE = 0.08
JPEG_OPTIONS = {"quality": 80, "subsampling": 0}

SourceKind = Literal["pdf", "png", "jpeg"]


class PageMissing(ExpectedError, ValueError):
    """A page number the PDF does not have."""


@dataclass(frozen=True)
class PreparedPdf:
    """An accepted upload: the PDF to keep, what its pages look like, what was removed."""

    pdf_bytes: bytes
    page_count: int
    pages: list[PageGeometry]
    source_kind: SourceKind
    removed: tuple[active.Finding, ...] = field(default_factory=tuple)


def prepare_upload(data: bytes, kind: SourceKind, max_pages: int,
                   max_pixels: int) -> PreparedPdf:
    """The PDF to keep for an upload already sniffed as `kind`, or FileRefused.

    `max_pixels` bounds an uploaded image and every image inside an uploaded PDF alike.
    """
    if kind == "pdf":
        return prepare_pdf(data, max_pages, max_pixels)
    pdf_bytes = image_to_pdf(data, max_pixels)
    pages = [geometry_of(page, 1) for page in reader_for(pdf_bytes).pages]
    return PreparedPdf(pdf_bytes, 1, pages, kind)


def prepare_pdf(data: bytes, max_pages: int, max_pixels: int) -> PreparedPdf:
    _count_pages(data, max_pages)
    _refuse_signed(data)
    cleaned, removed = _without_active_content(data)
    pages = _read_with_pypdf(cleaned)
    _check_with_pdfium(cleaned, pages, max_pixels)
    return PreparedPdf(cleaned, len(pages), pages, "pdf", removed)


def _count_pages(data: bytes, max_pages: int) -> None:
    """Encryption and the page count first, with qpdf: pypdf takes seconds on 100,000 pages."""
    try:
        with pikepdf.open(BytesIO(data)) as pdf:
            # Even with an empty user password: we would have to rewrite the file to sign it.
            if pdf.is_encrypted:
                raise FileRefused(ENCRYPTED)
            count = len(pdf.pages)
    except pikepdf.PasswordError as error:
        raise FileRefused(ENCRYPTED) from error
    except pikepdf.PdfError as error:
        raise FileRefused(DAMAGED) from error
    if count > max_pages:
        raise FileRefused(TOO_MANY_PAGES, count=count, limit=max_pages)
    if count == 0:
        raise FileRefused(NO_PAGES)


# Fields walked to find an existing signature; a real form has a few hundred.
MAX_FIELDS = 20_000


def _refuse_signed(data: bytes) -> None:
    """A file that already carries a digital signature (ours or anyone's) cannot be sealed:
    the seal certifies, and a certification must be the document's first signature."""
    with pikepdf.open(BytesIO(data)) as pdf:
        form = pdf.Root.get("/AcroForm")
        pending = list(form.get("/Fields", [])) if isinstance(form, pikepdf.Dictionary) else []
        seen = set()
        while pending and len(seen) < MAX_FIELDS:
            field = pending.pop()
            if not isinstance(field, pikepdf.Dictionary):
                continue
            if field.is_indirect:
                if field.objgen in seen:
                    continue
                seen.add(field.objgen)
            if field.get("/FT") == "/Sig" and field.get("/V") is not None:
                raise FileRefused(ALREADY_SIGNED)
            pending.extend(field.get("/Kids", []))
        if pending:
            raise FileRefused(TOO_COMPLEX)


def _without_active_content(data: bytes) -> tuple[bytes, tuple[active.Finding, ...]]:
    try:
        return active.remove_active_content(data)
    except active.DynamicXfaForm as error:
        raise FileRefused(DYNAMIC_FORM) from error
    except active.TooComplex as error:
        raise FileRefused(TOO_COMPLEX) from error
    except pikepdf.PdfError as error:  # qpdf refuses what it cannot repair
        raise FileRefused(DAMAGED) from error


def _read_with_pypdf(data: bytes) -> list[PageGeometry]:
    """The pages as pypdf sees them: burn-in places the marks with the same geometry."""
    try:
        reader = reader_for(data)
        if reader.is_encrypted:
            raise FileRefused(ENCRYPTED)
        pages = [geometry_of(page, number) for number, page in enumerate(reader.pages, 1)]
    except FileRefused:
        raise
    except LimitReachedError as error:
        raise FileRefused(TOO_COMPLEX) from error
    except Exception as error:  # pypdf raises many types for hostile or broken files
        raise FileRefused(DAMAGED) from error
    if not pages:
        raise FileRefused(NO_PAGES)
    return pages


def _check_with_pdfium(data: bytes, pages: list[PageGeometry], max_pixels: int) -> None:
    """PDFium draws the previews: it must open the file, see the same pages and draw each."""
    try:
        with open_document(data, with_forms=True) as document:
            if len(document) != len(pages):
                raise FileRefused(DAMAGED)
            for geometry in pages:
                _probe_page(document, geometry, max_pixels)
    except FileRefused:
        raise
    except Exception as error:
        if "password" in str(error).lower():
            raise FileRefused(ENCRYPTED) from error
        raise FileRefused(DAMAGED) from error


def _probe_page(document, geometry: PageGeometry, max_pixels: int) -> None:
    page = document[geometry.number - 1]
    try:
        width, height = page.get_size()
        if (abs(width - geometry.width) > SIZE_TOLERANCE_PT
                or abs(height - geometry.height) > SIZE_TOLERANCE_PT):
            raise FileRefused(DAMAGED)
        _refuse_huge_images(page, max_pixels)
        page.render(scale=PROBE_SCALE, may_draw_forms=True).close()
    finally:
        page.close()


def _refuse_huge_images(page, max_pixels: int) -> None:
    """An image's size is read from its dictionary: decoding a billion pixels takes seconds."""
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=8):
        image_width, image_height = image.get_px_size()
        if image_width * image_height > max_pixels:
            raise FileRefused(PDF_IMAGE_TOO_LARGE, pixels=image_width * image_height,
                              limit=max_pixels)


# --- page images ---------------------------------------------------------------------------

def render_page_jpeg(pdf_bytes: bytes, page: int, width: int) -> bytes:
    """One displayed page as a JPEG exactly `width` pixels wide; ValueError if no such page."""
    return encode_jpeg(render_page_image(pdf_bytes, page, width))


def render_page_image(pdf_bytes: bytes, page: int, width: int) -> Image.Image:
    """Render one displayed page to an RGB image exactly `width` pixels wide."""
    with open_document(pdf_bytes, with_forms=True) as document:
        if page > len(document):
            raise PageMissing(f"page {page} does not exist (the PDF has {len(document)})")
        pdf_page = document[page - 1]
        try:
            page_width, page_height = pdf_page.get_size()
            scale = width / page_width
            bitmap = pdf_page.render(scale=scale, may_draw_forms=True)
            try:
                # A copy: the bitmap's memory belongs to PDFium.
                image = bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            pdf_page.close()
    height = max(1, round(page_height * scale))
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    return image


def encode_jpeg(image: Image.Image) -> bytes:
    # JPEG, measured on a dense 9 pt text page at 1000 px: PNG level 6 took 68 ms for 659 KB,
    # JPEG quality 80 takes 6 ms for 461 KB and small text stays crisp. Without chroma
    # subsampling (4:4:4) thin coloured strokes (blue ink, stamps) keep their edges.
    buffer = BytesIO()
    image.save(buffer, "JPEG", **JPEG_OPTIONS)
    return buffer.getvalue()


def page_sizes(pdf_bytes: bytes) -> list[tuple[float, float]]:
    """Each page's displayed (width, height) in points."""
    return [(page.width, page.height) for page in
            (geometry_of(page, number) for number, page in
             enumerate(reader_for(pdf_bytes).pages, 1))]


# --- images --------------------------------------------------------------------------------

def load_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode an image safely: the pixel count is checked from the header, before decoding."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning: we check the size ourselves just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
            pixels = image.width * image.height
            if pixels > max_pixels:
                raise FileRefused(IMAGE_TOO_LARGE, pixels=pixels, limit=max_pixels)
            if image.format == "JPEG":
                # Decode a big photo at a reduced scale straight away (much faster); the
                # result is still at least the size it will have on the page at IMAGE_DPI.
                image.draft("RGB", (A4_LONG_SIDE_PIXELS, A4_LONG_SIDE_PIXELS))
            image.load()
    except FileRefused:
        raise
    except Image.DecompressionBombError as error:
        # Pillow refuses anything over twice its own limit before we can even look.
        raise FileRefused(IMAGE_TOO_LARGE, pixels=_claimed_pixels(data),
                          limit=max_pixels) from error
    except Exception as error:
        raise FileRefused(IMAGE_UNREADABLE) from error
    try:
        return _flatten(ImageOps.exif_transpose(image))
    except Exception as error:
        raise FileRefused(IMAGE_UNREADABLE) from error


def _claimed_pixels(data: bytes) -> int:
    """The size a PNG header claims (used only for the message)."""
    if data.startswith(PNG_MAGIC) and len(data) >= 24:
        return int.from_bytes(data[16:20], "big") * int.from_bytes(data[20:24], "big")
    return 0


def _flatten(image: Image.Image) -> Image.Image:
    """RGB (or L) on white: transparency composited, palettes and odd modes converted."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def image_to_pdf(data: bytes, max_pixels: int) -> bytes:
    """One A4 page (portrait or landscape like the image) with the image fitted and centred."""
    image = load_image(data, max_pixels)
    page_width, page_height = landscape(A4) if image.width > image.height else A4
    scale = min(page_width / image.width, page_height / image.height)
    draw_width, draw_height = image.width * scale, image.height * scale
    # Downsample to IMAGE_DPI at the placed size; never upsample (it only adds bytes).
    target = (
        max(1, math.ceil(draw_width / 72 * IMAGE_DPI)),
        max(1, math.ceil(draw_height / 72 * IMAGE_DPI)),
    )
    if target[0] < image.width:
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    left, bottom = (page_width - draw_width) / 2, (page_height - draw_height) / 2
    return _single_image_page(
        _image_xobject(image, photo=data.startswith(JPEG_MAGIC)),
        (page_width, page_height),
        f"q {draw_width:.4f} 0 0 {draw_height:.4f} {left:.4f} {bottom:.4f} cm /Im0 Do Q",
    )


def _image_xobject(image: Image.Image, photo: bool) -> StreamObject:
    """JPEG photos stay JPEG inside the PDF (small); everything else stays lossless."""
    xobject = StreamObject()
    xobject.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(image.width),
        NameObject("/Height"): NumberObject(image.height),
        NameObject("/ColorSpace"): NameObject("/DeviceGray" if image.mode == "L" else "/DeviceRGB"),
        NameObject("/BitsPerComponent"): NumberObject(8),
    })
    if photo:
        encoded = BytesIO()
        image.save(encoded, "JPEG", quality=90, optimize=True)
        xobject[NameObject("/Filter")] = NameObject("/DCTDecode")
        xobject.set_data(encoded.getvalue())
    else:
        xobject[NameObject("/Filter")] = NameObject("/FlateDecode")
        xobject.set_data(zlib.compress(image.tobytes(), 6))
    return xobject


def _single_image_page(xobject: StreamObject, size, drawing: str) -> bytes:
    # Written with pypdf rather than reportlab: reportlab ASCII85-encodes image data in
    # pure Python (0.2 s and +25 % for a 12 MP photo), and a setting to stop it is global.
    writer = PdfWriter()
    page = writer.add_blank_page(*size)
    content = StreamObject()
    content.set_data(drawing.encode("ascii"))
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(xobject)}),
    })
    page[NameObject("/Contents")] = writer._add_object(content)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
