"""Invitations through the real queue, and what the outbox and the SMTP server say in the end."""

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

from flask_babel import force_locale
from sqlalchemy import select, update

from portal.auth.models import User
from portal.delivery.models import Message
from portal.delivery.services import dispatch
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices.texts import queue_invitation
from portal.parties.models import Company
from portal.tokens import new_token

# Generous: a scenario ends in seconds; this only bounds a broken one.
LIMIT_SECONDS = 60


def queue_invitations(count: int, *, dispatched: int = 1) -> list[int]:
    """Render `count` signing invitations into the outbox (one commit), then dispatch them,
    each `dispatched` times in a row (so two workers take a message's jobs at once)."""
    company = Company(legal_name="Faults LLC", signer_name="Anna Petrova")
    sender = User(email="sender@faults.example", name="Sam Sender")
    document = Document(number="ACT-2026-00042", title="Act of completed work", language="en",
                        company=company, responsible=sender,
                        deadline_at=utcnow() + timedelta(days=30))
    ids = []
    for index in range(count):
        party = Party(role="client", name=f"Client {index}",
                      email=f"client{index}@faults.example", channel="email")
        raw, _hashed = new_token()
        with force_locale("en"):
            message = queue_invitation(document, party, raw)
        db.session.flush()
        ids.append(message.id)
    db.session.expunge_all()  # the document and its company stay out of the database
    db.session.commit()
    for message_id in ids:
        for _ in range(dispatched):
            dispatch([message_id])
    db.session.commit()  # dispatch read the rows: end that transaction (SQLite's write lock)
    return ids


@dataclass
class Outcome:
    """The outbox rows against the copies the server took."""

    rows: dict[int, SimpleNamespace]  # id, recipient, status and the Message-ID of each
    copies: list[dict]
    by_recipient: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self):
        by_recipient = defaultdict(list)
        for copy in self.copies:
            for recipient in copy["to"]:
                by_recipient[recipient].append(copy["message_id"])
        self.by_recipient = dict(by_recipient)

    @property
    def statuses(self) -> Counter:
        return Counter(row.status for row in self.rows.values())

    @property
    def lost(self) -> list[str]:
        return sorted(row.recipient for row in self.rows.values()
                      if row.recipient not in self.by_recipient)

    @property
    def done(self) -> bool:
        return not self.lost and all(row.status == "sent" for row in self.rows.values())

    def identities(self) -> dict[str, set[str]]:
        """Each recipient's distinct Message-IDs: one means the copies are one message."""
        return {recipient: set(ids) for recipient, ids in self.by_recipient.items()}

    def summary(self) -> str:
        doubled = {r: ids for r, ids in self.by_recipient.items() if len(ids) > 1}
        return (f"statuses {dict(self.statuses)}; {len(self.copies)} copies for "
                f"{len(self.rows)} messages; lost {self.lost[:5]}; doubled "
                f"{dict(list(doubled.items())[:3])}")


def outcome(message_ids, smtp) -> Outcome:
    db.session.commit()  # a fresh snapshot: the workers wrote through their own connections
    rows = {row.id: SimpleNamespace(id=row.id, recipient=row.recipient, status=row.status,
                                    message_id_header=row.message_id_header,
                                    provider_id=row.provider_id)
            for row in db.session.scalars(select(Message).where(Message.id.in_(message_ids)))}
    # Hold no transaction while the test waits: on SQLite it would be the write lock.
    db.session.commit()
    return Outcome(rows=rows, copies=smtp.copies())


def wait_until(condition, what: str, explain=lambda: "", limit: float = LIMIT_SECONDS):
    """Poll `condition` until it is truthy; fail naming `what` and `explain()` past `limit`."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {limit:.0f} s: {explain()}")
        time.sleep(0.1)


def settled(redis_client, pids) -> bool:
    """No mail job waits and no live worker is busy: a late copy could only come from one.
    (A SIGKILLed worker stays "busy" in Redis until its key expires: only live pids count.)"""
    import rq

    if rq.Queue("mail", connection=redis_client).count:
        return False
    return not any(worker.get_state() == "busy"
                   for worker in rq.Worker.all(connection=redis_client) if worker.pid in pids)


def as_if_queued_a_while_ago(message_ids) -> None:
    """Move the still-queued rows' queue time back by the grace the sweep gives a just-queued
    message's own job (half a minute): the fault then strikes a run that has gone on a while,
    and the test does not sit out the grace."""
    from portal.delivery import services

    grace = getattr(services, "QUEUED_GRACE", timedelta(0))
    db.session.execute(update(Message).where(Message.id.in_(message_ids),
                                             Message.status == "queued")
                       .values(queued_at=utcnow() - grace))
    db.session.commit()


def scheduler_holder(redis_client, queue: str = "mail") -> int | None:
    """The pid of the worker whose scheduler holds the queue's lock (named host:pid:nonce)."""
    holder = redis_client.get(f"rq:scheduler-lock:{queue}")
    return int(holder.decode().split(":")[1]) if holder else None


def finish(ids, smtp, redis_client, workers, *, one_copy: bool, on_tick=lambda: None):
    """Wait for every message to be delivered and the mail queue to drain; check the result."""

    def delivered():
        on_tick()
        return outcome(ids, smtp).done

    explain = lambda: f"{outcome(ids, smtp).summary()}\n{workers.logs()}"  # noqa: E731
    wait_until(delivered, "every message sent and received", explain)
    wait_until(lambda: settled(redis_client, workers.pids), "the mail queue drained", explain)
    result = outcome(ids, smtp)
    assert result.lost == []
    identities = result.identities()
    assert {recipient for recipient, ids_ in identities.items() if len(ids_) != 1} == set(), (
        f"a message went out under several Message-IDs: {result.summary()}")
    if one_copy:
        assert all(len(copies) == 1 for copies in result.by_recipient.values()), result.summary()
    assert result.statuses == {"sent": len(ids)}, result.summary()
    for row in result.rows.values():
        [received] = identities[row.recipient]
        assert recorded_message_id(row) == received, (row.id, recorded_message_id(row), received)
    return result


def recorded_message_id(row) -> str:
    """The Message-ID the outbox row says it was sent with."""
    return getattr(row, "message_id_header", "") or row.provider_id or ""
