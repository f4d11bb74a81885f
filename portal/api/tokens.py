"""Personal API tokens: create (the secret is returned once), list, revoke, authenticate."""

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from portal import unit
from portal.auth import security_log
from portal.auth.models import ApiToken, User
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.tokens import hash_token, new_token

# "sgt_" marks a Signet token (secret scanners and people recognise it); the prefix
# shown in lists is the marker plus the first characters of the random part.
TOKEN_MARKER = "sgt_"  # noqa: S105 (a public marker, not a secret)
VISIBLE_CHARS = 6
NAME_MAX = 100
MAX_ACTIVE_TOKENS = 20
# Writing last_used_at on every call would turn each read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


class TokenRefused(DomainError):
    """The token cannot be created or changed; `field` names the form field concerned."""

    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def visible_prefix(secret: str) -> str:
    """The part of a secret that lists show: enough to tell tokens apart, useless to an attacker."""
    return secret[: len(TOKEN_MARKER) + VISIBLE_CHARS]


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it with the secret, which is never stored."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenRefused(_("Give the token a name, e.g. the program that will use it."), "name")
    if len(name) > NAME_MAX:
        raise TokenRefused(_("Keep the name under %(max)d characters.", max=NAME_MAX), "name")
    if len(list_tokens(user)) >= MAX_ACTIVE_TOKENS:
        raise TokenRefused(
            _("You already have %(max)d active tokens. Revoke one you no longer use.",
              max=MAX_ACTIVE_TOKENS),
            "name",
        )
    random_part, _unused = new_token()
    secret = TOKEN_MARKER + random_part
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret),
                     prefix=visible_prefix(secret))
    db.session.add(token)
    security_log.record("api_token_created", user, detail=f"{name} ({token.prefix}…)")
    unit.commit()
    return token, secret


def list_tokens(user: User) -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    return list(db.session.execute(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).scalars())


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's tokens; it stops working at once."""
    token = db.session.get(ApiToken, token_id)
    # Another user's token is "not found": its existence is none of this user's business.
    if token is None or token.user_id != user.id:
        raise DomainError(_("This token does not exist or was already revoked."), 404)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        security_log.record("api_token_revoked", user, detail=f"{token.name} ({token.prefix}…)")
        unit.commit()
    return token


def find_token(secret: str) -> ApiToken | None:
    """The live token with this secret whose user is active, else None."""
    if not secret or not secret.startswith(TOKEN_MARKER) or len(secret) > 200:
        return None
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    return token



def touch(token: ApiToken) -> None:
    """Record that the token was used, at most once per TOUCH_INTERVAL.

    It runs before every API call, GETs too, after the token was read: the read ends first
    and the update starts a transaction of its own, so on SQLite it waits for the write lock
    instead of failing to upgrade a read (see portal/sqlite.py). Of two calls at once, the
    condition lets one write.
    """
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return
    token_id = token.id
    unit.commit()
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id,
               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_INTERVAL))
        .values(last_used_at=now)
    )
    unit.commit()
