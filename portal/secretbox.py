"""Values only the server may read back (a signing link's token, a message's code).

Sealed with Fernet (AES-CBC + HMAC) under a key derived by HKDF from SECRET_KEY, one key per
purpose, so a value sealed for one use cannot be passed off as another. When SECRET_KEY changes
the old values cannot be opened any more: `unseal` answers None and the caller issues a new one.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

SIGNING_LINK = "signing link"
BATCH_LINK = "batch link"
MESSAGE_SECRETS = "message secrets"
PUBLIC_LINK = "public link"


def seal(value: str, purpose: str) -> str:
    """The value encrypted and authenticated, as ASCII text for a column."""
    return _fernet(_secret_key(), purpose).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(sealed: str | None, purpose: str) -> str | None:
    """The value back, or None when there is none or it cannot be opened (another key)."""
    if not sealed:
        return None
    try:
        return _fernet(_secret_key(), purpose).decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError):
        return None


def _secret_key() -> bytes:
    key = current_app.config["SECRET_KEY"]
    return key if isinstance(key, bytes) else str(key).encode("utf-8")


@lru_cache(maxsize=16)
def _fernet(secret_key: bytes, purpose: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"signet secretbox",
                   info=purpose.encode("utf-8")).derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(derived))
