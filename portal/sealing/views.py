"""Public download of a final PDF through the signed link in the completion mail (no login),
and the portal CA's public files: its CRL and certificate (what seal certificates point to)."""

from cryptography.hazmat.primitives import serialization
from flask import Blueprint, Response, current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired

from portal.documents.models import Document
from portal.errors import render_error
from portal.extensions import db
from portal.sealing.archive import was_final
from portal.sealing.download import final_pdf_response
from portal.sealing.finalize import load_download
from portal.sealing.store import current_crl, portal_certificates
from portal.storage import BlobMissing

bp = Blueprint("downloads", __name__)
pki_bp = Blueprint("pki", __name__, url_prefix="/pki")
# Readers and validators may keep the CRL this long; a revocation shows within the hour.
PKI_MAX_AGE = 3600


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
    # A link mailed before an archive time stamp names the earlier file: the current one is sent.
    if document is None or not document.final_sha256 or not (
            document.final_sha256.startswith(str(payload.get("h")))
            or was_final(document.id, str(payload.get("h")))):
        return render_error(404)
    try:
        return final_pdf_response(document)
    except BlobMissing:
        current_app.logger.error("Final PDF of document %s is missing", document.id)
        return render_error(404)


@pki_bp.get("/ca.crl")
def ca_crl():
    """The current CA's certificate revocation list (DER), as seal certificates name it."""
    der = current_crl()
    if der is None:
        return render_error(404)
    return _public_file(der, "application/pkix-crl", "signet-ca.crl")


@pki_bp.get("/ca.cer")
def ca_cer():
    """The current CA certificate (DER): the issuer seal certificates point to (AIA)."""
    der = portal_certificates().ca_cert.public_bytes(serialization.Encoding.DER)
    return _public_file(der, "application/pkix-cert", "signet-ca.cer")


def _public_file(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    response.headers["Cache-Control"] = f"public, max-age={PKI_MAX_AGE}"
    return response
