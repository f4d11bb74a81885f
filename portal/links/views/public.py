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
from portal.extensions import limiter
from portal.links import visitors
from portal.links.forms import CodeForm, VisitorForm
from portal.links.visitors import LinkUnavailable, VisitorRefused
from portal.signing import ceremony as sessions

bp = Blueprint("public_links", __name__, url_prefix="/p")

KEY_COOKIE = "signet_visitor"
# Why a link takes no visitors, as the page says it (and its status).
STATE_STATUS = {"invalid": 404, "paused": 410, "expired": 410, "used_up": 410}


def _page_limit() -> str:
    return current_app.config.get("SIGNET_SIGNING_LIMIT", "60 per minute")


def _code_limit() -> str:
    # Every code is a message sent somewhere: few per visitor's address, few per IP.
    return current_app.config.get("SIGNET_PUBLIC_LINK_CODE_LIMIT", "10 per hour")


@bp.after_request
def keep_out_of_caches(response):
    # Addressed by a secret: no shared cache or back-button copy should keep the pages.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


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
    return render_template("links/public/details.html", link=link, form=form), status


@bp.get("/<token>")
@limiter.limit(_page_limit)
@public_view
def page(token: str):
    """The visitor's details: who signs and where the code goes."""
    return _details_page(visitors.open_link(token), VisitorForm())


def _code_went_out(response) -> bool:
    # Only a sent code counts against the per-IP budget: a refused detail costs no message.
    return response.status_code in (200, 302)


@bp.post("/<token>")
@limiter.limit(_page_limit)
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
@limiter.limit(_page_limit)
@public_view
def code(token: str):
    """Type the code that was sent."""
    link = visitors.open_link(token)
    if not _key():
        return redirect(url_for("public_links.page", token=token))
    return _code_page(link, CodeForm(), notice=_("We sent you a code."))


@bp.post("/<token>/code")
@limiter.limit(_page_limit)
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
@limiter.limit(_page_limit)
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
