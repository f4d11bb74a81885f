"""Two-factor sign-in pages: the login's second step, and the user's own factors.

The login's second step: after the right password, a user with a second factor is not signed
in; the Flask session keeps a short-lived "pending" note (who, since when, how many wrong
codes) and `/login/second-factor` asks for a code from the authenticator app, a recovery code
or a passkey. Wrong codes are limited per account and per address (flask-limiter, on the
server, whatever the cookie says), and after SIGNET_SECOND_FACTOR_TRIES of them or
SIGNET_SECOND_FACTOR_MINUTES the password is asked again.
"""

import json
import time

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import unit
from portal.audit.service import request_meta
from portal.auth import security_log
from portal.auth import users as user_services
from portal.auth.models import User
from portal.auth.permissions import require
from portal.auth.sign_in import sign_in_user, visitor
from portal.auth.two_factor import admin, passkeys, policy, recovery, totp
from portal.auth.two_factor.forms import (
    CodeForm,
    ConfirmTotpForm,
    PasskeyForm,
    PasskeySignInForm,
    PasswordForm,
    RoleRequirementForm,
)
from portal.auth.two_factor.policy import TwoFactorRefused
from portal.extensions import db, limiter
from portal.htmx import is_htmx
from portal.i18n import safe_next

bp = Blueprint("two_factor", __name__)

PENDING_KEY = "signet_second_factor"
ENROL_CHALLENGE_KEY = "signet_passkey_enrol"
# What a session that must enrol may still open (everything else leads to enrolment).
OPEN_TO_DUE_SESSIONS = {"static", "auth.logout", "auth.login", "i18n.choose_language"}


# --- the login's second step -----------------------------------------------------------------

def after_password(user: User, next_url: str | None):
    """The response to a right password (auth/views.py): ask the second factor, or sign in."""
    session.pop(PENDING_KEY, None)
    if policy.has_second_factor(user):
        session[PENDING_KEY] = {"user": user.id, "at": time.time(), "fails": 0,
                                "next": safe_next(next_url)}
        return redirect(url_for("two_factor.second_factor"))
    sign_in_user(user, "password")  # restricted to enrolment if a role requires a factor
    if policy.requires_second_factor(user):
        return redirect(url_for("two_factor.manage"))
    return redirect(safe_next(next_url))


def _pending() -> dict | None:
    note = session.get(PENDING_KEY)
    if not isinstance(note, dict) or not isinstance(note.get("user"), int):
        return None
    minutes = current_app.config["SIGNET_SECOND_FACTOR_MINUTES"]
    if time.time() - float(note.get("at") or 0) > minutes * 60:
        session.pop(PENDING_KEY, None)
        return None
    return note


def _pending_user() -> User | None:
    note = _pending()
    if note is None:
        return None
    user = db.session.get(User, note["user"])
    if user is None or not user.active:
        session.pop(PENDING_KEY, None)
        return None
    return user


def _pending_key() -> str:
    note = session.get(PENDING_KEY)
    user_id = note.get("user") if isinstance(note, dict) else None
    return f"second-factor:{user_id}"


def _account_limit() -> str:
    return current_app.config["SIGNET_SECOND_FACTOR_LIMIT"]


def _address_limit() -> str:
    return current_app.config["SIGNET_SECOND_FACTOR_ADDRESS_LIMIT"]


def _code_failed(_response) -> bool:
    return bool(g.get("second_factor_failed"))


def _too_many_codes(_limit):
    message = _("Too many wrong codes. Wait a few minutes and try again.")
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    return make_response(_second_factor_page(user, CodeForm(formdata=None), message), 429)


def _second_factor_page(user: User, form: CodeForm, error: str | None = None):
    return render_template(
        "auth/second_factor.html", form=form, error=error,
        passkey_form=PasskeySignInForm(formdata=None),
        has_totp=policy.has_totp(user), has_passkeys=policy.passkey_count(user) > 0,
    )


def _expired():
    flash(_("The sign-in took too long or was ended. Log in again."), "info")
    return redirect(url_for("auth.login"))


def _wrong(user: User, method: str, detail: str = "") -> bool:
    """Record a wrong second factor; True when the tries are used up (the pending note ends)."""
    g.second_factor_failed = True
    security_log.record("second_factor_failed", user, visitor(), method=method, detail=detail)
    unit.commit()
    note = session.get(PENDING_KEY) or {}
    note["fails"] = int(note.get("fails") or 0) + 1
    session[PENDING_KEY] = note
    if note["fails"] >= current_app.config["SIGNET_SECOND_FACTOR_TRIES"]:
        session.pop(PENDING_KEY, None)
        return True
    return False


