"""The batch ceremony's public pages at /b/<token>: no login; the link's token is the key.

The company signer of a bulk batch sees its documents, accepts the agreement and confirms a
code once, and signs the chosen documents with one signature (portal/signing/bundles.py).
Plain forms (each step renders the page again), so it works without JavaScript but drawing.
"""

import functools
from io import BytesIO

from flask import (
    Blueprint,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from portal.audit.service import request_meta
from portal.documents.display import mask_contact
from portal.extensions import limiter
from portal.pdfs import PdfRejected
from portal.sealing.finalize import final_filename
from portal.signing import bundles
from portal.signing import ceremony as sessions
from portal.signing.access import LinkInvalid, StepRefused, state_of
from portal.signing.agreement import agreement_paragraphs
from portal.signing.codes import CODE_LIFETIME
from portal.signing.filling import FieldInput
from portal.signing.link_pages import image_limit, page_limit, serve_link_pages
from portal.signing.preview import preview_pdf
from portal.storage import BlobMissing

bp = Blueprint("bundles", __name__, url_prefix="/b")


def _bundle_speaks(token: str) -> str | None:
    try:
        return bundles.find_bundle(token).speaks
    except LinkInvalid:
        return None


serve_link_pages(bp, _bundle_speaks, "bundles.choose_language")


def _cookie():
    return sessions.read(request.cookies.get(bundles.COOKIE_NAME), salt=bundles.SALT)


def _keep_session(response, token: str, opened) -> None:
    response.set_cookie(bundles.COOKIE_NAME, sessions.seal(opened, salt=bundles.SALT),
                        **sessions.cookie_options(token, request.is_secure, prefix="/b"))


def bundle_view(view):
    """A bad link is a 404 page; an expired or finished one shows the page saying why."""
    @functools.wraps(view)
    def wrapper(token, *args, **kwargs):
        try:
            return view(token, *args, **kwargs)
        except LinkInvalid as invalid:
            return render_template("signing/invalid.html", message=invalid.message), 404
        except bundles.BundleClosed as closed:
            return _closed(bundles.find_bundle(token), closed.state)
    return wrapper


def _closed(bundle, state, outcome=None):
    body = render_template("signing/bundle_state.html", bundle=bundle, state=state,
                           items=bundles.items_of(bundle), outcome=outcome)
    return body, 410 if state == "expired" else 200


def _page(token: str, status=200, **extra):
    bundle = bundles.find_bundle(token)
    state = bundles.bundle_state(bundle)
    if state != "active":
        return _closed(bundle, state, extra.get("outcome"))
    in_ceremony = extra.pop("in_ceremony", None)
    if in_ceremony is None:
        in_ceremony = sessions.holds(bundle, _cookie())
    items = bundles.items_of(bundle)
    first = items[0].party if items else None
    context = {
        "bundle": bundle, "token": token, "items": items,
        "step": bundles.step_of(bundle, in_ceremony),
        "company": first.document.company if first else None,
        "agreement": agreement_paragraphs(first) if first else [],
        "masked_contact": mask_contact(bundle.contact),
        "code_minutes": int(CODE_LIFETIME.total_seconds() // 60),
        "needs_signature": any(item.signable and "signature" in item.needs for item in items),
        "needs_stamp": any(item.signable and "stamp" in item.needs for item in items),
        "company_stamp": bundles.offers_company_stamp(bundle),
        "chosen": None,
        **extra,
    }
    return make_response(render_template("signing/bundle.html", **context), status)


@bp.get("/<token>")
@limiter.limit(page_limit)
@bundle_view
def page(token: str):
    """The batch's documents and the current step."""
    return _page(token)


@bp.post("/<token>/consent")
@limiter.limit(page_limit)
@bundle_view
def consent(token: str):
    """Accept the agreement once; the first code goes out at once."""
    try:
        bundles.accept_agreement(token, request_meta(), _cookie())
    except StepRefused as refused:
        return _page(token, code_error=refused.message)
    return _page(token, code_notice=_("We sent you a code."))


@bp.post("/<token>/code/send")
@limiter.limit(page_limit)
@bundle_view
def resend_code(token: str):
    try:
        bundles.send_code(token, request_meta(), _cookie())
    except StepRefused as refused:
        return _page(token, code_error=refused.message)
    return _page(token, code_notice=_("We sent you a new code."))


@bp.post("/<token>/code")
@limiter.limit(page_limit)
@bundle_view
def confirm_code(token: str):
    """Check the typed code; on success this browser may sign the chosen documents."""
    try:
        _bundle, opened = bundles.verify_code(token, request_meta(),
                                              request.form.get("code", ""), _cookie())
    except StepRefused as refused:
        return _page(token, code_error=refused.message,
                     typed_code=request.form.get("code", "")[:12])
    response = _page(token, in_ceremony=True)
    _keep_session(response, token, opened)
    return response


@bp.post("/<token>/sign")
@limiter.limit(page_limit)
@bundle_view
def sign(token: str):
    """Sign every chosen document with the one signature (and stamp); then say what was done."""
    chosen = request.form.getlist("party")
    signature = FieldInput(method=request.form.get("method", ""),
                           drawing=request.form.get("drawing", ""),
                           typed=request.form.get("typed", ""),
                           upload=request.files.get("image"))
    stamp = FieldInput(method=request.form.get("stamp_method", ""),
                       upload=request.files.get("stamp_image"))
    try:
        outcome = bundles.sign(token, request_meta(), _cookie(), chosen, signature, stamp)
    except StepRefused as refused:
        return _page(token, sign_error=refused.message, chosen=set(chosen))
    return _page(token, outcome=outcome)


@bp.get("/<token>/documents/<int:party_id>.pdf")
@limiter.limit(image_limit)
@bundle_view
def document_pdf(token: str, party_id: int):
    """One document of the batch as it stands, marked "not yet signed" on each page."""
    bundle = bundles.find_bundle(token)
    if bundles.bundle_state(bundle) != "active":
        abort(404)
    party = next((member.party for member in bundle.members if member.party_id == party_id),
                 None)
    if party is None or state_of(party) != "active" or not party.document.source_sha256:
        abort(404)
    try:
        pdf = preview_pdf(party, include_own=False)
    except BlobMissing:
        abort(404)
    except PdfRejected as refused:
        return render_template("signing/unavailable.html", message=refused.message), 503
    stem = final_filename(party.document).removesuffix(".pdf")
    response = send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                         download_name=f"{stem}-preview.pdf", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response



@bp.post("/<token>/language")
@limiter.limit(page_limit)
@bundle_view
def choose_language(token: str):
    """The signer's language for these pages and the batch's later messages to them."""
    bundles.choose_language(token, request.form.get("locale", ""))
    return redirect(url_for("bundles.page", token=token))
