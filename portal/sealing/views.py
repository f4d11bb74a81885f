"""Public download of a final PDF through the signed link in the completion mail (no login)."""

from flask import Blueprint, current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired

from portal.documents.models import Document
from portal.errors import render_error
from portal.extensions import db
from portal.sealing.download import final_pdf_response
from portal.sealing.finalize import load_download
from portal.storage import BlobMissing

bp = Blueprint("downloads", __name__)


@bp.get("/d/<signed>")
def final_pdf(signed: str):
    """Send the signed PDF named by a link from the completion mail."""
    try:
        payload = load_download(signed)
    except SignatureExpired:
        return render_error(410, _("Link expired"), _(
            "This download link is older than 30 days. Ask the sender for the signed document."))
    except BadSignature:
        return render_error(404)
    document = db.session.get(Document, payload.get("d")) if isinstance(payload, dict) else None
    if document is None or not document.final_sha256 \
            or not document.final_sha256.startswith(str(payload.get("h"))):
        return render_error(404)
    try:
        return final_pdf_response(document)
    except BlobMissing:
        current_app.logger.error("Final PDF of document %s is missing", document.id)
        return render_error(404)
