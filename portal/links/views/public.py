"""A public link's pages at /p/<token>: no login; details, a code, then the signing ceremony.

The visitor's browser keeps its submission's key in a cookie on the link's own path; after the
code, the browser gets the client party's signing session (as a confirmed code in the ceremony
gives it) and goes on at /s/<its link>.
"""

import functools

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from portal.audit.service import request_meta
from portal.documents.display import mask_contact
from portal.extensions import limiter
from portal.links import presign as presigning
from portal.links import visitors
from portal.links.forms import CodeForm, VisitorForm
from portal.links.presign import PresignClosed, PresignRefused
from portal.links.services import terms_of
from portal.links.visitors import LinkUnavailable, VisitorRefused
from portal.signing import ceremony as sessions
from portal.signing.filling import FieldInput
from portal.signing.link_pages import page_limit, serve_link_pages

bp = Blueprint("public_links", __name__, url_prefix="/p")

KEY_COOKIE = "signet_visitor"
# Why a link takes no visitors, as the page says it (and its status).
STATE_STATUS = {"invalid": 404, "paused": 410, "expired": 410, "used_up": 410,
                "unsigned": 410}


def _code_limit() -> str:
    # Every code is a message sent somewhere: few per visitor's address, few per IP.
    return current_app.config.get("SIGNET_PUBLIC_LINK_CODE_LIMIT", "10 per hour")


serve_link_pages(bp)


def public_view(view):
    """A link that takes no visitors shows why (translated), never a 500."""
    @functools.wraps(view)
    def wrapper(token, *args, **kwargs):
        try:
            return view(token, *args, **kwargs)
        except LinkUnavailable as closed:
            return (render_template("links/public/closed.html", state=closed.state),
                    STATE_STATUS.get(closed.state, 410))
    return wrapper


def _key() -> str:
    return request.cookies.get(KEY_COOKIE, "")


def _details_page(link, form: VisitorForm, status: int = 200):
    """What the visitor signs (title, total) and their details: the requisites the template
    prints, shown for a company only."""
    return render_template("links/public/details.html", link=link, form=form,
                           terms=terms_of(link),
                           requisites=[form[name] for name in visitors.asked(link)]), status


@bp.get("/<token>")
@limiter.limit(page_limit)
@public_view
def page(token: str):
    """The visitor's details: who signs and where the code goes."""
    return _details_page(visitors.open_link(token), VisitorForm())


def _code_went_out(response) -> bool:
    # Only a sent code counts against the per-IP budget: a refused detail costs no message.
    return response.status_code in (200, 302)


@bp.post("/<token>")
@limiter.limit(page_limit)
@limiter.limit(_code_limit, deduct_when=_code_went_out)
@public_view
def start(token: str):
    form = VisitorForm()
    link = visitors.open_link(token)
    if not form.validate_on_submit():
        return _details_page(link, form, 422)
    try:
        _submission, key = visitors.start(token, form.values(), request_meta())
    except VisitorRefused as refused:
        form.show_errors(refused.errors)
        return _details_page(link, form, refused.status)
    response = redirect(url_for("public_links.code", token=token))
    response.set_cookie(KEY_COOKIE, key, max_age=3600, path=f"/p/{token}", httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get(
                            "SESSION_COOKIE_SECURE")) or request.is_secure)
    return response



def _code_page(link, form: CodeForm, status: int = 200, notice: str | None = None):
    return render_template("links/public/code.html", link=link, form=form, notice=notice,
                           contact_kind=link.channel), status


@bp.get("/<token>/code")
@limiter.limit(page_limit)
@public_view
def code(token: str):
    """Type the code that was sent."""
    link = visitors.open_link(token)
    if not _key():
        return redirect(url_for("public_links.page", token=token))
    return _code_page(link, CodeForm(), notice=_("We sent you a code."))


@bp.post("/<token>/code")
@limiter.limit(page_limit)
@public_view
def confirm(token: str):
    """The right code makes the document; the visitor goes on to sign it."""
    form = CodeForm()
    link = visitors.open_link(token)
    if not form.validate_on_submit():
        return _code_page(link, form, 422)
    try:
        entered = visitors.confirm(token, _key(), form.code.data, request_meta())
    except VisitorRefused as refused:
        form.show_errors(refused.errors)
        return _code_page(link, form, refused.status)
    response = redirect(url_for("signing.page", token=entered.party_token))
    response.set_cookie(sessions.COOKIE_NAME, sessions.seal(entered.ceremony),
                        **sessions.cookie_options(entered.party_token, request.is_secure))
    response.delete_cookie(KEY_COOKIE, path=f"/p/{token}")
    return response


