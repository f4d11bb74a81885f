"""A party's signing link: issued, kept sealed for a resend, and turned into a URL."""

from flask import current_app

from portal.documents.models import Party
from portal.secretbox import SIGNING_LINK, seal, unseal
from portal.tokens import hash_token, new_token


def signing_link(raw_token: str) -> str:
    return f"{current_app.config['SIGNET_BASE_URL']}/s/{raw_token}"


def issue_link(party: Party) -> str:
    """A new link for the party (the previous one stops working); its raw token.

    The party keeps the token's hash, to find it, and the token sealed, so that only the
    server can send the same link again (a reminder); no message body is ever read for it.
    """
    raw, hashed = new_token()
    party.token_hash = hashed
    party.link_sealed = seal(raw, SIGNING_LINK)
    return raw


def current_link_token(party: Party) -> str | None:
    """The raw token of the party's working link; None when there is none or it cannot be
    opened any more (SECRET_KEY changed): the caller then issues a new link."""
    raw = unseal(party.link_sealed, SIGNING_LINK) if party.token_hash else None
    return raw if raw is not None and hash_token(raw) == party.token_hash else None
