"""The job that delivers one outbox message."""

import logging

from portal.delivery.backends import DeliveryError, backend_for
from portal.delivery.models import Message
from portal.extensions import db
from portal.jobs import app_job
from portal.models_base import utcnow

log = logging.getLogger(__name__)
ERROR_LIMIT = 2000


@app_job
def deliver_message(message_id: int) -> str | None:
    """Send one message through its channel's backend; record the outcome; raise to retry."""
    message = db.session.get(Message, message_id)
    if message is None or message.status == "sent":
        return None
    backend = backend_for(message)
    message.attempts = (message.attempts or 0) + 1
    message.backend = backend.name
    try:
        provider_id = backend.send(message)
    except Exception as error:
        message.status = "failed"
        message.last_error = describe(error)
        db.session.commit()
        log.warning("Message %s via %s failed: %s", message_id, backend.name, message.last_error)
        raise
    message.status = "sent"
    message.sent_at = utcnow()
    message.provider_id = provider_id or ""
    message.last_error = ""
    db.session.commit()
    return provider_id


def describe(error: Exception) -> str:
    """A one-line reason for the outbox viewer."""
    text = str(error).strip()
    if isinstance(error, DeliveryError):
        return text[:ERROR_LIMIT]
    name = type(error).__name__
    return (f"{name}: {text}" if text else name)[:ERROR_LIMIT]
