"""The outbox: queue messages with the event that causes them, dispatch after commit, resend."""

import logging
import re
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm.util import identity_key

from portal import retries, unit
from portal.delivery.backends import has_server, new_message_id
from portal.delivery.jobs import QUEUE_FOR_CHANNEL, SENDING, deliver_message, lease
from portal.delivery.models import CHANNELS, STATUSES, Message
from portal.delivery.redaction import (
    TEXT_PARTS,
    Copy,
    as_sent,
    hide,
    holds_secrets,
    masked,
    secret_values,
)
from portal.errors import DomainError
from portal.extensions import db
from portal.jobs import enqueue
from portal.models_base import utcnow

log = logging.getLogger(__name__)

PAGE_SIZE = 50
# A message queued this recently may still have its first job on the way: the sweep and
# `deliver-queued` leave it to that job (a second dispatch would only lose the claim).
QUEUED_GRACE = timedelta(seconds=30)
DUE_BATCH = 500
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Deliberately loose: the address was validated where it was typed; this stops header injection.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# A code is good for minutes and the signer asks for a new one on the page: never sent twice.
NEVER_SENT_AGAIN = frozenset({"signing_code"})


class MessageNotFound(DomainError):
    status = 404


class InvalidRecipient(DomainError):
    status = 400


def queue_email(recipient: str, subject: str, template: str, kind: str, *,
                attachments=None, secrets=(), document_id: int | None = None,
                **context) -> Message:
    """Render email/<template>.txt and .html and add a queued message; the caller commits.

    `attachments`: [(filename, blob sha256, content type)], read from storage when sent.
    `secrets`: values (a link's token, a code) the subject or bodies carry; they are stored
    sealed, apart from the text, and dropped once a real server delivered the message.
    `document_id`: the document a signer's message is about (kept on the row).
    """
    with _rendering_locale():
        recipient = (recipient or "").strip()
        if len(recipient) > 254 or not EMAIL.match(recipient):
            raise InvalidRecipient(
                _("%(address)s is not a valid email address.", address=recipient)
            )
        subject = " ".join((subject or "").split())  # a header holds one line
        values = {
            **context,
            "subject": subject,
            "base_url": current_app.config["SIGNET_BASE_URL"],
            "lang": getattr(get_locale(), "language", "en"),
        }
        body_text = _render(f"email/{template}.txt", values)
        body_html = _render(f"email/{template}.html", values)
    return _add(channel="email", recipient=recipient, subject=subject[:300],
                body_text=body_text, body_html=body_html, kind=kind, secrets=secrets,
                document_id=document_id,
                attachments=[{"filename": filename, "sha256": sha256, "content_type": content_type}
                             for filename, sha256, content_type in attachments or ()])


def queue_sms(recipient_e164: str, text: str, kind: str, *, secrets=(),
              document_id: int | None = None) -> Message:
    """Add a queued text message to an E.164 number; the caller commits.

    `secrets` and `document_id`: as for `queue_email`.
    """
    number = (recipient_e164 or "").strip()
    if not E164.match(number):
        with _rendering_locale():
            raise InvalidRecipient(
                _("%(number)s is not a phone number in international format.", number=number)
            )
    return _add(channel="sms", recipient=number, subject="", body_text=(text or "").strip(),
                body_html="", kind=kind, attachments=[], secrets=secrets,
                document_id=document_id)


def _add(secrets=(), **fields) -> Message:
    fields["kind"] = (fields.get("kind") or "")[:40]
    parts, sealed = hide({name: fields[name] for name in TEXT_PARTS}, secrets)
    fields.update(parts)
    message = Message(status="queued", backend="", provider_id="", attempts=0, last_error="",
                      secrets=sealed, message_id_header=new_message_id(), queued_at=utcnow(),
                      **fields)
    db.session.add(message)
    return message


def _render(name: str, values: dict) -> str:
    # Straight from the Jinja environment: no request-bound context processors (jobs have none).
    return current_app.jinja_env.get_template(name).render(values)


@contextmanager
def _rendering_locale():
    """The caller's locale (a request's, or one forced by the caller), else the default.

    Outside a request the app's locale selector cannot run; jobs still queue mail.
    """
    try:
        get_locale()
    except RuntimeError:  # outside a request nothing chose a language
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            yield
        return
    yield


def dispatch(message_ids) -> None:
    """After commit: hand each still-queued message to the delivery job on its channel's queue.

    With Redis away the message stays queued in its row (nothing fails for the caller): the
    sweep delivers it.
    """
    ids = sorted({int(message_id) for message_id in message_ids})
    if not ids:
        return
    rows = db.session.execute(
        select(Message.id, Message.channel)
        .where(Message.id.in_(ids), Message.status == "queued")
        .order_by(Message.id)
    ).all()
    for message_id, channel in rows:
        enqueue(deliver_message, message_id, queue=QUEUE_FOR_CHANNEL.get(channel, "default"))
        _forget_loaded(message_id)


