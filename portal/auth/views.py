"""Login and logout."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.auth.forms import LoginForm
from portal.auth.services import LoginRefused, authenticate, normalise_email
from portal.auth.sign_in import (
    address_limit,
    did_not_sign_in,
    known_account_ids,
    sign_out_user,
    visitor,
)
from portal.auth.two_factor.views import after_password
from portal.extensions import limiter

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["SIGNET_LOGIN_LIMIT"]


def _account_and_address_key() -> str:
    # Per account *and* address: failures from elsewhere never lock the owner out
    # (the account's own brake is the growing delay, auth/throttle.py).
    email = normalise_email(request.form.get("email", ""))[:254]
    return f"login:{email}:{request.remote_addr or ''}"


def _too_many_attempts(_limit):
    form = LoginForm()
    form.password.data = ""
    message = _("Too many login attempts. Wait a few minutes and try again.")
    return current_app.make_response(
        (render_template("auth/login.html", form=form, error=message), 429)
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(address_limit, methods=["POST"], deduct_when=did_not_sign_in,
               on_breach=_too_many_attempts)
@limiter.limit(
    _login_limit,
    methods=["POST"],
    key_func=_account_and_address_key,
    deduct_when=did_not_sign_in,
    on_breach=_too_many_attempts,
)
def login():
    """Show the login form and sign the employee in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, visitor(),
                                known_account_ids())
        except LoginRefused as refused:
            error, status = refused.message, refused.status
        else:
            # A second factor, or enrolment where a role requires one (auth/two_factor).
            return after_password(user, request.args.get("next"))
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    """End the session, for good."""
    sign_out_user(current_user)
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
