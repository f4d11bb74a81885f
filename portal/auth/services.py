"""Authentication and the user's own settings."""

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from portal import unit
from portal.auth import security_log, throttle
from portal.auth.models import User
from portal.auth.oidc.settings import password_login_refusal
from portal.auth.security_log import Visitor
from portal.config import LANGUAGES
from portal.errors import DomainError
from portal.extensions import db

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


def authenticate(email: str, password: str, visitor: Visitor, known_ids: frozenset[int]) -> User:
    """Return the user for these credentials or raise LoginRefused with a message.

    Every refusal is in the security log. `known_ids`: the accounts this browser has signed in
    to before, which the account's growing delay does not hold back (throttle.py).
    """
    if refusal := password_login_refusal(email):
        security_log.record("sign_in_failed", find_user_by_email(email), visitor,
                            method="password", detail="password login is off")
        unit.commit()
        raise LoginRefused(refusal)
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        _refuse(None, visitor, detail=normalise_email(email)[:120])
    if user.id not in known_ids and (wait := throttle.seconds_to_wait(user)):
        security_log.record("sign_in_delayed", user, visitor, method="password")
        unit.commit()
        raise LoginRefused(_("This account has had many failed attempts. Wait %(seconds)d "
                             "seconds and try again.", seconds=wait), 429)
    if not user.check_password(password or ""):
        throttle.note_failure(user)
        _refuse(user, visitor)
    if not user.active:
        security_log.record("sign_in_failed", user, visitor, method="password",
                            detail="deactivated")
        unit.commit()
        raise LoginRefused(_("This account is deactivated. Ask an administrator to restore it."))
    return user


def _refuse(user: User | None, visitor: Visitor, detail: str = ""):
    security_log.record("sign_in_failed", user, visitor, method="password", detail=detail)
    unit.commit()
    raise LoginRefused(_("Wrong email or password."))


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
