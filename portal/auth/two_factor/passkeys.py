"""Passkeys (WebAuthn) as the second factor: register, list, remove, check an assertion.

The relying party is the portal as SIGNET_BASE_URL names it: its host is the RP ID and its
scheme, host and port the only origin accepted. Challenges are made here and kept by the
caller (the view keeps them in the signed session) until the browser answers, once.
"""

import json
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal import unit
from portal.auth import security_log
from portal.auth.models import User
from portal.auth.security_log import Visitor
from portal.auth.two_factor import policy, recovery
from portal.auth.two_factor.models import Passkey
from portal.auth.two_factor.policy import TwoFactorRefused
from portal.extensions import db
from portal.models_base import utcnow

NAME_MAX = 100
TIMEOUT_MS = 120_000
_TRANSPORTS = {t.value for t in AuthenticatorTransport}


def relying_party() -> tuple[str, str]:
    """(RP ID, origin) from SIGNET_BASE_URL."""
    parts = urlsplit(current_app.config["SIGNET_BASE_URL"])
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def passkeys_of(user: User) -> list[Passkey]:
    return list(db.session.execute(
        select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at, Passkey.id)
    ).scalars())


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(key.credential_id),
        transports=[AuthenticatorTransport(t) for t in key.transports.split() if t in _TRANSPORTS],
    ) for key in passkeys_of(user)]


def _user_handle(user: User) -> bytes:
    # Stable and opaque: the user's id, never the email, goes to the authenticator.
    return f"signet-user-{user.id}".encode()


# --- registration ----------------------------------------------------------------------------

def registration_options(user: User) -> tuple[dict, str]:
    """(options for navigator.credentials.create as JSON, the challenge to keep, base64url)."""
    rp_id, _origin = relying_party()
    options = generate_registration_options(
        rp_id=rp_id, rp_name="Signet", user_id=_user_handle(user), user_name=user.email,
        user_display_name=user.name, timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(user),
    )
    return json.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


def register(user: User, name: str, credential: dict, challenge: str | None,
             visitor: Visitor) -> tuple[Passkey, list[str] | None]:
    """Keep the passkey the browser made; return it and new recovery codes if the user had none."""
    name = " ".join((name or "").split())
    if not name:
        raise TwoFactorRefused(_("Give the passkey a name, such as the device it is on."), "name")
    if len(name) > NAME_MAX:
        raise TwoFactorRefused(_("The name can be at most %(max)d characters long.",
                                 max=NAME_MAX), "name")
    if not challenge:
        raise TwoFactorRefused(_("The passkey request expired. Try again."), status=409)
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id, expected_origin=origin)
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise TwoFactorRefused(_("The browser's answer could not be verified. Try again.")) \
            from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.execute(select(Passkey.id).where(Passkey.credential_id == credential_id)
                          ).first() is not None:
        raise TwoFactorRefused(_("This passkey is already registered."), status=409)
    transports = credential.get("response", {}).get("transports") or []
    passkey = Passkey(
        user_id=user.id, name=name, credential_id=credential_id,
        public_key=verified.credential_public_key, sign_count=verified.sign_count,
        transports=" ".join(t for t in transports if t in _TRANSPORTS)[:100],
        created_at=utcnow(),
    )
    db.session.add(passkey)
    codes = None if recovery.unused_count(user) else recovery.replace_codes(user)
    policy.factor_added(user)
    security_log.record("passkey_added", user, visitor, detail=name)
    unit.commit()
    return passkey, codes


def remove(user: User, passkey_id: int, password: str, visitor: Visitor) -> Passkey:
    """Remove one of the user's passkeys (the password is needed)."""
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:  # another's is "not found"
        raise TwoFactorRefused(_("This passkey does not exist or was already removed."),
                               status=404)
    policy.check_password(user, password, visitor)
    remaining = policy.passkey_count(user) - 1 + (1 if policy.has_totp(user) else 0)
    policy.refuse_removing_last(user, remaining)
    db.session.delete(passkey)
    if remaining == 0:
        recovery.drop_codes(user)
    security_log.record("passkey_removed", user, visitor, detail=passkey.name)
    unit.commit()
    return passkey


# --- signing in ------------------------------------------------------------------------------

def authentication_options(user: User) -> tuple[dict, str]:
    """(options for navigator.credentials.get limited to the user's passkeys, the challenge)."""
    rp_id, _origin = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id, timeout=TIMEOUT_MS, allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED)
    return json.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


def check_assertion(user: User, credential: dict, challenge: str | None) -> Passkey | None:
    """The user's passkey that signed this challenge, or None (open transaction)."""
    if not challenge or not isinstance(credential, dict):
        return None
    credential_id = credential.get("id")
    if not isinstance(credential_id, str):
        return None
    passkey = db.session.execute(select(Passkey).where(
        Passkey.credential_id == credential_id, Passkey.user_id == user.id)).scalar_one_or_none()
    if passkey is None:  # unknown, or another user's passkey
        return None
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count)
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    return passkey
