"""The job that delivers one outbox message."""

import logging

from sqlalchemy import update

from portal.delivery.backends import OUTBOX, DeliveryError, backend_for
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.extensions import db
from portal.jobs import app_job
from portal.models_base import utcnow

log = logging.getLogger(__name__)
ERROR_LIMIT = 2000
SECRETS_UNREADABLE = ("The link or code in this message can no longer be read (the secret key "
                      "changed, or it was delivered before); it was not sent.")


@app_job
def deliver_message(message_id: int) -> str | None:
    """Send one message through its channel's backend; record the outcome; raise to retry.

    The backend gets the message with its secret parts filled in; after a real server took it
    they are dropped from the row, which keeps only the redacted copy (see redaction).
    """
    message = db.session.get(Message, message_id)
    if message is None or message.status == "sent":
        return None
    backend = backend_for(message)
    attempts = (message.attempts or 0) + 1
    outgoing = as_sent(message)
    # Hold no transaction during the send: on SQLite a snapshot kept across it cannot be
    # upgraded to a write once another worker committed ("database is locked").
    db.session.expunge(message)
    db.session.commit()
    if outgoing is None:  # never send a masked link or code; retrying cannot bring them back
        _record(message_id, status="failed", attempts=attempts, backend=backend.name,
                last_error=SECRETS_UNREADABLE)
        log.warning("Message %s not sent: %s", message_id, SECRETS_UNREADABLE)
        return None
    try:
        provider_id = backend.send(outgoing)
    except Exception as error:
        _record(message_id, status="failed", attempts=attempts, backend=backend.name,
                last_error=describe(error))
        log.warning("Message %s via %s failed: %s", message_id, backend.name, describe(error))
        raise
    dropped = {} if backend is OUTBOX else {"secrets": None}
    _record(message_id, status="sent", sent_at=utcnow(), provider_id=provider_id or "",
            last_error="", attempts=attempts, backend=backend.name, **dropped)
    return provider_id


def _record(message_id: int, **values) -> None:
    # A write as the transaction's first statement: SQLite waits for the lock instead of failing.
    db.session.execute(update(Message).where(Message.id == message_id)
                       .values(updated_at=utcnow(), **values))
    db.session.commit()


def describe(error: Exception) -> str:
    """A one-line reason for the outbox viewer."""
    text = str(error).strip()
    if isinstance(error, DeliveryError):
        return text[:ERROR_LIMIT]
    name = type(error).__name__
    return (f"{name}: {text}" if text else name)[:ERROR_LIMIT]
