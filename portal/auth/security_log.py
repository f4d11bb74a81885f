"""The security log: who got into which account, how, from where, and what changed its access.

Services add an entry in the same transaction as the change it records; a failed login is
recorded and committed on its own, since nothing else changes.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.auth.models import SecurityEvent, User
from portal.extensions import db
from portal.models_base import utcnow

KINDS = {
    "signed_in": _l("Signed in"),
    "sign_in_failed": _l("Sign-in failed"),
    "sign_in_delayed": _l("Sign-in held back (too many failures)"),
    "signed_out": _l("Signed out"),
    "session_ended": _l("Session ended"),
    "sessions_ended": _l("All sessions ended"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset by an administrator"),
    "account_deactivated": _l("Account deactivated"),
    "account_reactivated": _l("Account reactivated"),
    "api_token_created": _l("API token created"),
    "api_token_revoked": _l("API token revoked"),
    "api_tokens_revoked": _l("All API tokens revoked"),
    "totp_enabled": _l("Authenticator app turned on"),
    "totp_disabled": _l("Authenticator app turned off"),
    "recovery_codes_renewed": _l("New recovery codes made"),
    "recovery_code_used": _l("Recovery code used"),
    "passkey_added": _l("Passkey added"),
    "passkey_removed": _l("Passkey removed"),
    "second_factor_failed": _l("Wrong second-factor code"),
}

METHODS = {
    "password": _l("password"),
    "totp": _l("password and authenticator app"),
    "recovery": _l("password and recovery code"),
    "passkey": _l("password and passkey"),
    "oidc": _l("single sign-on"),
    "invite": _l("invitation"),
}

PAGE_SIZE = 50


@dataclass(frozen=True)
class Visitor:
    """Where a request came from, as the services record it (they never read the request)."""

    address: str = ""
    user_agent: str = ""

    def trimmed(self) -> "Visitor":
        return Visitor(self.address[:64], self.user_agent[:300])


def record(kind: str, user: User | None, visitor: Visitor | None = None, *,
           method: str = "", detail: str = "", actor: User | None = None) -> SecurityEvent:
    """Add an entry to the open transaction; the caller commits it with its change."""
    if kind not in KINDS:
        raise ValueError(f"undeclared security event {kind!r}")
    visitor = (visitor or Visitor()).trimmed()
    event = SecurityEvent(
        kind=kind, user_id=user.id if user else None,
        actor_id=actor.id if actor is not None and (user is None or actor.id != user.id) else None,
        method=method, detail=detail[:300], address=visitor.address,
        user_agent=visitor.user_agent, created_at=utcnow(),
    )
    db.session.add(event)
    return event


def events_of(user: User, before_id: int | None = None) -> list[SecurityEvent]:
    """The user's own log, newest first, a page at a time."""
    return _page(select(SecurityEvent).where(SecurityEvent.user_id == user.id), before_id)


def all_events(before_id: int | None = None, kind: str = "") -> list[SecurityEvent]:
    """Every account's log, for administrators."""
    query = select(SecurityEvent)
    if kind in KINDS:
        query = query.where(SecurityEvent.kind == kind)
    return _page(query, before_id)


def _page(query, before_id: int | None) -> list[SecurityEvent]:
    # Keyset paging: the next page starts below the last id shown, whatever was added since.
    if before_id:
        query = query.where(SecurityEvent.id < before_id)
    return list(db.session.execute(
        query.order_by(SecurityEvent.id.desc()).limit(PAGE_SIZE)
    ).scalars())


def label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def method_label(method: str) -> str:
    return str(METHODS.get(method, method))
