"""The language switch in the header: this browser's choice, and the user's when logged in."""

from flask import Blueprint, abort, redirect, request, session
from flask_login import current_user

from portal.auth.services import set_locale
from portal.config import LANGUAGES
from portal.i18n import safe_next

bp = Blueprint("i18n", __name__)


@bp.post("/language")
def choose_language():
    """Remember the chosen language for this browser (and for the user, when logged in)."""
    code = request.form.get("locale", "")
    if code not in LANGUAGES:
        abort(400)
    session["locale"] = code
    if current_user.is_authenticated:
        set_locale(current_user, code)
    return redirect(safe_next(request.form.get("next")))
