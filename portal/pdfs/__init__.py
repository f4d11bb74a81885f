"""The PDF toolkit: accept uploads, describe pages, render previews."""

from portal.pdfs.errors import PdfRejected
from portal.pdfs.geometry import PageGeometry, page_count, page_geometry
from portal.pdfs.ingest import PreparedPdf, ingest_upload
from portal.pdfs.pdfium import PDFIUM_LOCK
from portal.pdfs.preview import preview_mimetype, render_preview

__all__ = [
    "PDFIUM_LOCK",
    "PageGeometry",
    "PdfRejected",
    "PreparedPdf",
    "ingest_upload",
    "page_count",
    "page_geometry",
    "preview_mimetype",
    "render_preview",
]