def deliver_due_messages(now: datetime | None = None,
                         queued_grace: timedelta = QUEUED_GRACE) -> int:
    """Hand over every message due now: retries whose time came, queued ones nobody took
    (Redis lost them, or was down), and claims whose lease ran out (a worker died); the count.

    Due rows are due at once: no age wait beyond `queued_grace` for just-queued rows. With
    Redis the jobs go to the workers; when Redis cannot take them they run here, one by one.
    The claim in each job keeps a row handed over twice from being sent twice.
    """
    now = now or utcnow()
    redis_away = False  # after one refusal the rest run here without waiting on Redis again
    redis_configured = bool(current_app.config.get("REDIS_URL"))
    count, after = 0, 0
    while True:
        ids = retries.due(Message, now, DUE_BATCH, running=SENDING, lease=lease(),
                          queued_grace=queued_grace, queued_since="queued_at", after=after)
        if not ids:
            return count
        channels = dict(db.session.execute(
            select(Message.id, Message.channel).where(Message.id.in_(ids))).all())
        unit.commit()
        for message_id in ids:
            queue = QUEUE_FOR_CHANNEL.get(channels.get(message_id), "default")
            job = None if redis_away else enqueue(deliver_message, message_id, queue=queue)
            if job is None and redis_configured:  # Redis refused it: deliver it here
                redis_away = True
                deliver_message(message_id)
            _forget_loaded(message_id)
        count += len(ids)
        after = ids[-1]


def _forget_loaded(message_id: int) -> None:
    # Delivered in-process, the row changed through the job's own session: reload on next use.
    loaded = db.session.identity_map.get(identity_key(Message, message_id))
    if loaded is not None:
        db.session.expire(loaded)


def resend(message_id: int, actor) -> Message:
    """Queue a failed, retrying or sent message again and dispatch it ("send again").

    A new sending: its tries and hours start over. A sent message gets a new Message-ID (the
    person asked for another copy, which a receiver must not drop as a duplicate); a failed or
    retrying one keeps its own (should an earlier try have arrived after all, the receiver can
    drop this copy).
    """
    message = get_message(message_id)
    if message.status in ("queued", SENDING):
        raise DomainError(_("This message is already waiting to be sent."))
    refusal = resend_refusal(message)
    if refusal:
        unit.rollback()
        raise DomainError(refusal, 409)
    was_sent = message.status == "sent"
    values = {"status": "queued", "sent_at": None, "last_error": "", "attempts": 0,
              "queued_at": utcnow(), "next_attempt_at": None}
    if was_sent or not message.message_id_header:
        values["message_id_header"] = new_message_id()
    # Conditional, as a claim is: a try that took the message meanwhile keeps it.
    changed = db.session.execute(
        update(Message).where(Message.id == message.id, Message.status == message.status)
        .values(**values)).rowcount
    unit.commit()
    if not changed:
        raise DomainError(_("This message is already waiting to be sent."))
    log.info("Message %s queued again by user %s", message.id, getattr(actor, "id", actor))
    dispatch([message.id])
    return message


def resend_refusal(message: Message) -> str | None:
    """Why "send again" cannot send this message (None: it can).

    Sending a copy whose link or code is masked would hand the signer a broken link.
    """
    if message.kind in NEVER_SENT_AGAIN:
        return _("A signing code is never sent again: the signer asks for a new code on the "
                 "signing page.")
    if holds_secrets(message) and secret_values(message) is None and message.kind == "invite":
        return _("The link in this invitation was hidden once it was delivered, so it cannot be "
                 "sent again. Send a new invitation from the user's page.")
    if holds_secrets(message) and secret_values(message) is None:
        return _("The link or code in this message was hidden once it was delivered, so it "
                 "cannot be sent again. To send the signer their link again, use “Remind now” "
                 "on the document's card in the pipeline.")
    return None


def shown(message: Message) -> Copy:
    """The message as the outbox shows it: with its links and codes while no server is
    configured for its channel (the outbox is then where it arrives), masked otherwise."""
    if not has_server(message.channel):
        revealed = as_sent(message)
        if revealed is not None:
            return revealed
    return masked(message)


def channels_without_server() -> list[str]:
    """The channels whose messages stay in the outbox (no SMTP / SMS gateway configured)."""
    return [channel for channel in CHANNELS if not has_server(channel)]


def document_of(message: Message) -> int | None:
    """The document a signer's message was about (kept on the message when it was queued)."""
    return message.document_id


def get_message(message_id: int) -> Message:
    """One message, or a 404 domain error."""
    message = db.session.get(Message, message_id)
    if message is None:
        raise MessageNotFound(_("This message does not exist."))
    return message


def list_messages(status: str | None = None, page: int = 1, per_page: int = PAGE_SIZE):
    """A page of messages, newest first, optionally of one status."""
    query = select(Message).order_by(Message.id.desc())
    if status in STATUSES:
        query = query.where(Message.status == status)
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def status_counts() -> dict[str, int]:
    """How many messages are in each status, and in all."""
    rows = db.session.execute(select(Message.status, func.count()).group_by(Message.status))
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: count for status, count in rows})
    counts["all"] = sum(counts[status] for status in STATUSES)
    return counts
