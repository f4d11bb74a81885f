"""The signing session a confirmed code opens in one browser: filling and signing need it.

A link alone proves only that someone holds the message; the code proves the channel. So the
confirmation hands that browser a signed, short-lived cookie bound to the party, its current
link and that very confirmation. A forwarded link opened elsewhere, or the same browser after a
later confirmation elsewhere, has no session and is asked for a new code.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from portal.documents.models import Party

COOKIE_NAME = "signet_ceremony"
SALT = "signing-ceremony"


@dataclass(frozen=True)
class Ceremony:
    """What a browser's cookie claims: whose session, which link, which confirmation."""

    party_id: int
    link: str  # the party's token hash when the code was confirmed
    confirmed_at: str  # the confirmation's moment, ISO: a later one ends this session
    secret: str

    @property
    def tag(self) -> str:
        """A short public name for the session in the audit trail (not the secret itself)."""
        return hashlib.sha256(self.secret.encode()).hexdigest()[:16]


def lifetime() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("SIGNET_CEREMONY_MINUTES", 60)))


def _serializer(salt: str = SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _moment(party: Party) -> str:
    confirmed = party.code_confirmed_at
    return confirmed.isoformat(timespec="microseconds") if confirmed else ""


def open_for(party: Party) -> Ceremony:
    """A new session for the confirmation just recorded on `party`."""
    return Ceremony(party.id, party.token_hash or "", _moment(party), secrets.token_urlsafe(24))


def seal(ceremony: Ceremony, salt: str = SALT) -> str:
    """The cookie's value: signed, so a browser cannot make or alter one.

    `salt`: a batch ceremony's cookie (portal/signing/bundles.py) is never read as a party's.
    """
    return _serializer(salt).dumps([ceremony.party_id, ceremony.link, ceremony.confirmed_at,
                                ceremony.secret])


def cookie_options(token: str, secure: bool, prefix: str = "/s") -> dict:
    """How the session's cookie is set: only that link's pages ever receive it."""
    return {"max_age": int(lifetime().total_seconds()), "path": f"{prefix}/{token}",
            "httponly": True, "samesite": "Lax",
            "secure": bool(current_app.config.get("SESSION_COOKIE_SECURE")) or secure}


def read(value: str | None, salt: str = SALT) -> Ceremony | None:
    """The session a cookie carries, if its signature holds and it is not too old."""
    if not value or len(value) > 1000:
        return None
    try:
        party_id, link, confirmed_at, secret = _serializer(salt).loads(
            value, max_age=int(lifetime().total_seconds()))
    except (BadData, TypeError, ValueError):
        return None
    if not isinstance(party_id, int) or not all(
            isinstance(part, str) for part in (link, confirmed_at, secret)):
        return None
    return Ceremony(party_id, link, confirmed_at, secret)


def holds(party: Party, ceremony: Ceremony | None) -> bool:
    """Whether this browser's session is the one opened by the party's latest confirmation."""
    return (ceremony is not None and party.code_confirmed_at is not None
            and ceremony.party_id == party.id and ceremony.link == (party.token_hash or "")
            and ceremony.confirmed_at == _moment(party))
