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


def queue_only(recipient="maria@example.com", subject="Please sign the contract") -> int:
    """Queue a notice email and commit, without dispatching it; its id."""
    message = queue_email(recipient, subject, "notice", "test-notice",
                          lines=["The contract is ready for your signature."])
    db.session.commit()
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


class RefusingSMTP:
    """A loopback SMTP server that answers 451 to the next `refuse_next` messages and accepts
    the rest; it notes the Message-ID of every message it was handed, taken or not."""

    def __init__(self):
        import threading

        from aiosmtpd.controller import Controller

        from tests.services import Mailbox, free_port

        self.mailbox = Mailbox()
        self.refused: list[str] = []
        self.refuse_next = 0
        self.port = free_port()
        self._lock = threading.Lock()
        server = self

        class Handler:
            async def handle_DATA(self, _server, _session, envelope):
                with server._lock:
                    refuse = server.refuse_next > 0
                    server.refuse_next -= 1 if refuse else 0
                if refuse:
                    server.refused.append(message_id_of(envelope.content))
                    return "451 4.3.0 Try again later"
                server.mailbox.add(envelope)
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def reset(self):
        self.mailbox.clear()
        self.refused.clear()
        self.refuse_next = 0

    def accepted_ids(self) -> list[str]:
        return [message["message"]["Message-ID"] for message in self.mailbox.messages]

    def stop(self):
        self.controller.stop()


def message_id_of(content: bytes) -> str:
    from email import message_from_bytes, policy

    return message_from_bytes(content, policy=policy.default)["Message-ID"]

