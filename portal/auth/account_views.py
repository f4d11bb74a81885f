"""A user's own account security: password, sessions, the security log."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user

from portal.auth import security_log, sessions
from portal.auth import users as user_services
from portal.auth.account_forms import ChangePasswordForm
from portal.auth.devices import device_label
from portal.auth.permissions import require
from portal.auth.sign_in import sign_out_user, visitor
from portal.auth.users import UserRefused
from portal.errors import DomainError
from portal.htmx import is_htmx, vary_on_htmx

bp = Blueprint("account", __name__)


def profile_sections(password_form: ChangePasswordForm | None = None) -> dict:
    """What the profile page shows of the account's security (api/profile.py renders it)."""
    return {
        "password_form": password_form or ChangePasswordForm(formdata=None),
        "sessions": sessions.active_sessions(current_user),
        "current_session_id": current_user.session_id,
        "device_label": device_label,
    }


def _section(template: str, anchor: str, notice: tuple[str, str] | None = None, **context):
    """The section alone for htmx; else back to the profile with the notice as a flash."""
    if is_htmx():
        response = make_response(render_template(
            template, notice=notice, **{**profile_sections(), **context}))
        return vary_on_htmx(response)
    if notice:
        flash(notice[1], notice[0])
    return redirect(url_for("profile.index", _anchor=anchor))


@bp.post("/profile/password")
@login_required
def change_password():
    """Change one's own password; the other sessions end, API tokens too if asked."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _password_refused(form, None)
    try:
        revoked = user_services.change_own_password(
            current_user, form.current_password.data, form.password.data,
            form.revoke_tokens.data, visitor())
    except UserRefused as refused:
        return _password_refused(form, refused)
    message = _("Password changed. Your other sessions have ended.")
    if revoked:
        message += " " + ngettext("%(num)d API token was revoked.",
                                  "%(num)d API tokens were revoked.", revoked)
    return _section("auth/_password.html", "password", ("success", message))


def _password_refused(form: ChangePasswordForm, refused: UserRefused | None):
    if refused is not None:
        field = getattr(form, refused.field or "", None) or form.password
        field.errors = [*field.errors, refused.message]
    if is_htmx():
        return _section("auth/_password.html", "password", password_form=form)
    first = refused.message if refused else next(iter(form.errors.values()))[0]
    return _section("auth/_password.html", "password", ("error", str(first)))


@bp.post("/profile/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """Sign out one browser (a lost phone, a shared computer)."""
    if session_id == current_user.session_id:
        return _sign_out_here()
    try:
        sessions.end_session(current_user, session_id, visitor())
    except DomainError as refused:
        return _section("auth/_sessions.html", "sessions", ("error", refused.message))
    return _section("auth/_sessions.html", "sessions",
                    ("success", _("That session has ended.")))


@bp.post("/profile/sessions/end-all")
@login_required
def end_every_session():
    """Sign out everywhere, this browser included."""
    sessions.end_every_session(current_user, visitor())
    logout_user()
    flash(_("You have been signed out everywhere."), "info")
    return _to_login()


def _sign_out_here():
    sign_out_user(current_user)
    flash(_("You have logged out."), "info")
    return _to_login()


def _to_login():
    # htmx follows a redirect inside the section; HX-Redirect makes it a full page change.
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url_for("auth.login")
        return response
    return redirect(url_for("auth.login"))


@bp.get("/profile/security")
@login_required
def security_events():
    """The user's own security log."""
    before = request.args.get("before", type=int)
    events = security_log.events_of(current_user, before)
    return render_template("auth/security_log.html", events=events, everyone=False,
                           **_log_helpers(events))


@bp.get("/admin/security")
@require("view", "permissions")
def all_security_events():
    """Every account's security log, for administrators."""
    before = request.args.get("before", type=int)
    kind = request.args.get("kind", "")
    events = security_log.all_events(before, kind)
    return render_template("auth/security_log.html", events=events, everyone=True, kind=kind,
                           **_log_helpers(events))


def _log_helpers(events) -> dict:
    more = len(events) == security_log.PAGE_SIZE
    return {
        "kinds": security_log.KINDS,
        "label": security_log.label,
        "method_label": security_log.method_label,
        "device_label": device_label,
        "next_before": events[-1].id if more else None,
    }
