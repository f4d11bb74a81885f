"""Turn an upload into the PDF we will send for signing, or refuse it with a clear reason.

The type is read from the content (magic bytes), never from the name. What costs nothing is
checked here; everything that parses the file runs bounded in the sandbox
(portal/pdfs/isolated.py): a PDF is kept byte-identical unless it carried active content,
which is removed and named in `PreparedPdf.removed`; a PNG or JPEG becomes a one-page A4 PDF.
"""

from flask import current_app

from portal.pdfs.bounded import run_bounded
from portal.pdfs.errors import EMPTY, NOT_SUPPORTED, TOO_LARGE, rejection
from portal.pdfs.isolated import JPEG_MAGIC, PNG_MAGIC, PreparedPdf, SourceKind, prepare_upload

# Viewers accept "%PDF-" anywhere in the first KB (some generators put junk before it).
PDF_HEADER_WINDOW = 1024

__all__ = ["PreparedPdf", "ingest_upload", "sniff"]


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
        raise rejection(EMPTY)
    if len(data) > config["SIGNET_UPLOAD_MAX_BYTES"]:
        raise rejection(TOO_LARGE)
    kind = sniff(data)
    if kind is None:
        raise rejection(NOT_SUPPORTED)
    return run_bounded(prepare_upload, data, kind, config["SIGNET_MAX_PAGES"],
                       config["SIGNET_IMAGE_MAX_PIXELS"])
