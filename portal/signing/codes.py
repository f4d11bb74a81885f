"""One-time codes: six digits, kept only as a keyed hash, short-lived, few attempts, few sends.

How many codes went out lately is kept on the party (`code_sent_at`, `recent_code_sends`),
written where a code is sent; the audit trail records each send but is never read for it.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app

from portal.models_base import as_utc

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(seconds=60)
SENDS_PER_HOUR = 5
HOUR = timedelta(hours=1)


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(salt: int | str, code: str, namespace: str = "signing-code") -> str:
    """HMAC-SHA256 keyed by the app secret, salted by the holder: a leaked table reveals nothing.

    A party salts with its id; a signing bundle (one code for a batch's documents) with its own
    key (`holder_key`). A code held by something else than a party or bundle (a public link's
    pre-signature, a visitor's submission) takes a namespace of its own, so equal ids never
    share a hash."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"{namespace}:{salt}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def code_matches(party, code: str, namespace: str = "signing-code") -> bool:
    typed = "".join(str(code or "").split())
    if not party.code_hash or len(typed) != CODE_DIGITS or not typed.isdigit():
        return False
    return hmac.compare_digest(party.code_hash, code_hash(holder_key(party), typed, namespace))


def holder_key(holder) -> int | str:
    """What a code's hash is salted with: the party's id, or a bundle's own key."""
    return getattr(holder, "code_key", None) or holder.id


def record_send(party, now: datetime) -> None:
    """Count a code sent to the party now (the caller holds the party's row lock)."""
    party.codes_sent = (party.codes_sent or 0) + 1
    party.code_sent_at = now
    recent = [moment.isoformat() for moment in sends_since(party, now - HOUR)]
    party.recent_code_sends = [*recent, now.isoformat()][-SENDS_PER_HOUR:]


def sends_since(party, since: datetime) -> list[datetime]:
    """When codes went to this party since `since`, oldest first (the latest few only: as many
    as the hourly limit counts)."""
    moments = [_moment(value) for value in party.recent_code_sends or ()]
    return sorted(moment for moment in moments if moment is not None and moment > since)


def _moment(value) -> datetime | None:
    try:
        return as_utc(datetime.fromisoformat(value))
    except (TypeError, ValueError):  # a value this code did not write
        return None
