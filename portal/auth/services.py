"""Authentication and the user's own settings."""

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from portal import unit
from portal.auth.models import User
from portal.auth.oidc.settings import password_login_refusal
from portal.config import LANGUAGES
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow

# Checked against when the email is unknown, so a wrong email costs the same time as a
# wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(
        db.select(User).filter_by(email=normalise_email(email))
    ).scalar_one_or_none()


class LoginRefused(DomainError):
    status = 200


def authenticate(email: str, password: str) -> User:
    """Return the user for these credentials or raise LoginRefused with a message."""

    if refusal := password_login_refusal(email):
        raise LoginRefused(refusal)
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise LoginRefused(_("Wrong email or password."))
    if not user.check_password(password or ""):
        raise LoginRefused(_("Wrong email or password."))
    if not user.active:
        raise LoginRefused(_("This account is deactivated. Ask an administrator to restore it."))
    user.last_login_at = utcnow()
    unit.commit()
    return user


def set_locale(user: User, code: str) -> None:
    """Remember the user's language."""
    user.locale = code
    unit.commit()


def staff_language(user: User | None) -> str:
    """The language of every message to an employee: the one they chose, else the portal's.

    Never the document's language, nor that of whoever set the message off: a notice about a
    Russian act reaches a Portuguese-speaking manager in Portuguese.
    """
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    default = current_app.config.get("BABEL_DEFAULT_LOCALE")
    return default if default in LANGUAGES else "en"
