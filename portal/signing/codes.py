"""One-time codes: six digits, kept only as a keyed hash, short-lived, few attempts, few sends."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(seconds=60)
SENDS_PER_HOUR = 5
HOUR = timedelta(hours=1)


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(party_id: int, code: str) -> str:
    """HMAC-SHA256 keyed by the app secret, salted by the party: a leaked table reveals nothing."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"signing-code:{party_id}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def code_matches(party, code: str) -> bool:
    typed = "".join(str(code or "").split())
    if not party.code_hash or len(typed) != CODE_DIGITS or not typed.isdigit():
        return False
    return hmac.compare_digest(party.code_hash, code_hash(party.id, typed))


def sends_since(party_id: int, since) -> list:
    """When codes went to this party since `since`, oldest first (from the audit trail)."""
    return list(db.session.scalars(
        select(AuditEvent.created_at)
        .where(AuditEvent.type == "party.code_sent", AuditEvent.actor_type == "party",
               AuditEvent.actor_id == party_id, AuditEvent.created_at > since)
        .order_by(AuditEvent.created_at)
    ))


def sends_in_last_hour(party_id: int, now) -> int:
    return db.session.scalar(
        select(func.count(AuditEvent.id))
        .where(AuditEvent.type == "party.code_sent", AuditEvent.actor_type == "party",
               AuditEvent.actor_id == party_id, AuditEvent.created_at > now - HOUR)
    ) or 0
