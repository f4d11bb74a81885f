"""The one way a signed (final) PDF leaves the portal over HTTP.

The mail link, the vault, the document page and the API all answer with this response, so the
file keeps one name, one type and one caching rule whichever way it was fetched.
"""

from flask import Response, send_file

from portal.documents.errors import require_files_kept
from portal.documents.models import Document
from portal.sealing.finalize import final_filename
from portal.storage import BlobMissing, path_for

PDF_TYPE = "application/pdf"
# A signed contract is personal: no shared cache, and no copy left behind in the browser.
CACHE_CONTROL = "private, no-store"


def final_pdf_response(document: Document, *, inline: bool = False) -> Response:
    """The document's sealed PDF, as a download or (inline) for the browser's own viewer.

    Raises BlobMissing when the document has no final PDF or its file is not in storage; each
    route answers that in its own way (a page, a JSON error). FilesPurged (410) when the
    company's retention deleted it."""
    require_files_kept(document)
    path = path_for(document.final_sha256 or "")
    if not path.is_file():
        raise BlobMissing(document.final_sha256)
    # The digest is the file's identity: a stronger ETag than a modification time.
    response = send_file(path, mimetype=PDF_TYPE, as_attachment=not inline,
                         download_name=final_filename(document), max_age=0,
                         etag=document.final_sha256)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