def _signed_in(user: User, method: str):
    note = session.pop(PENDING_KEY, None) or {}
    sign_in_user(user, method)
    return safe_next(note.get("next"))


_second_factor_limits = [
    limiter.limit(_address_limit, methods=["POST"], deduct_when=_code_failed,
                  on_breach=_too_many_codes),
    limiter.limit(_account_limit, methods=["POST"], key_func=_pending_key,
                  deduct_when=_code_failed, on_breach=_too_many_codes),
]


def _limited(view):
    for decorate in reversed(_second_factor_limits):
        view = decorate(view)
    return view


@bp.route("/login/second-factor", methods=["GET", "POST"])
@_limited
def second_factor():
    """Ask for the second factor of a user who gave the right password."""
    user = _pending_user()
    if user is None:
        return _expired()
    form = CodeForm()
    if not form.validate_on_submit():
        return _second_factor_page(user, form)
    code = form.code.data
    replayed = False
    if totp.looks_like_code(code):
        method, result = "totp", totp.check_code(user, code)
        accepted, replayed = result == totp.ACCEPTED, result == totp.REPLAYED
        if replayed:
            message = _("This code was already used. Wait for the app to show the next one.")
        else:
            message = _("This code is not right. Type the code your app shows now.")
    else:
        method, accepted = "recovery", recovery.use_code(user, code)
        message = _("This recovery code is not right or was already used.")
        if accepted:
            security_log.record("recovery_code_used", user, visitor(), method="recovery",
                                detail=str(recovery.unused_count(user)))
    if accepted:
        target = _signed_in(user, method)
        if method == "recovery":
            left = recovery.unused_count(user)
            flash(_("You signed in with a recovery code. %(left)d are left: make new ones if "
                    "you are running out.", left=left), "warning")
        return redirect(target)
    unit.rollback()
    if _wrong(user, method, detail="replayed" if replayed else ""):
        flash(_("Too many wrong codes. Log in again."), "error")
        return redirect(url_for("auth.login"))
    form.code.data = ""
    return _second_factor_page(user, form, message)


@bp.post("/login/second-factor/cancel")
def cancel_second_factor():
    """Back to the password (another account, or no factor at hand)."""
    session.pop(PENDING_KEY, None)
    return redirect(url_for("auth.login"))


@bp.post("/login/second-factor/passkey/options")
def passkey_sign_in_options():
    """The challenge for navigator.credentials.get, for the pending user's passkeys."""
    user = _pending_user()
    if user is None:
        return jsonify(error=_("The sign-in took too long or was ended. Log in again."),
                       redirect=url_for("auth.login")), 409
    options, challenge = passkeys.authentication_options(user)
    note = session[PENDING_KEY]
    note["challenge"] = challenge
    session[PENDING_KEY] = note
    return jsonify(options)


@bp.post("/login/second-factor/passkey")
@_limited
def passkey_sign_in():
    """Check the passkey's answer (posted as a form by passkeys.js) and sign in."""
    user = _pending_user()
    if user is None:
        return _expired()
    form = PasskeySignInForm()
    note = session.get(PENDING_KEY) or {}
    challenge = note.pop("challenge", None)  # a challenge answers once
    session[PENDING_KEY] = note
    if not form.validate_on_submit():
        return _second_factor_page(user, CodeForm(formdata=None)), 400
    if not form.credential.data:  # the button without JavaScript: nothing was tried
        return _second_factor_page(user, CodeForm(formdata=None),
                                   _("Adding or using a passkey needs JavaScript.")), 400
    passkey = passkeys.check_assertion(user, _json(form.credential.data), challenge)
    if passkey is not None:
        return redirect(_signed_in(user, "passkey"))
    unit.rollback()
    if _wrong(user, "passkey"):
        flash(_("Too many wrong codes. Log in again."), "error")
        return redirect(url_for("auth.login"))
    return _second_factor_page(user, CodeForm(formdata=None),
                               _("The passkey was not accepted. Try again or use a code."))


def _json(text: str | None):
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --- the user's own factors ------------------------------------------------------------------

