"""The secret parts of a message (a signing link's token, a one-time code), kept apart.

A message's subject and bodies are stored with a marker where each secret value was; the values
themselves are sealed in `messages.secrets`. The delivery job fills them in just for the send.
Once a real server (SMTP, SMS gateway) took the message the sealed values are dropped, so the
stored copy stays redacted for good: the outbox shows what was sent with those parts masked.
Without a server (the outbox-viewer mode, how one person tries the product) the outbox is the
only place a message arrives, so there the values are kept and shown.
"""

import json
import re
import secrets as random
from dataclasses import dataclass

from portal.secretbox import MESSAGE_SECRETS, seal, unseal

# Only characters that HTML escaping, JSON and URLs leave alone, so the marker survives every
# template it passes through and the value put back is exactly the one taken out.
MARKER = re.compile(r"\[\[secret:[0-9a-f]{12}\]\]")
SECRET_VALUE = re.compile(r"^[A-Za-z0-9_\-]{4,200}$")
MASK = "••••••"
TEXT_PARTS = ("subject", "body_text", "body_html")


@dataclass(frozen=True)
class Copy:
    """A message as it goes out (or as the outbox shows it): what the backends read."""

    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str
    attachments: list
    # The Message-ID the message got when it was queued (every try carries it).
    message_id: str = ""


def hide(parts: dict[str, str], values) -> tuple[dict[str, str], str | None]:
    """(the parts with a marker for every occurrence of each secret value, the sealed values).

    One pass over each part, longest value first, so no value is looked for inside a marker.
    """
    values = sorted({str(value) for value in values or () if value}, key=len, reverse=True)
    if not values:
        return parts, None
    for value in values:
        if not SECRET_VALUE.match(value):  # a caller's mistake, not a user's input
            raise ValueError("a secret must be 4-200 letters, digits, '-' or '_'")
    marker_of = {value: f"[[secret:{random.token_hex(6)}]]" for value in values}
    pattern = re.compile("|".join(re.escape(value) for value in values))
    hidden = {name: pattern.sub(lambda match: marker_of[match.group(0)], text or "")
              for name, text in parts.items()}
    sealed = seal(json.dumps({marker: value for value, marker in marker_of.items()}),
                  MESSAGE_SECRETS)
    return hidden, sealed


def holds_secrets(message) -> bool:
    """Whether the stored copy has secret parts (markers) at all."""
    return any(MARKER.search(getattr(message, name) or "") for name in TEXT_PARTS)


def secrets_dropped(message) -> bool:
    """Delivered by a real server: the secret parts are gone, the copy is redacted for good."""
    return holds_secrets(message) and not message.secrets


def secret_values(message) -> dict[str, str] | None:
    """marker -> value; {} when the message has none; None when they cannot be read."""
    if not holds_secrets(message):
        return {}
    opened = unseal(message.secrets, MESSAGE_SECRETS)
    if opened is None:
        return None
    try:
        values = json.loads(opened)
    except ValueError:
        return None
    return values if isinstance(values, dict) else None


def as_sent(message) -> Copy | None:
    """The message with its secrets filled in; None when they were dropped or cannot be read."""
    values = secret_values(message)
    if values is None:
        return None
    return _copy(message, lambda match: values.get(match.group(0), MASK))


def masked(message) -> Copy:
    """The message with every secret part shown as dots."""
    return _copy(message, lambda _match: MASK)


def _copy(message, replacement) -> Copy:
    filled = {name: MARKER.sub(replacement, getattr(message, name) or "") for name in TEXT_PARTS}
    return Copy(channel=message.channel, recipient=message.recipient,
                attachments=list(message.attachments or ()),
                message_id=getattr(message, "message_id_header", "") or "", **filled)
