"""Staff sessions that really end.

Signing in opens a session row and puts only its secret in the signed cookie. Each request
finds the row by the secret's hash: logout, an idle or absolute timeout, a password change, a
deactivation or "sign out" from another browser end the row, and every copy of the cookie stops
working at once.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from portal import unit
from portal.auth import security_log
from portal.auth.models import ApiToken, SecurityEvent, StaffSession, User
from portal.auth.security_log import Visitor
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.tokens import hash_token, new_token

# Writing last_seen_at on every request would turn each page view into a write.
TOUCH_INTERVAL = timedelta(minutes=1)
# Ended sessions stay listed this long (the security log keeps the story for longer).
ENDED_SESSIONS_KEPT = timedelta(days=30)


def open_session(user: User, method: str, visitor: Visitor) -> str:
    """Start a session for a user who has proven who they are; return its secret."""
    key, key_hash = new_token()
    now = utcnow()
    visitor = visitor.trimmed()
    db.session.add(StaffSession(
        user_id=user.id, key_hash=key_hash, method=method, address=visitor.address,
        user_agent=visitor.user_agent, created_at=now, last_seen_at=now,
    ))
    user.last_login_at = now
    user.failed_logins = 0
    user.last_failed_login_at = None
    security_log.record("signed_in", user, visitor, method=method)
    unit.commit()
    user.session_key = key
    return key


def user_for_key(key: str) -> User | None:
    """The user whose live session this secret opens, or None (the session is then over)."""
    record = db.session.execute(
        select(StaffSession).options(joinedload(StaffSession.user))
        .where(StaffSession.key_hash == hash_token(key))
    ).scalar_one_or_none()
    if record is None or record.ended_at is not None:
        return None
    now = utcnow()
    lapsed = _lapsed(record, now)
    if lapsed or not record.user.active:
        _end(record, lapsed or "deactivated", now)
        unit.commit()
        return None
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = now
        unit.commit()
    user = record.user
    user.session_key = key
    user.session_id = record.id
    # For the request's hooks (two_factor.policy.session_due), which would otherwise read the
    # row again: the identity map holds rows only weakly.
    user.session_record = record
    return user


def _lapsed(record: StaffSession, now) -> str | None:
    config = current_app.config
    if now - record.last_seen_at > timedelta(minutes=config["SIGNET_SESSION_IDLE_MINUTES"]):
        return "idle"
    if now - record.created_at > timedelta(hours=config["SIGNET_SESSION_HOURS"]):
        return "expired"
    return None


def _end(record: StaffSession, reason: str, now=None) -> None:
    record.ended_at = now or utcnow()
    record.end_reason = reason


def active_sessions(user: User) -> list[StaffSession]:
    """The user's sessions still open, the most recently used first."""
    now = utcnow()
    rows = db.session.execute(
        select(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .order_by(StaffSession.last_seen_at.desc(), StaffSession.id.desc())
    ).scalars()
    return [row for row in rows if not _lapsed(row, now)]


def sign_out(user: User, visitor: Visitor) -> None:
    """End the session this request belongs to."""
    record = _own_session(user, getattr(user, "session_id", None))
    if record is not None and record.ended_at is None:
        _end(record, "logout")
        security_log.record("signed_out", user, visitor, method=record.method)
    unit.commit()


def end_session(user: User, session_id: int, visitor: Visitor) -> StaffSession:
    """End one of the user's sessions (another browser, a lost phone)."""
    record = _own_session(user, session_id)
    if record is None:
        raise DomainError(_("This session does not exist or has already ended."), 404)
    if record.ended_at is None:
        _end(record, "revoked")
        security_log.record("session_ended", user, visitor, detail=_device_of(record))
    unit.commit()
    return record


def end_every_session(user: User, visitor: Visitor) -> int:
    """Sign the user out everywhere, this browser included."""
    ended = end_sessions_of(user, "everywhere")
    security_log.record("sessions_ended", user, visitor, detail=str(ended))
    unit.commit()
    return ended


def end_sessions_of(user: User, reason: str, keep_id: int | None = None) -> int:
    """End the user's open sessions but `keep_id`, in the open transaction; return how many."""
    query = (
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    if keep_id is not None:
        query = query.where(StaffSession.id != keep_id)
    return db.session.execute(query).rowcount or 0


def revoke_api_tokens_of(user: User) -> int:
    """Revoke every working API token of the user, in the open transaction; return how many."""
    return db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount or 0


def _own_session(user: User, session_id: int | None) -> StaffSession | None:
    if session_id is None:
        return None
    record = db.session.get(StaffSession, session_id)
    # Another user's session is "not found": its existence is none of this user's business.
    return record if record is not None and record.user_id == user.id else None


def _device_of(record: StaffSession) -> str:
    return f"{record.address} {record.user_agent}".strip()


def forget_old_sessions(now=None) -> int:
    """The sweep's step: close sessions that lapsed unseen, and drop those ended long ago and
    the security log past its keeping time. Returns how many rows went or changed."""
    now = now or utcnow()
    config = current_app.config
    idle_cut = now - timedelta(minutes=config["SIGNET_SESSION_IDLE_MINUTES"])
    life_cut = now - timedelta(hours=config["SIGNET_SESSION_HOURS"])
    open_rows = StaffSession.ended_at.is_(None)
    closed = db.session.execute(
        update(StaffSession).where(open_rows, StaffSession.last_seen_at < idle_cut)
        .values(ended_at=now, end_reason="idle")
    ).rowcount + db.session.execute(
        update(StaffSession).where(open_rows, StaffSession.created_at < life_cut)
        .values(ended_at=now, end_reason="expired")
    ).rowcount
    dropped = db.session.execute(
        delete(StaffSession).where(StaffSession.ended_at < now - ENDED_SESSIONS_KEPT)
    ).rowcount + db.session.execute(
        delete(SecurityEvent).where(
            SecurityEvent.created_at < now - timedelta(days=config["SIGNET_SECURITY_LOG_DAYS"]))
    ).rowcount
    unit.commit()
    return (closed or 0) + (dropped or 0)
