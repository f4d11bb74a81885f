"""The public signing pages at /s/<token>: no login; the link's token is the key."""

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
from portal.extensions import limiter
from portal.htmx import is_htmx, redirect_to, vary_on_htmx
from portal.pdfs import PdfRejected, page_unavailable, preview_mimetype
from portal.sealing.finalize import final_filename
from portal.signing import ceremony as sessions
from portal.signing import pages, services
from portal.signing.access import (
    LinkInvalid,
    SigningClosed,
    StepRefused,
    find_party,
    forget_page_party,
    read_page_party,
    state_of,
)
from portal.signing.filling import FieldInput, fields_of
from portal.signing.link_pages import image_limit, page_limit, serve_link_pages
from portal.signing.preview import preview_page, preview_pdf
from portal.storage import BlobMissing, read

bp = Blueprint("signing", __name__, url_prefix="/s")

PREVIEW_WIDTHS = (600, 1000, 1400)


def _party_speaks(token: str) -> str | None:
    """The party's language (its own pick, else the document's), not the browser's."""
    # Read as the view will read it: the page from plain records, every other route the models.
    lookup = read_page_party if request.endpoint == "signing.page" else find_party
    try:
        return lookup(token).speaks
    except LinkInvalid:
        return None


serve_link_pages(bp, _party_speaks, "signing.choose_language")


@bp.teardown_request
def _forget_page_party(_error=None):
    forget_page_party()


def _ceremony_cookie():
    """The signing session this browser holds (checked against the party by the services)."""
    return sessions.read(request.cookies.get(sessions.COOKIE_NAME))


def _in_ceremony(party) -> bool:
    return sessions.holds(party, _ceremony_cookie())


def _keep_session(response, token: str, opened) -> None:
    """Hand the browser its signing session: only this link's pages ever receive it."""
    response.set_cookie(sessions.COOKIE_NAME, sessions.seal(opened),
                        **sessions.cookie_options(token, request.is_secure))


def signing_view(view):
    """Every signing route: a bad link is a 404 page; a closed link shows the page saying why."""
    @functools.wraps(view)
    def wrapper(token, *args, **kwargs):
        try:
            return view(token, *args, **kwargs)
        except LinkInvalid as invalid:
            return render_template("signing/invalid.html", message=invalid.message), 404
        except SigningClosed:
            return redirect_to(url_for("signing.page", token=token))
    return wrapper


# Where each kind of refusal is shown when its step is on screen (else above the step).
ERROR_HOMES = {"code": ("code",), "sign": ("fill",), "decline": ("fill",)}


def _ceremony(party, token, status=200, error=None, at=None, **extra):
    """The ceremony: the current step as a fragment for htmx, else the whole page."""
    extra.setdefault("in_ceremony", _in_ceremony(party))
    context = pages.ceremony_context(party, token, **extra)
    if error:
        key = f"{at}_error" if context["step"] in ERROR_HOMES.get(at, ()) else "step_error"
        context[key] = error
    template = "signing/_step.html" if is_htmx() else "signing/page.html"
    return vary_on_htmx(make_response(render_template(template, **context), status))


def _state_page(party, state):
    body = render_template("signing/state.html", **pages.state_context(party, state))
    return body, pages.STATE_STATUS.get(state, 410)


@bp.get("/<token>")
@limiter.limit(page_limit)
@signing_view
def page(token: str):
    """The signing page, or a page saying why this link cannot be used now."""
    party, state = services.open_link(token, request_meta())
    if state != "active":
        return _state_page(party, state)
    editing = request.args.get("edit", type=int)
    return _ceremony(party, token, editing=editing)


@bp.post("/<token>/consent")
@limiter.limit(page_limit)
@signing_view
def consent(token: str):
    """Accept the agreement; the first code goes out at once."""
    try:
        party = services.accept_agreement(token, request_meta(), _ceremony_cookie())
    except StepRefused as refused:  # the code could not be sent yet: say so in the next step
        return _ceremony(find_party(token), token, error=refused.message, at="code")
    return _ceremony(party, token, code_notice=_("We sent you a code."))


@bp.post("/<token>/code/send")
@limiter.limit(page_limit)
@signing_view
def resend_code(token: str):
    """Send a new code (limited: one a minute, five an hour)."""
    try:
        party = services.send_code(token, request_meta(), _ceremony_cookie())
    except StepRefused as refused:
        return _ceremony(find_party(token), token, error=refused.message, at="code")
    return _ceremony(party, token, code_notice=_("We sent you a new code."))


@bp.post("/<token>/code")
@limiter.limit(page_limit)
@signing_view
def confirm_code(token: str):
    """Check the typed code; on success this browser gets its signing session and the fields."""
    try:
        party, opened = services.verify_code(token, request_meta(), request.form.get("code", ""),
                                             _ceremony_cookie())
    except StepRefused as refused:
        return _ceremony(find_party(token), token, error=refused.message, at="code",
                         typed_code=request.form.get("code", "")[:12])
    response = _ceremony(party, token, in_ceremony=True)
    _keep_session(response, token, opened)
    return response


def _field_response(party, token, field_id, error=None, editing=False):
    """One field's fragment plus the sign panel (out of band), or the whole page."""
    if not is_htmx():
        return _ceremony(party, token, errors={field_id: error} if error else {},
                         editing=field_id if (editing or error) else None)
    context = pages.ceremony_context(party, token, in_ceremony=_in_ceremony(party))
    view = next((v for v in context["fields"] if v["field"].id == field_id), None)
    if view is None:
        abort(404)
    context.update(view=view, error=error, editing=editing or bool(error))
    body = render_template("signing/_field.html", **context)
    body += render_template("signing/_sign_panel.html", **context, oob=True)
    return vary_on_htmx(make_response(body))


