"""Signing a user in once they have proved who they are."""

from flask_login import login_user

from portal import unit
from portal.auth.models import User
from portal.models_base import utcnow


def sign_in_user(user: User, method: str = "password") -> None:
    """Open a session for `user`, who signed in by `method` ("password", "oidc")."""
    login_user(user)
    user.last_login_at = utcnow()
    unit.commit()
