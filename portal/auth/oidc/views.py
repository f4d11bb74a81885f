"""The single sign-on routes: off to the provider, and back."""

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from portal.audit.service import request_meta
from portal.auth.forms import LoginForm
from portal.auth.oidc.accounts import record_refusal, sign_in_from_claims
from portal.auth.oidc.client import authorization_redirect, finish_authorization
from portal.auth.oidc.settings import is_configured, password_login_on, provider_name
from portal.auth.sign_in import address_limit, did_not_sign_in, sign_in_user, visitor
from portal.errors import DomainError
from portal.extensions import limiter
from portal.i18n import safe_next

bp = Blueprint("sso", __name__)
log = logging.getLogger(__name__)

_NEXT = "sso_next"
CALLBACK_PATH = "/login/sso/callback"


@bp.app_context_processor
def sign_in_choices():
    """What the login page offers: the provider's button, and the password form."""
    return {"sso_provider": provider_name() if is_configured() else None,
            "password_login": password_login_on()}


@bp.get("/login/sso")
def start():
    """Send the browser to the provider's sign-in page."""
    if not is_configured():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    session[_NEXT] = safe_next(request.args.get("next"))
    try:
        return authorization_redirect(_callback_url())
    except DomainError as failed:
        return _login_page(failed)


@bp.get(CALLBACK_PATH)
# Refused callbacks count against the address like failed passwords: each one may have cost a
# request to the provider, and a stream of forged ones should stop early.
@limiter.limit(address_limit, deduct_when=did_not_sign_in)
def callback():
    """The provider's answer: sign the user in, or say on the login page why not."""
    if not is_configured():
        abort(404)
    try:
        user = sign_in_from_claims(finish_authorization(), request_meta())
    except DomainError as failed:
        log.info("single sign-on refused (%s, %s) from %s", type(failed).__name__,
                 failed.status, request.remote_addr)
        record_refusal(failed.message, visitor())
        return _login_page(failed)
    sign_in_user(user, method="oidc")
    return redirect(session.pop(_NEXT, None) or url_for("home.index"))


def _callback_url() -> str:
    # Where people reach the portal (the address registered at the provider), not the address
    # this request happened to use behind a proxy.
    # Written out as the invitation links are: SIGNET_BASE_URL carries any path prefix.
    return current_app.config["SIGNET_BASE_URL"] + CALLBACK_PATH


def _login_page(failed: DomainError):
    body = render_template("auth/login.html", form=LoginForm(), error=failed.message)
    return body, failed.status
