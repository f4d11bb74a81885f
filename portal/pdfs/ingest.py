"""Turn an upload into the PDF we will send for signing, or refuse it with a clear reason.

The type is read from the content (magic bytes), never from the name. A PDF is kept
byte-identical: its sha256 is the evidence of what the sender uploaded. A PNG or JPEG
becomes a one-page A4 PDF.
"""

import math
import warnings
import zlib
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject
from reportlab.lib.pagesizes import A4, landscape

from portal.pdfs.errors import PdfRejected
from portal.pdfs.geometry import PageGeometry, geometry_of, reader_for
from portal.pdfs.pdfium import open_document

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
# Viewers accept "%PDF-" anywhere in the first KB (some generators put junk before it).
PDF_HEADER_WINDOW = 1024
# A scan placed on A4 needs no more than this to stay sharp; more only makes the file big.
IMAGE_DPI = 200
A4_LONG_SIDE_PIXELS = math.ceil(A4[1] / 72 * IMAGE_DPI)
# A displayed size differing by more than this between pypdf and PDFium means the two
# libraries read the file differently: previews and burn-in would not line up.
SIZE_TOLERANCE_PT = 1.0

SourceKind = Literal["pdf", "png", "jpeg"]


@dataclass(frozen=True)
class PreparedPdf:
    """An accepted upload: the PDF to keep, and what its pages look like."""

    pdf_bytes: bytes
    page_count: int
    pages: list[PageGeometry]
    source_kind: SourceKind


def sniff(data: bytes) -> SourceKind | None:
    """What the bytes are, by content alone."""
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        return "pdf"
    return None


def ingest_upload(data: bytes, filename: str = "") -> PreparedPdf:
    """Check an upload and return it as a PDF ready to store, or raise PdfRejected."""
    # `filename` is only for the reader of a log; the content decides what the file is.
    config = current_app.config
    if not data:
        raise PdfRejected(_("The file is empty. Choose the document again and upload it."))
    max_bytes = config["SIGNET_UPLOAD_MAX_BYTES"]
    if len(data) > max_bytes:
        raise PdfRejected(
            _("This file is larger than %(limit)s MB. Choose a smaller file.",
              limit=_megabytes(max_bytes))
        )
    kind = sniff(data)
    if kind is None:
        raise PdfRejected(
            _("This file is not a PDF, PNG or JPEG. Save the document as a PDF and upload it.")
        )
    if kind == "pdf":
        return _prepare_pdf(data, config["SIGNET_MAX_PAGES"])
    pdf_bytes = image_to_pdf(data, config["SIGNET_IMAGE_MAX_PIXELS"])
    pages = [geometry_of(page, 1) for page in reader_for(pdf_bytes).pages]
    return PreparedPdf(pdf_bytes, 1, pages, kind)


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def _damaged() -> PdfRejected:
    return PdfRejected(
        _("This PDF is damaged and cannot be opened. Open it on your computer, save or "
          "export it as a new PDF, and upload that file.")
    )


def _encrypted() -> PdfRejected:
    return PdfRejected(
        _("This PDF is protected with a password or encryption. Remove the protection "
          "(for example, print it to a new PDF) and upload it again.")
    )


def _prepare_pdf(data: bytes, max_pages: int) -> PreparedPdf:
    pages = _read_with_pypdf(data, max_pages)
    _check_with_pdfium(data, pages)
    return PreparedPdf(data, len(pages), pages, "pdf")


def _read_with_pypdf(data: bytes, max_pages: int) -> list[PageGeometry]:
    try:
        reader = reader_for(data)
        encrypted = reader.is_encrypted
    except Exception as error:  # pypdf raises many types for hostile or broken files
        raise _damaged() from error
    # Even with an empty user password: we would have to rewrite the file to sign it.
    if encrypted:
        raise _encrypted()
    try:
        count = len(reader.pages)
        if count > max_pages:
            raise PdfRejected(
                _("This PDF has %(count)d pages; the limit is %(limit)d. Split it into "
                  "smaller documents.", count=count, limit=max_pages)
            )
        pages = [geometry_of(page, number) for number, page in enumerate(reader.pages, 1)]
    except PdfRejected:
        raise
    except Exception as error:
        raise _damaged() from error
    if not pages:
        raise PdfRejected(_("This PDF has no pages. Choose another file."))
    return pages


def _check_with_pdfium(data: bytes, pages: list[PageGeometry]) -> None:
    """PDFium renders previews: it must open the file and see the same pages as pypdf."""
    try:
        with open_document(data) as document:
            if len(document) != len(pages):
                raise _damaged()
            for geometry in pages:
                page = document[geometry.number - 1]
                try:
                    width, height = page.get_size()
                finally:
                    page.close()
                if (abs(width - geometry.width) > SIZE_TOLERANCE_PT
                        or abs(height - geometry.height) > SIZE_TOLERANCE_PT):
                    raise _damaged()
    except PdfRejected:
        raise
    except Exception as error:
        if "password" in str(error).lower():
            raise _encrypted() from error
        raise _damaged() from error


# --- images --------------------------------------------------------------------------------

def _image_too_large(pixels: int, limit: int) -> PdfRejected:
    return PdfRejected(
        _("This image is too large (%(size)s megapixels; the limit is %(limit)s). Reduce "
          "its size and upload it again.",
          size=f"{pixels / 1_000_000:.0f}", limit=f"{limit / 1_000_000:.0f}")
    )


def _unreadable_image() -> PdfRejected:
    return PdfRejected(
        _("This image is damaged and cannot be read. Save it again, or upload a PDF instead.")
    )


def load_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode an image safely: the pixel count is checked from the header, before decoding."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning: we check the size ourselves just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
            pixels = image.width * image.height
            if pixels > max_pixels:
                raise _image_too_large(pixels, max_pixels)
            if image.format == "JPEG":
                # Decode a big photo at a reduced scale straight away (much faster); the
                # result is still at least the size it will have on the page at IMAGE_DPI.
                image.draft("RGB", (A4_LONG_SIDE_PIXELS, A4_LONG_SIDE_PIXELS))
            image.load()
    except PdfRejected:
        raise
    except Image.DecompressionBombError as error:
        # Pillow refuses anything over twice its own limit before we can even look.
        raise _image_too_large(_claimed_pixels(data), max_pixels) from error
    except Exception as error:
        raise _unreadable_image() from error
    try:
        return _flatten(ImageOps.exif_transpose(image))
    except Exception as error:
        raise _unreadable_image() from error


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