@bp.before_app_request
def guide_to_enrolment():
    """A session signed in with the password alone, where a role requires two factors, may
    only enrol (or log out) until it has a second factor."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_TO_DUE_SESSIONS or endpoint.startswith("two_factor."):
        return None
    if not current_user.is_authenticated or not policy.session_due(current_user):
        return None
    target = url_for("two_factor.manage")
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    if request.path.startswith("/api/"):
        return jsonify(error=_("Set up two-factor sign-in first.")), 403
    return redirect(target)


@bp.app_context_processor
def two_factor_helpers():
    return {"two_factor_summary": _summary}


def _summary() -> dict:
    user = current_user
    return {
        "totp": policy.has_totp(user),
        "passkeys": policy.passkey_count(user),
        "recovery_codes": recovery.unused_count(user),
        "required": policy.requires_second_factor(user),
    }


def _manage_page(status: int = 200, **forms):
    user = current_user
    keys = passkeys.passkeys_of(user)
    remove_forms = {key.id: PasswordForm(formdata=None, prefix=_remove_prefix(key.id))
                    for key in keys}
    remove_forms.update(forms.pop("remove_forms", {}))
    context = {
        "summary": _summary(),
        "due": policy.session_due(user),
        "passkeys": keys,
        "enrolling": totp.pending_secret(user) is not None,
        "disable_form": PasswordForm(formdata=None, prefix="disable"),
        "codes_form": PasswordForm(formdata=None, prefix="codes"),
        "remove_forms": remove_forms,
        "passkey_form": PasskeyForm(formdata=None),
    }
    context.update(forms)
    response = make_response(render_template("auth/two_factor.html", **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _remove_prefix(passkey_id: int) -> str:
    return f"remove-{passkey_id}"


def _show_refusal(form, refused: TwoFactorRefused) -> None:
    field = getattr(form, refused.field, None) if refused.field else None
    if field is not None:
        field.errors = [*field.errors, refused.message]
    else:
        flash(refused.message, "error")


def _profile_limit() -> str:
    return current_app.config["SIGNET_SECOND_FACTOR_LIMIT"]


def _user_key() -> str:
    return f"second-factor-profile:{current_user.id}"


_profile_limited = limiter.limit(_profile_limit, methods=["POST"], key_func=_user_key,
                                 deduct_when=_code_failed)


def _codes_page(codes: list[str]):
    response = make_response(render_template("auth/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/profile/two-factor")
@login_required
def manage():
    """The user's second factors: authenticator app, passkeys, recovery codes."""
    return _manage_page()


@bp.post("/profile/two-factor/totp")
@login_required
def start_totp():
    """Begin setting up an authenticator app (again: the same secret)."""
    try:
        totp.start_enrolment(current_user)
    except TwoFactorRefused as refused:
        flash(refused.message, "info")
        return redirect(url_for("two_factor.manage"))
    return redirect(url_for("two_factor.setup_totp"))


