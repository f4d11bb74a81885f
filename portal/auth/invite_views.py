"""Public invitation pages: an invited employee sets a password from the emailed link."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.auth import users as user_services
from portal.auth.admin_forms import PasswordForm
from portal.auth.oidc.settings import password_login_refusal, provider_name
from portal.auth.sign_in import sign_in_user
from portal.auth.users import InvitationExpired, InvitationInvalid, UserRefused
from portal.extensions import limiter

bp = Blueprint("invite", __name__, url_prefix="/invite")


def _invite_limit() -> str:
    # The link carries a secret: limit guessing per address.
    return current_app.config.get("SIGNET_INVITE_LIMIT", "20 per minute")


@bp.after_request
def keep_out_of_caches(response):
    # The page is addressed by a secret: no shared cache or back-button copy should keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused_page(refused):
    expired = isinstance(refused, InvitationExpired)
    page = render_template("auth/invite_invalid.html", message=refused.message, expired=expired)
    return page, refused.status


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(_invite_limit)
def accept(token: str):
    """Show the set-your-password form; on submit set it, use up the link and log in."""
    try:
        user = user_services.find_invitation(token)
    except (InvitationInvalid, InvitationExpired) as refused:
        return _refused_page(refused)
    if password_login_refusal(user.email):
        # Signing in goes through the provider only: no password to choose.
        page = render_template("auth/invite_sso.html", user=user, provider=provider_name())
        return page, 200 if request.method == "GET" else 403
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = user_services.accept_invitation(token, form.password.data)
        except (InvitationInvalid, InvitationExpired) as refused:
            return _refused_page(refused)
        except UserRefused as refused:
            form.password.errors = [*form.password.errors, refused.message]
        else:
            sign_in_user(user, "invite")
            flash(_("Welcome, %(name)s! Your password is set.", name=user.name), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/invite_accept.html", form=form, user=user)