@bp.get("/<token>/fields/<int:field_id>")
@limiter.limit(page_limit)
@signing_view
def edit_field(token: str, field_id: int):
    """The form of one field again (to change a value already saved)."""
    party = find_party(token)
    if state_of(party) != "active" or not _in_ceremony(party):
        return redirect_to(url_for("signing.page", token=token))
    if not is_htmx():
        return redirect(url_for("signing.page", token=token, edit=field_id,
                                _anchor=f"field-{field_id}"))
    return _field_response(party, token, field_id, editing=not request.args.get("cancel"))


def _field_input() -> FieldInput:
    return FieldInput(value=request.form.get("value", ""), method=request.form.get("method", ""),
                      drawing=request.form.get("drawing", ""),
                      typed=request.form.get("typed", ""), upload=request.files.get("image"))


@bp.post("/<token>/fields/<int:field_id>")
@limiter.limit(page_limit)
@signing_view
def save_field(token: str, field_id: int):
    """Save one field's value and answer with its fragment (errors beside it, status 200)."""
    try:
        party, _field = services.fill_field(token, request_meta(), field_id, _field_input(),
                                            _ceremony_cookie())
    except StepRefused as refused:
        if refused.status == 404:
            abort(404)
        party = find_party(token)
        if not _in_ceremony(party):
            return _ceremony(party, token, error=refused.message)
        return _field_response(party, token, field_id, error=refused.message)
    return _field_response(party, token, field_id)


@bp.get("/<token>/fields/<int:field_id>/image")
@limiter.limit(image_limit)
@signing_view
def field_image(token: str, field_id: int):
    """The image saved in one of the party's own fields (signature, initials, stamp)."""
    party = find_party(token)
    field = next((f for f in fields_of(party) if f.id == field_id), None)
    if state_of(party) != "active" or field is None or not field.value_sha256 \
            or not _in_ceremony(party):
        abort(404)
    try:
        data = read(field.value_sha256)
    except BlobMissing:
        abort(404)
    response = make_response(data)
    response.headers["Content-Type"] = "image/jpeg" if data[:3] == b"\xff\xd8\xff" \
        else "image/png"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.post("/<token>/sign")
@limiter.limit(page_limit)
@signing_view
def sign(token: str):
    """Sign; then the page says so (a second click finds it signed already)."""
    try:
        services.sign(token, request_meta(), _ceremony_cookie())
    except StepRefused as refused:
        return _ceremony(find_party(token), token, error=refused.message, at="sign")
    return redirect_to(url_for("signing.page", token=token))


@bp.post("/<token>/decline")
@limiter.limit(page_limit)
@signing_view
def decline(token: str):
    """Decline with a reason; the sender is told."""
    reason = request.form.get("reason", "")
    try:
        services.decline(token, request_meta(), reason, _ceremony_cookie())
    except StepRefused as refused:
        return _ceremony(find_party(token), token, error=refused.message, at="decline",
                         decline_reason=reason[:2000], decline_open=True)
    return redirect_to(url_for("signing.page", token=token))


@bp.get("/<token>/pages/<int:page_number>.img")
@limiter.limit(image_limit)
@signing_view
def page_image(token: str, page_number: int):
    """One page as it stands (values filled so far drawn in), only for a party whose turn it is.

    ?v= (pages.page_views) names what is drawn, so a save makes the page fetch a new picture.
    """

    party = find_party(token)
    document = party.document
    if state_of(party) != "active":
        abort(404)
    if not document.source_sha256 or not 1 <= page_number <= document.page_count:
        abort(404)
    wanted = request.args.get("w", 1000, type=int) or 1000
    width = min(PREVIEW_WIDTHS, key=lambda w: (w < wanted, abs(w - wanted)))
    include_own = _in_ceremony(party)  # own values: only in the browser that confirmed
    try:
        preview = preview_page(party, page_number, width, include_own=include_own)
    except (BlobMissing, ValueError):
        abort(404)
    except PdfRejected as refused:
        return page_unavailable(refused.message, width)
    response = make_response(preview.image)
    response.headers["Content-Type"] = preview_mimetype()
    # Revalidated on every use: the same URL may draw the signer's own values or not.
    response.headers["Cache-Control"] = "private, no-cache"
    response.set_etag(f"{preview.version or 'plain'}-{int(include_own)}-{width}")
    return response.make_conditional(request)


@bp.post("/<token>/language")
@limiter.limit(page_limit)
@signing_view
def choose_language(token: str):
    """The signer's language for this page and every later message to them."""
    services.choose_language(token, request.form.get("locale", ""))
    return redirect(url_for("signing.page", token=token))


@bp.get("/<token>/document.pdf")
@limiter.limit(image_limit)
@signing_view
def document_pdf(token: str):
    """The whole document with every value filled so far, marked "not yet signed" on each page."""


    party = find_party(token)
    if state_of(party) != "active" or not party.document.source_sha256:
        abort(404)
    include_own = _in_ceremony(party)  # own values: only in the browser that confirmed
    stem = final_filename(party.document).removesuffix(".pdf")
    try:
        pdf = preview_pdf(party, include_own=include_own)
    except BlobMissing:
        abort(404)
    except PdfRejected as refused:
        return render_template("signing/unavailable.html", message=refused.message), 503
    response = send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                         download_name=f"{stem}-preview.pdf", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