@bp.post("/<token>/code/send")
@limiter.limit(page_limit)
@limiter.limit(_code_limit, deduct_when=_code_went_out)
@public_view
def resend(token: str):
    """A new code (at most one a minute, five an hour)."""
    form = CodeForm()
    link = visitors.open_link(token)
    if not form.validate_on_submit():
        return _code_page(link, form, 422)
    try:
        visitors.resend(token, _key())
    except VisitorRefused as refused:
        form.show_errors(refused.errors)
        return _code_page(link, form, refused.status)
    return make_response(_code_page(link, CodeForm(formdata=None),
                                    notice=_("We sent you a new code.")))


# --- our company's signer pre-signing the link (/p/sign/<invitation>) ---------------------------

PRESIGN_COOKIE = "signet_presign"


def presign_view(view):
    """An invitation that opens nothing shows why (translated), never a 500."""
    @functools.wraps(view)
    def wrapper(token, *args, **kwargs):
        try:
            return view(token, *args, **kwargs)
        except PresignClosed as closed:
            return (render_template("links/public/presign_closed.html", state=closed.state),
                    404 if closed.state == "invalid" else 410)
    return wrapper


def _presign_session():
    return sessions.read(request.cookies.get(PRESIGN_COOKIE))


def _presign_page(token: str, error: str | None = None, notice: str | None = None,
                  status: int = 200, form: CodeForm | None = None):
    signer = presigning.find(token)
    state = presigning.state_of(signer)
    if state != "active":
        raise PresignClosed(state)
    return render_template(
        "links/public/presign.html", signer=signer, link=signer.link, token=token,
        agreement=presigning.agreement_of(signer), masked_contact=mask_contact(signer.contact),
        in_session=presigning.holds(signer, _presign_session()),
        stamp_asked=presigning.stamp_asked(signer),
        company_stamp=bool(signer.link.company.stamp_sha256),
        form=form or CodeForm(formdata=None), error=error, notice=notice), status


@bp.get("/sign/<token>")
@limiter.limit(page_limit)
@presign_view
def presign(token: str):
    """Our company's signer: the agreement, a code, then the signature for the link."""
    return _presign_page(token)


def _presign_step(token: str, step, notice: str | None = None):
    """Run one step (a response, or None for the page again with `notice`); a refusal shows
    the page again with its message, nothing changed."""
    if not CodeForm().validate_on_submit():
        return _presign_page(token, error=_("The form expired. Try again."), status=400)
    try:
        result = step()
    except PresignRefused as refused:
        return _presign_page(token, error=refused.message, status=refused.status)
    return result if result is not None else _presign_page(token, notice=notice)


@bp.post("/sign/<token>/consent")
@limiter.limit(page_limit)
@limiter.limit(_code_limit, deduct_when=_code_went_out)
@presign_view
def presign_consent(token: str):
    def agree():
        presigning.accept(token, request_meta())
    return _presign_step(token, agree, _("We sent you a code."))


@bp.post("/sign/<token>/code/send")
@limiter.limit(page_limit)
@limiter.limit(_code_limit, deduct_when=_code_went_out)
@presign_view
def presign_resend(token: str):
    def resend_code():
        presigning.send_code(token)
    return _presign_step(token, resend_code, _("We sent you a new code."))


@bp.post("/sign/<token>/code")
@limiter.limit(page_limit)
@presign_view
def presign_code(token: str):
    def confirm():
        _signer, opened = presigning.confirm_code(token, request.form.get("code", ""))
        response = redirect(url_for("public_links.presign", token=token))
        options = sessions.cookie_options(token, request.is_secure)
        response.set_cookie(PRESIGN_COOKIE, sessions.seal(opened),
                            **{**options, "path": f"/p/sign/{token}"})
        return response
    return _presign_step(token, confirm)


@bp.post("/sign/<token>/sign")
@limiter.limit(page_limit)
@presign_view
def presign_sign(token: str):
    signature = FieldInput(method=request.form.get("method", ""),
                           drawing=request.form.get("drawing", ""),
                           typed=request.form.get("typed", ""),
                           upload=request.files.get("image"))
    stamp = FieldInput(method=request.form.get("stamp_method", ""),
                       upload=request.files.get("stamp_image"))

    def sign():
        presigning.sign(token, request_meta(), _presign_session(), signature, stamp)
        response = make_response(render_template("links/public/presign_closed.html",
                                                 state="signed"))
        response.delete_cookie(PRESIGN_COOKIE, path=f"/p/sign/{token}")
        return response
    return _presign_step(token, sign)