def _setup_page(form: ConfirmTotpForm, status: int = 200):
    secret = totp.pending_secret(current_user)
    if secret is None:
        return None
    uri = totp.provisioning_uri(current_user, secret)
    response = make_response(render_template(
        "auth/totp_setup.html", form=form, secret=totp.grouped(secret),
        qr=totp.qr_data_uri(uri), uri=uri, due=policy.session_due(current_user)), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/profile/two-factor/totp")
@login_required
def setup_totp():
    """The QR code and the secret to scan or type, and the code to confirm."""
    return _setup_page(ConfirmTotpForm(formdata=None)) or redirect(url_for("two_factor.manage"))


@bp.post("/profile/two-factor/totp/confirm")
@login_required
@_profile_limited
def confirm_totp():
    """Turn the app on with a code it shows; show the recovery codes once."""
    form = ConfirmTotpForm()
    if form.validate_on_submit():
        try:
            codes = totp.confirm(current_user, form.code.data, visitor())
        except TwoFactorRefused as refused:
            if refused.field is None:  # already on, or no enrolment: nothing to type again
                flash(refused.message, "info")
                return redirect(url_for("two_factor.manage"))
            g.second_factor_failed = True
            form.code.errors = [refused.message]
        else:
            flash(_("The authenticator app is on. From now on, logging in asks for its code."),
                  "success")
            return _codes_page(codes) if codes else redirect(url_for("two_factor.manage"))
    form.code.data = ""
    return _setup_page(form) or redirect(url_for("two_factor.manage"))


@bp.post("/profile/two-factor/totp/cancel")
@login_required
def cancel_totp():
    totp.cancel_enrolment(current_user)
    return redirect(url_for("two_factor.manage"))


@bp.post("/profile/two-factor/totp/disable")
@login_required
@_profile_limited
def disable_totp():
    """Turn the app off, with the password."""
    form = PasswordForm(prefix="disable")
    if form.validate_on_submit():
        try:
            totp.disable(current_user, form.password.data, visitor())
        except TwoFactorRefused as refused:
            g.second_factor_failed = refused.field == "password"
            _show_refusal(form, refused)
        else:
            flash(_("The authenticator app is off."), "success")
            return redirect(url_for("two_factor.manage"))
    return _manage_page(400, disable_form=form)


@bp.post("/profile/two-factor/recovery-codes")
@login_required
@_profile_limited
def regenerate_codes():
    """Ten new recovery codes, with the password; the old ones stop working."""
    form = PasswordForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = recovery.regenerate(current_user, form.password.data, visitor())
        except TwoFactorRefused as refused:
            g.second_factor_failed = refused.field == "password"
            _show_refusal(form, refused)
        else:
            return _codes_page(codes)
    return _manage_page(400, codes_form=form)


@bp.post("/profile/two-factor/passkeys/options")
@login_required
def passkey_options():
    """The challenge for navigator.credentials.create (passkeys.js asks for it)."""
    options, challenge = passkeys.registration_options(current_user)
    session[ENROL_CHALLENGE_KEY] = challenge
    return jsonify(options)


@bp.post("/profile/two-factor/passkeys")
@login_required
def add_passkey():
    """Keep the passkey the browser made (its answer posted by passkeys.js)."""
    form = PasskeyForm()
    challenge = session.pop(ENROL_CHALLENGE_KEY, None)  # a challenge answers once
    if form.validate_on_submit():
        credential = _json(form.credential.data)
        try:
            if credential is None:
                raise TwoFactorRefused(_("The browser did not create a passkey. Try again."))
            passkey, codes = passkeys.register(current_user, form.name.data, credential,
                                               challenge, visitor())
        except TwoFactorRefused as refused:
            _show_refusal(form, refused)
        else:
            flash(_("Added the passkey “%(name)s”.", name=passkey.name), "success")
            return _codes_page(codes) if codes else redirect(url_for("two_factor.manage"))
    return _manage_page(400, passkey_form=form)


@bp.post("/profile/two-factor/passkeys/<int:passkey_id>/remove")
@login_required
@_profile_limited
def remove_passkey(passkey_id: int):
    """Remove a passkey, with the password."""
    form = PasswordForm(prefix=_remove_prefix(passkey_id))
    if form.validate_on_submit():
        try:
            passkey = passkeys.remove(current_user, passkey_id, form.password.data, visitor())
        except TwoFactorRefused as refused:
            g.second_factor_failed = refused.field == "password"
            if refused.status == 404:
                flash(refused.message, "error")
                return redirect(url_for("two_factor.manage"))
            _show_refusal(form, refused)
        else:
            flash(_("Removed the passkey “%(name)s”.", name=passkey.name), "success")
            return redirect(url_for("two_factor.manage"))
    return _manage_page(400, remove_forms={passkey_id: form})


# --- the role's requirement ------------------------------------------------------------------

@bp.post("/admin/roles/<int:role_id>/two-factor")
@require("edit", "permissions")
def role_requirement(role_id: int):
    """Require (or stop requiring) two-factor sign-in of the role's holders."""
    form = RoleRequirementForm()
    if form.validate_on_submit():
        wanted = bool(form.require_two_factor.data)
        policy.set_role_requirement(current_user._get_current_object(), request_meta(),
                                    role_id, wanted)
        flash(_("Holders of this role must now sign in with two factors; those without one "
                "set it up at their next login.") if wanted else
              _("Two-factor sign-in is no longer required by this role."), "success")
    else:
        flash(_("The form expired. Try again."), "error")
    return redirect(url_for("roles.detail", role_id=role_id))


@bp.app_context_processor
def role_requirement_helpers():
    return {"role_requirement_form": lambda role: RoleRequirementForm(
        formdata=None, data={"require_two_factor": role.require_two_factor})}


# --- administrators --------------------------------------------------------------------------

@bp.app_context_processor
def user_two_factor_helpers():
    return {"user_two_factor": lambda user: {
        "totp": policy.has_totp(user), "passkeys": policy.passkey_count(user),
        "required": policy.requires_second_factor(user)}}


@bp.post("/admin/users/<int:user_id>/two-factor/reset")
@require("edit", "permissions")
def reset_user(user_id: int):
    """Turn off a user's second factors (a lost device and no recovery code)."""
    user = user_services.get_user(user_id)
    removed = admin.reset_factors(current_user._get_current_object(), user, visitor())
    if removed:
        flash(_("Two-factor sign-in of %(name)s is off; they set it up again at their next "
                "login if a role requires it.", name=user.name), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))
