"""The job that delivers one outbox message: claim the row, send, settle, book the next try.

The row decides (see portal.retries): a delivery first claims the message ("sending", its
attempt counted, the claim time noted), and only the claimant talks to the server. Two jobs for
the same message at once send one copy; a claim whose worker died lapses after
SIGNET_MESSAGE_LEASE_SECONDS and the next try takes it over. A failed try leaves the message
"retrying" with the time of its next try in the row (SIGNET_MESSAGE_RETRY_SECONDS); with Redis
that try is also booked on RQ's schedule, and the sweep runs it in any case. A message is
"failed" for good only once its window is used up: SIGNET_MESSAGE_ATTEMPTS tries or
SIGNET_MESSAGE_GIVE_UP_HOURS since it was queued, whichever ends first (or at once when its
link or code can no longer be read: no try could send it).

Every try carries the message's one Message-ID (the SMS gateway's Idempotency-Key is made from
it), so a receiver can drop the copy a lost reply leads to: delivery is at least once, and a
second copy is recognisable as the same message.
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update

from portal import retries, unit
from portal.delivery.backends import OUTBOX, DeliveryError, backend_for
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.extensions import db
from portal.jobs import app_job
from portal.models_base import as_utc, utcnow

log = logging.getLogger(__name__)
ERROR_LIMIT = retries.ERROR_LIMIT
SENDING = "sending"
QUEUE_FOR_CHANNEL = {"email": "mail", "sms": "sms"}
JOB_PREFIX = "signet-message"
# Kinds whose content expires sooner than the usual window: a signing code is good for five
# minutes (signing/codes.py), and a copy arriving later would only confuse.
WINDOW_BY_KIND = {"signing_code": timedelta(minutes=5)}
SECRETS_UNREADABLE = ("The link or code in this message can no longer be read (the secret key "
                      "changed, or it was delivered before); it was not sent.")


@app_job
def deliver_message(message_id: int) -> str | None:
    """One try at one message, if it is ours to try now; the provider's id when it was sent.

    The backend gets the message with its secret parts filled in; after a real server took it
    they are dropped from the row, which keeps only the redacted copy (see redaction). Never
    raises for a delivery problem: the outcome is in the row.
    """
    held = retries.claim(Message, message_id, running=SENDING, lease=lease(), commit=False)
    if held is None:  # sent, failed, another worker's, or not due yet
        return None
    message = db.session.get(Message, message_id)  # read in the claim's own transaction
    channel, queued_at, kind = message.channel, message.queued_at, message.kind
    outgoing = as_sent(message)
    # Hold no transaction during the send: on SQLite a snapshot kept across it cannot be
    # upgraded to a write once another worker committed ("database is locked").
    db.session.expunge(message)
    unit.commit()
    try:
        backend = backend_for(message)
    except DeliveryError as error:
        _fail(held, channel, str(error), delay=None, backend="")
        return None
    if outgoing is None:  # never send a masked link or code; retrying cannot bring them back
        _fail(held, channel, SECRETS_UNREADABLE, delay=None, backend=backend.name)
        return None
    try:
        provider_id = backend.send(outgoing)
    except Exception as error:
        delay = next_try(held.attempt, queued_at, utcnow(), kind)
        _fail(held, channel, describe(error), delay=delay, backend=backend.name)
        return None
    _record_sent(held, backend, provider_id or "")
    return provider_id


def _record_sent(held: retries.Claim, backend, provider_id: str) -> None:
    outcome = {"status": "sent", "sent_at": utcnow(), "provider_id": provider_id,
               "last_error": "", "backend": backend.name, "next_attempt_at": None}
    if backend is not OUTBOX:
        outcome["secrets"] = None
    if retries.settle(Message, held.row_id, held, running=SENDING, **outcome):
        return
    # The claim lapsed during a slow send and another try took the message over: it was sent
    # all the same, which is what the row must say (the other try's outcome cannot be truer).
    log.warning("Message %s was sent after its claim lapsed", held.row_id)
    db.session.execute(update(Message).where(
        Message.id == held.row_id, Message.status.in_((SENDING, "retrying", "failed")))
        .values(**outcome))
    unit.commit()


def _fail(held: retries.Claim, channel: str, error: str, delay: int | None,
          backend: str) -> None:
    booked = retries.settle_failure(Message, held.row_id, error, delay, held, running=SENDING,
                                    backend=backend)
    if booked is None:
        log.warning("Message %s failed for good after %s tries: %s", held.row_id, held.attempt,
                    error)
        return
    log.warning("Message %s failed (try %s), next try in %s s: %s", held.row_id, held.attempt,
                booked, error)
    retries.book(deliver_message, held.row_id, booked, QUEUE_FOR_CHANNEL.get(channel, "default"),
                 JOB_PREFIX)


def next_try(attempt: int, queued_at: datetime | None, now: datetime,
             kind: str = "") -> int | None:
    """Seconds until the next try after failed try number `attempt`; None: the window is over.

    The last try falls at the window's end at the latest, never after it.
    """
    config = current_app.config
    if attempt >= max(1, int(config.get("SIGNET_MESSAGE_ATTEMPTS") or 1)):
        return None
    waits = list(config.get("SIGNET_MESSAGE_RETRY_SECONDS") or [0])
    delay = max(0, int(waits[min(attempt, len(waits)) - 1]))
    if queued_at is not None:
        window = WINDOW_BY_KIND.get(kind) or timedelta(
            hours=float(config.get("SIGNET_MESSAGE_GIVE_UP_HOURS") or 0))
        left = (as_utc(queued_at) + window - now).total_seconds()
        if left <= 0:
            return None
        delay = min(delay, int(left))
    return delay


def lease() -> timedelta:
    """How long a claim lasts; a message still "sending" after it is taken over."""
    return timedelta(seconds=int(current_app.config.get("SIGNET_MESSAGE_LEASE_SECONDS") or 300))




def describe(error: Exception) -> str:
    """A one-line reason for the outbox viewer."""
    text = str(error).strip()
    if isinstance(error, DeliveryError):
        return text[:ERROR_LIMIT]
    name = type(error).__name__
    return (f"{name}: {text}" if text else name)[:ERROR_LIMIT]
