"""The vault pages: the searchable list, a signed PDF, and the bulk download of a selection."""

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from portal.auth.permissions import require
from portal.errors import DomainError
from portal.htmx import is_htmx, redirect_to, vary_on_htmx
from portal.models_base import utcnow
from portal.sealing.download import final_pdf_response
from portal.storage import BlobMissing
from portal.vault import bundles, queries

bp = Blueprint("vault", __name__, url_prefix="/vault")

# A PDF shown in the browser's own viewer: nothing of ours runs in it, but the viewer embeds
# the file itself, which the pages' policy (object-src 'none') would block.
PDF_POLICY = ("default-src 'none'; object-src 'self'; frame-ancestors 'none'; "
              "base-uri 'none'; form-action 'none'")


@bp.get("")
@require("view", "vault")
def index():
    """Signed documents the user may see, filtered by the URL (the results alone for htmx)."""
    wanted = queries.parse_filter(request.args)
    page = queries.vault_page(current_user, wanted)
    template = "vault/_results.html" if is_htmx() else "vault/index.html"
    return vary_on_htmx(make_response(render_template(
        template, page=page, wanted=wanted, companies=queries.companies(),
        counterparty_of=queries.counterparty_of, certificate_page=queries.certificate_page)))


@bp.get("/<int:document_id>/signed.pdf")
@require("view", "vault")
def signed_pdf(document_id: int):
    """The sealed PDF: a download, or shown in the browser with ?view=1."""
    document = queries.signed_document(current_user, document_id)
    if document is None:
        abort(404)
    inline = request.args.get("view") == "1"
    try:
        response = final_pdf_response(document, inline=inline)
    except BlobMissing:
        current_app.logger.error("Final PDF of document %s is missing", document.id)
        abort(404)
    if inline:
        response.headers["Content-Security-Policy"] = PDF_POLICY
    return response


@bp.post("/bundles")
@require("view", "vault")
def bundle_new():
    """Start a zip of the selected documents; answer with its progress."""
    try:
        bundle = bundles.request_bundle(current_user, request.form.getlist("document_id"))
    except DomainError as error:
        return _bundle_response(None, error=error.message, status=200 if is_htmx() else 400)
    if not is_htmx():
        return redirect_to(_bundle_url(bundle))
    return _bundle_response(bundle)


@bp.get("/bundles/<bundle_id>")
@require("view", "vault")
def bundle_status(bundle_id: str):
    """How far the zip got (htmx polls this fragment until it is ready)."""
    return _bundle_response(_own_bundle(bundle_id))


@bp.get("/bundles/<bundle_id>/download")
@require("view", "vault")
def bundle_download(bundle_id: str):
    """The finished zip, for the user who asked for it only."""
    bundle = _own_bundle(bundle_id)
    try:
        path = bundles.zip_path(bundle)
    except DomainError:
        abort(404)
    name = f"signed-documents-{utcnow():%Y%m%d-%H%M}.zip"
    response = send_file(path, mimetype="application/zip", as_attachment=True,
                         download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _own_bundle(bundle_id: str) -> bundles.Bundle:
    try:
        return bundles.load_bundle(bundle_id, current_user)
    except DomainError:
        abort(404)


def _bundle_url(bundle: bundles.Bundle) -> str:
    return url_for("vault.bundle_status", bundle_id=bundle.id)


def _bundle_response(bundle, error: str | None = None, status: int = 200):
    template = "vault/_bundle.html" if is_htmx() else "vault/bundle.html"
    response = make_response(render_template(template, bundle=bundle, error=error), status)
    response.headers["Cache-Control"] = "no-store"
    return vary_on_htmx(response)
