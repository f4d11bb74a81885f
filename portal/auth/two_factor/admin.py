"""An administrator turns off a user's second factors (a lost phone, no recovery code left)."""

from sqlalchemy import delete

from portal import unit
from portal.auth import security_log
from portal.auth.models import User
from portal.auth.security_log import Visitor
from portal.auth.two_factor import passkeys, recovery, totp
from portal.auth.two_factor.models import TotpCredential
from portal.extensions import db


def reset_factors(actor: User, user: User, visitor: Visitor) -> int:
    """Remove the user's authenticator app, passkeys and recovery codes; return how many
    factors went. The user logs in with the password alone next time, and is guided to enrol
    again if a role of theirs requires a second factor."""
    removed = 0
    credential = totp.credential_of(user)
    if credential is not None:
        if credential.confirmed_at is not None:
            security_log.record("totp_disabled", user, visitor, actor=actor,
                                detail="reset by an administrator")
            removed += 1
        db.session.execute(delete(TotpCredential).where(TotpCredential.id == credential.id))
    for passkey in passkeys.passkeys_of(user):
        security_log.record("passkey_removed", user, visitor, actor=actor, detail=passkey.name)
        db.session.delete(passkey)
        removed += 1
    recovery.drop_codes(user)
    unit.commit()
    return removed
