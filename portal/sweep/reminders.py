"""Automatic reminders to the signers whose turn it is.

When a reminder is due follows from stored times only: the party's invitation (`sent_at`) and
its last "party.reminded" audit event. The first comes SIGNET_REMIND_AFTER_DAYS after the
invitation, the next SIGNET_REMIND_EVERY_DAYS after the previous one; none after the deadline,
none to a party that signed or declined. Each reminder is decided again under the document's
lock, so two sweeps at once (or a manual reminder meanwhile) never send it twice.

The link: the party keeps its token's hash and the token sealed with a key only the server
has (never a message body: those are redacted once delivered). A reminder repeats that link,
so the one the signer already has keeps working. Only when it cannot be opened (SECRET_KEY
changed, or the link predates sealing) is a fresh token issued; the reminder then carries the
only working link, and the audit event says so (new_link).
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.delivery.services import InvalidRecipient, dispatch
from portal.documents.display import mask_contact
from portal.documents.links import current_link_token, issue_link
from portal.documents.models import OPEN_STAGES, SIGNING_ROLES, Document, Party
from portal.documents.services.common import as_utc, audit
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices.texts import queue_reminder
from portal.workflow.lock import lock_document

log = logging.getLogger(__name__)

REMINDED = "party.reminded"
INVITED_STATUSES = ("sent", "opened")
ID_CHUNK = 500


def intervals() -> tuple[timedelta | None, timedelta | None]:
    """(first after, then every) from the settings; None turns that part off."""
    config = current_app.config
    after, every = config["SIGNET_REMIND_AFTER_DAYS"], config["SIGNET_REMIND_EVERY_DAYS"]
    return (timedelta(days=after) if after > 0 else None,
            timedelta(days=every) if every > 0 else None)


def next_reminder_at(sent_at: datetime | None, last_reminded_at: datetime | None,
                     after: timedelta | None, every: timedelta | None) -> datetime | None:
    """When the party is due its next reminder (None: never)."""
    sent_at, last_reminded_at = as_utc(sent_at), as_utc(last_reminded_at)
    if sent_at is None or after is None:
        return None
    if last_reminded_at is None or last_reminded_at < sent_at:  # invited again since
        return sent_at + after
    return last_reminded_at + every if every is not None else None


def send_due_reminders(now: datetime | None = None) -> int:
    """Remind every current signer whose reminder is due; how many reminders were queued."""
    now = now or utcnow()
    after, every = intervals()
    if after is None:
        return 0
    sent = 0
    for document_id, party_id in _due(now, after, every):
        if remind(document_id, party_id, now):
            sent += 1
    return sent


def _due(now: datetime, after: timedelta, every: timedelta | None) -> list[tuple[int, int]]:
    candidates = db.session.execute(
        select(Party.document_id, Party.id, Party.sent_at)
        .join(Document, Document.id == Party.document_id)
        .where(Document.stage.in_(OPEN_STAGES), Party.role.in_(SIGNING_ROLES),
               Party.status.in_(INVITED_STATUSES), Party.sent_at <= now - after,
               (Document.deadline_at.is_(None)) | (Document.deadline_at > now))
        .order_by(Party.document_id, Party.id)
    ).all()
    last = last_reminders({document_id for document_id, _id, _sent in candidates})
    db.session.commit()  # end the read: each reminder decides again under the document's lock
    due = []
    for document_id, party_id, sent_at in candidates:
        moment = next_reminder_at(sent_at, last.get(party_id), after, every)
        if moment is not None and moment <= now:
            due.append((document_id, party_id))
    return due


def last_reminders(document_ids) -> dict[int, datetime]:
    """party id -> when it was last reminded, from the documents' "party.reminded" events."""
    ids = sorted(document_ids)
    last: dict[int, datetime] = {}
    for start in range(0, len(ids), ID_CHUNK):
        rows = db.session.execute(
            select(AuditEvent.details, AuditEvent.created_at)
            .where(AuditEvent.type == REMINDED,
                   AuditEvent.document_id.in_(ids[start:start + ID_CHUNK]))
        ).all()
        for details, created_at in rows:
            details = details if isinstance(details, dict) else {}
            party_id, moment = details.get("party_id"), _moment_of(details, created_at)
            if isinstance(party_id, int) and (party_id not in last or last[party_id] < moment):
                last[party_id] = moment
    return last


def _moment_of(details: dict, created_at: datetime) -> datetime:
    # The sweep's own clock when it recorded one (`at`), else when the event was written.
    try:
        return as_utc(datetime.fromisoformat(details["at"]))
    except (KeyError, TypeError, ValueError):
        return as_utc(created_at)


def remind(document_id: int, party_id: int, now: datetime | None = None) -> bool:
    """Send the party its reminder if it is still due (decided under the document's lock)."""
    now = now or utcnow()
    try:
        return _remind(document_id, party_id, now)
    except Exception:
        db.session.rollback()
        log.exception("Reminder to party %s of document %s failed", party_id, document_id)
        return False


def _remind(document_id: int, party_id: int, now: datetime) -> bool:
    document = lock_document(document_id)
    party = db.session.get(Party, party_id) if document is not None else None
    if party is None or party.document_id != document_id or not _still_due(document, party, now):
        db.session.rollback()
        return False
    raw, new_link = _link_for(party)
    try:
        with force_locale(party.speaks):
            message = queue_reminder(document, party, raw)
    except InvalidRecipient:
        db.session.rollback()
        log.warning("No reminder for party %s: its contact is not usable", party_id)
        return False
    db.session.flush()
    audit(REMINDED, document, None, None, party_id=party.id, role=party.role, name=party.name,
          channel=party.channel, contact=mask_contact(party.contact), message_id=message.id,
          automatic=True, new_link=new_link, at=now.isoformat())
    db.session.commit()
    dispatch([message.id])
    return True


def _still_due(document: Document, party: Party, now: datetime) -> bool:
    db.session.refresh(party)
    deadline = as_utc(document.deadline_at)
    if document.stage not in OPEN_STAGES or not party.signs \
            or party.status not in INVITED_STATUSES or (deadline is not None and deadline <= now):
        return False
    after, every = intervals()
    moment = next_reminder_at(party.sent_at, last_reminders([document.id]).get(party.id),
                              after, every)
    return moment is not None and moment <= now


# --- the link ----------------------------------------------------------------------------------

def _link_for(party: Party) -> tuple[str, bool]:
    """(the raw token of the signing link, whether it is new): the party's current one if the
    server can still open it."""
    raw = current_link_token(party)
    if raw is not None:
        return raw, False
    return issue_link(party), True


# --- the message -------------------------------------------------------------------------------

