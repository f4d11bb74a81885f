"""Signing an employee in and out of this browser: the request's side of auth/sessions.py."""

from flask import after_this_request, current_app, request
from flask_login import login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer

from portal.auth import sessions
from portal.auth.models import User
from portal.auth.security_log import Visitor

# The accounts this browser has signed in to: their growing delay after failures does not hold
# it back (auth/throttle.py). Signed, so it cannot be forged; it proves nothing else.
KNOWN_DEVICE_COOKIE = "signet_known"
KNOWN_DEVICE_DAYS = 180
KNOWN_DEVICE_MAX_ACCOUNTS = 8


def address_limit() -> str:
    """Failed ways in (passwords, refused single sign-ons) allowed per address."""
    return current_app.config["SIGNET_LOGIN_ADDRESS_LIMIT"]


def did_not_sign_in(response) -> bool:
    """Only failures count against the limits: every way in ends with a redirect."""
    return response.status_code != 302


def visitor() -> Visitor:
    """The address and browser of this request, as the security log and sessions keep them."""
    return Visitor(request.remote_addr or "", request.user_agent.string or "").trimmed()


def sign_in_user(user: User, method: str = "password") -> None:
    """Open a session for a user who has proven who they are, and tie this browser to it."""
    sessions.open_session(user, method, visitor())
    login_user(user)
    _remember_device(user.id)


def sign_out_user(user: User) -> None:
    """End this browser's session for good: a copy of its cookie opens nothing afterwards."""
    sessions.sign_out(user, visitor())
    logout_user()


def known_account_ids() -> frozenset[int]:
    raw = request.cookies.get(KNOWN_DEVICE_COOKIE, "")
    if not raw:
        return frozenset()
    try:
        ids = _serializer().loads(raw, max_age=KNOWN_DEVICE_DAYS * 86400)
    except BadData:
        return frozenset()
    return frozenset(i for i in ids if isinstance(i, int)) if isinstance(ids, list) else frozenset()


def _remember_device(user_id: int) -> None:
    ids = [user_id, *(i for i in known_account_ids() if i != user_id)][:KNOWN_DEVICE_MAX_ACCOUNTS]
    value = _serializer().dumps(ids)

    @after_this_request
    def set_cookie(response):
        response.set_cookie(
            KNOWN_DEVICE_COOKIE, value, max_age=KNOWN_DEVICE_DAYS * 86400, httponly=True,
            samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
        return response


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="signet-known-device")
