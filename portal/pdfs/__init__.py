"""The PDF toolkit: accept uploads, describe pages, render previews, all bounded."""

from portal.pdfs.bounded import run_bounded
from portal.pdfs.errors import PdfRejected
from portal.pdfs.geometry import PageGeometry, page_count, page_geometry
from portal.pdfs.ingest import PreparedPdf, ingest_upload
from portal.pdfs.preview import (
    page_unavailable,
    preview_mimetype,
    render_preview,
    stored_page_sizes,
)

__all__ = [
    "PageGeometry",
    "PdfRejected",
    "PreparedPdf",
    "ingest_upload",
    "page_count",
    "page_geometry",
    "page_unavailable",
    "preview_mimetype",
    "render_preview",
    "run_bounded",
    "stored_page_sizes",
]
