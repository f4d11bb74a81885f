"""Unguessable link tokens: the raw value goes into the link, only its hash is stored."""

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits


def new_token() -> tuple[str, str]:
    """Return (raw token for the link, sha256 hex to store)."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
