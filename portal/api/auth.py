"""Bearer-token authentication and the per-token rate limit.

Only the Authorization header authenticates: a browser's session cookie never does, which is
what makes exempting the API from CSRF safe (a forged cross-site request carries no token).
"""

from flask import current_app, g, request
from flask_babel import gettext as _

from portal.api import tokens
from portal.api.errors import ApiError
from portal.auth.models import User
from portal.extensions import db

_UNSET = object()


def bearer_secret() -> str:
    """The token from `Authorization: Bearer <token>`, or "" when there is none."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return value.strip()


def request_token():
    """The live ApiToken of this request (looked up once per request), or None."""
    token = g.get("api_token", _UNSET)
    if token is _UNSET:
        token = tokens.find_token(bearer_secret())
        g.api_token = token
    return token


def api_user() -> User:
    """The user the request's token acts for (only inside authenticated API views)."""
    return g.api_user


def authenticate() -> None:
    """Refuse the request with a JSON 401 unless it carries a live token of an active user."""
    token = request_token()
    if token is None:
        message = (_("This API token is not valid, was revoked, or its user is deactivated.")
                   if bearer_secret() else
                   _("Send your API token in the header: Authorization: Bearer <token>."))
        raise ApiError(401, message)
    g.api_user = db.session.get(User, token.user_id)
    tokens.touch(token)


def rate_limit_key() -> str:
    """One bucket per token; requests without a valid token share one per address."""
    token = request_token()
    if token is not None:
        return f"api-token:{token.id}"
    return f"api-anonymous:{request.remote_addr or ''}"


def rate_limit() -> str:
    return current_app.config["SIGNET_API_LIMIT"]
