"""Recovery codes: ten one-time codes, shown once, stored as hashes."""

import hashlib
import hmac
import secrets

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from portal import unit
from portal.auth import security_log
from portal.auth.models import User
from portal.auth.security_log import Visitor
from portal.auth.two_factor import policy
from portal.auth.two_factor.models import RecoveryCode
from portal.auth.two_factor.policy import TwoFactorRefused
from portal.extensions import db
from portal.models_base import utcnow

COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper without doubt
_GROUP = 5  # xxxxx-xxxxx: 10 characters of 31, ~50 bits each


def normalise(code: str) -> str:
    """What the user typed, without spaces, dashes or case."""
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def looks_like_one(code: str) -> bool:
    value = normalise(code)
    return len(value) == 2 * _GROUP and all(ch in _ALPHABET for ch in value)


def _hash(user: User, code: str) -> str:
    # Keyed with the portal's secret (a copy of the table alone cannot be searched offline),
    # and the user's id in it: the same code of two users never collides on the unique index.
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    message = f"signet recovery code:{user.id}:{normalise(code)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(2 * _GROUP))
    return f"{raw[:_GROUP]}-{raw[_GROUP:]}"


def replace_codes(user: User) -> list[str]:
    """Forget the user's codes and make ten new ones (open transaction); return them, once."""
    drop_codes(user)
    codes = [_new_code() for _ in range(COUNT)]
    now = utcnow()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(user, code), created_at=now)
                       for code in codes)
    return codes


def drop_codes(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def unused_count(user: User) -> int:
    return db.session.execute(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar() or 0


def use_code(user: User, code: str) -> bool:
    """Spend one of the user's unused codes (open transaction); False if none matches."""
    if not looks_like_one(code):
        return False
    # One conditional update: two requests racing with the same code cannot both spend it.
    spent = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(user, code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    return bool(spent)


def regenerate(user: User, password: str, visitor: Visitor) -> list[str]:
    """New codes for the user (the old ones stop working); the password is needed."""
    policy.check_password(user, password, visitor)
    if not policy.has_second_factor(user):
        raise TwoFactorRefused(_("Turn on an authenticator app or add a passkey first."),
                               status=409)
    codes = replace_codes(user)
    security_log.record("recovery_codes_renewed", user, visitor)
    unit.commit()
    return codes
