"""Login and logout."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth.forms import LoginForm
from portal.auth.services import LoginRefused, authenticate, normalise_email
from portal.extensions import limiter
from portal.i18n import safe_next

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["SIGNET_LOGIN_LIMIT"]


def _failed(response) -> bool:
    # Only failed attempts count; a successful login redirects.
    return response.status_code != 302


def _email_key() -> str:
    return "login-email:" + normalise_email(request.form.get("email", ""))


def _too_many_attempts(_limit):
    form = LoginForm()
    form.password.data = ""
    message = _("Too many login attempts. Wait a few minutes and try again.")
    return current_app.make_response(
        (render_template("auth/login.html", form=form, error=message), 429)
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed, on_breach=_too_many_attempts)
@limiter.limit(
    _login_limit,
    methods=["POST"],
    key_func=_email_key,
    deduct_when=_failed,
    on_breach=_too_many_attempts,
)
def login():
    """Show the login form and sign the employee in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except LoginRefused as refused:
            error = refused.message
        else:
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/logout")
@login_required
def logout():
    """End the session."""
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
