"""The authenticator app (TOTP, RFC 6238): enrol, confirm, check a code once, turn off.

The secret is sealed at rest (portal.secretbox). A code is accepted for the current 30-second
step and one step either side (clock drift), and only for a step later than the last accepted
one: a code seen over a shoulder or replayed from a log opens nothing.
"""

import base64
import hmac
from io import BytesIO

import pyotp
import qrcode
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from portal import secretbox, unit
from portal.auth import security_log
from portal.auth.models import User
from portal.auth.security_log import Visitor
from portal.auth.two_factor import policy, recovery
from portal.auth.two_factor.models import TotpCredential
from portal.auth.two_factor.policy import TwoFactorRefused
from portal.extensions import db
from portal.models_base import utcnow

SEAL_PURPOSE = "totp secret"
ISSUER = "Signet"
DRIFT_STEPS = 1
CODE_DIGITS = 6


def credential_of(user: User) -> TotpCredential | None:
    return db.session.execute(
        select(TotpCredential).where(TotpCredential.user_id == user.id)).scalar_one_or_none()


def start_enrolment(user: User) -> str:
    """The secret of the user's enrolment in progress (a new one the first time); commits.

    Asking again (a reload, a double submit) keeps the same secret, so a code from the app
    already scanned still confirms it."""
    credential = credential_of(user)
    if credential is not None and credential.confirmed_at is not None:
        raise TwoFactorRefused(_("The authenticator app is already turned on."), status=409)
    secret = secretbox.unseal(credential.secret_sealed, SEAL_PURPOSE) if credential else None
    if secret is None:
        secret = pyotp.random_base32()
        if credential is None:
            credential = TotpCredential(user_id=user.id, created_at=utcnow())
            db.session.add(credential)
        credential.secret_sealed = secretbox.seal(secret, SEAL_PURPOSE)
        unit.commit()
    return secret


def pending_secret(user: User) -> str | None:
    """The secret of an enrolment not confirmed yet, if any."""
    credential = credential_of(user)
    if credential is None or credential.confirmed_at is not None:
        return None
    return secretbox.unseal(credential.secret_sealed, SEAL_PURPOSE)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(text: str) -> str:
    """A PNG of the QR code of `text` as a data: URI (the page allows data: images)."""
    image = qrcode.make(text, box_size=6, border=4)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def confirm(user: User, code: str, visitor: Visitor) -> list[str] | None:
    """Turn the app on with a code it shows; return new recovery codes if the user had none."""
    credential = credential_of(user)
    if credential is not None and credential.confirmed_at is not None:
        raise TwoFactorRefused(_("The authenticator app is already turned on."), status=409)
    secret = pending_secret(user)
    if secret is None:
        raise TwoFactorRefused(_("Start the set-up again: the enrolment was not found."),
                               status=409)
    step = _matching_step(secret, code, None)
    if step is None:
        security_log.record("second_factor_failed", user, visitor, method="totp",
                            detail="enrolment")
        unit.commit()
        raise TwoFactorRefused(_("This code is not right. Check the app shows Signet with your "
                                 "email and type the code it shows now."), "code")
    credential.confirmed_at = utcnow()
    credential.last_used_step = step
    codes = None if recovery.unused_count(user) else recovery.replace_codes(user)
    policy.factor_added(user)
    security_log.record("totp_enabled", user, visitor)
    unit.commit()
    return codes


ACCEPTED, REPLAYED, WRONG = "accepted", "replayed", "wrong"


def check_code(user: User, code: str) -> str:
    """ACCEPTED for a fresh code of the user's app (its step is spent, open transaction),
    REPLAYED for a code already accepted, WRONG for anything else."""
    credential = credential_of(user)
    if credential is None or credential.confirmed_at is None:
        return WRONG
    secret = secretbox.unseal(credential.secret_sealed, SEAL_PURPOSE)
    if secret is None:  # SECRET_KEY changed: the app must be set up again
        return WRONG
    step = _matching_step(secret, code, credential.last_used_step)
    if step is None:
        return REPLAYED if _matching_step(secret, code, None) is not None else WRONG
    # Conditional: of two requests racing with one code, only one moves the step forward.
    moved = db.session.execute(
        update(TotpCredential)
        .where(TotpCredential.id == credential.id,
               or_(TotpCredential.last_used_step.is_(None),
                   TotpCredential.last_used_step < step))
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    return ACCEPTED if moved else REPLAYED


def looks_like_code(code: str) -> bool:
    value = "".join((code or "").split())
    return len(value) == CODE_DIGITS and value.isdigit()


def _matching_step(secret: str, code: str, after_step: int | None) -> int | None:
    code = "".join((code or "").split())
    if not looks_like_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=CODE_DIGITS)
    now_step = int(_now() // totp.interval)
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def _now() -> float:
    return utcnow().timestamp()


def disable(user: User, password: str, visitor: Visitor) -> None:
    """Turn the app off (the password proves it is the user, not a borrowed browser)."""
    policy.check_password(user, password, visitor)
    credential = credential_of(user)
    if credential is None or credential.confirmed_at is None:
        if credential is not None:  # an enrolment never confirmed: just forget it
            db.session.delete(credential)
            unit.commit()
        raise TwoFactorRefused(_("The authenticator app is not turned on."), status=409)
    remaining = policy.passkey_count(user)
    policy.refuse_removing_last(user, remaining)
    db.session.delete(credential)
    if remaining == 0:
        recovery.drop_codes(user)
    security_log.record("totp_disabled", user, visitor)
    unit.commit()


def cancel_enrolment(user: User) -> None:
    credential = credential_of(user)
    if credential is not None and credential.confirmed_at is None:
        db.session.delete(credential)
        unit.commit()

