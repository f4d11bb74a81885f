"""Small helpers for the delivery tests (call inside an app context)."""

from datetime import timedelta

from sqlalchemy import update

from portal.delivery.models import Message
from portal.delivery.services import dispatch, queue_email, queue_sms
from portal.extensions import db
from portal.models_base import utcnow


def send_email(recipient="maria@example.com", subject="Please sign the contract", **context):
    """Queue a notice email, commit, dispatch; return its id."""
    context.setdefault("lines", ["The contract is ready for your signature."])
    message = queue_email(recipient, subject, "notice", "test-notice", **context)
    db.session.commit()
    dispatch([message.id])
    return message.id


def send_sms(number="+351912345678", text="Your code is 123456"):
    message = queue_sms(number, text, "test-code")
    db.session.commit()
    dispatch([message.id])
    return message.id


def reload(message_id) -> Message:
    """The message as the database has it now (a new transaction: SQLite reads are snapshots)."""
    db.session.commit()
    return db.session.get(Message, message_id)


def make_messages(count, status="sent", channel="email", **fields) -> list[int]:
    """Rows straight into the outbox, for the viewer's tests."""
    messages = [
        Message(**{"channel": channel, "recipient": f"person{i}@example.com",
                   "subject": f"Subject {i}", "body_text": f"Body {i}", "kind": "test",
                   "status": status, **fields})
        for i in range(count)
    ]
    db.session.add_all(messages)
    db.session.commit()
    return [message.id for message in messages]


def make_due(message_id, ago=timedelta(seconds=1)) -> None:
    """Move a retrying message's next try into the past, as if its wait had passed."""
    db.session.execute(update(Message).where(Message.id == message_id)
                       .values(next_attempt_at=utcnow() - ago))
    db.session.commit()
