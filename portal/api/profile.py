"""The user's own profile page: who they are, their password and sessions (auth/account_views.py),
and their personal API tokens."""

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.api import tokens
from portal.api.forms import TokenForm
from portal.auth.account_views import profile_sections
from portal.config import LANGUAGES
from portal.errors import DomainError
from portal.htmx import is_htmx, vary_on_htmx

bp = Blueprint("profile", __name__)


def _tokens_page(form: TokenForm, new_secret: str | None = None, new_token=None,
                 notice: tuple[str, str] | None = None):
    context = {
        "form": form,
        "notice": notice,
        "tokens": tokens.list_tokens(current_user),
        "new_secret": new_secret,
        "new_token": new_token,
        "language": LANGUAGES.get(current_user.locale or ""),
    }
    if not is_htmx():
        context.update(profile_sections())
    template = "api/_tokens.html" if is_htmx() else "api/profile.html"
    response = make_response(render_template(template, **context))
    # The page may hold a secret shown once: keep it out of every cache and the back button.
    response.headers["Cache-Control"] = "no-store"
    return vary_on_htmx(response)


# Any signed-in user has a profile: there is no permission section to check beyond login.
@bp.get("/profile")
@login_required
def index():
    """The profile: name, email, language and the API tokens."""
    return _tokens_page(TokenForm(formdata=None))


@bp.post("/profile/tokens")
@login_required
def create_token():
    """Create a token and show its secret, once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form)
    try:
        token, secret = tokens.create_token(current_user, form.name.data)
    except tokens.TokenRefused as refused:
        form.name.errors = [refused.message]
        return _tokens_page(form)
    return _tokens_page(TokenForm(formdata=None), new_secret=secret, new_token=token)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke a token: programs using it get 401 from now on."""
    try:
        token = tokens.revoke_token(current_user, token_id)
    except DomainError as refused:
        notice = ("error", refused.message)
    else:
        notice = ("success", _("Token “%(name)s” revoked.", name=token.name))
    if is_htmx():
        return _tokens_page(TokenForm(formdata=None), notice=notice)
    flash(notice[1], notice[0])
    return redirect(url_for("profile.index"))
