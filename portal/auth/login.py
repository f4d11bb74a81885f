"""Flask-Login wiring: how a session cookie becomes a user, and what such pages may be."""

from flask import request, session
from flask_babel import lazy_gettext as _l

from portal.auth import sessions
from portal.extensions import login_manager


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.after_request(_keep_signed_in_pages_out_of_caches)


@login_manager.user_loader
def load_user(session_key: str):
    """The user of a live session whose secret the cookie holds; else nobody (logged out)."""
    return sessions.user_for_key(session_key) if session_key else None


def _keep_signed_in_pages_out_of_caches(response):
    # A page for a signed-in employee holds their data: no shared cache, no back-button copy
    # after logout. Responses that chose their own policy (private previews) keep it.
    if "_user_id" in session and request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
        response.vary.add("Cookie")
    return response
