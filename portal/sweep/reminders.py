"""Automatic reminders to the signers whose turn it is.

When a reminder is due follows from the party's columns only: its invitation (`sent_at`) and
its last reminder (`last_reminded_at`, written by every reminder, the manager's too). The first
comes SIGNET_REMIND_AFTER_DAYS after the invitation, the next SIGNET_REMIND_EVERY_DAYS after the
previous one; none after the deadline, none to a party that signed or declined. Each reminder
is decided again under the document's lock, so two sweeps at once (or a manual reminder
meanwhile) never send it twice. The sending itself is the one every reminder goes through
(portal.notices.reminders), with the link the signer already has.
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from portal import unit
from portal.delivery.services import InvalidRecipient
from portal.documents.models import OPEN_STAGES, SIGNING_ROLES, Document, Party
from portal.documents.services.common import as_utc
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices.reminders import send_reminder
from portal.signing.models import SigningBundleParty
from portal.workflow.lock import lock_document

log = logging.getLogger(__name__)

INVITED_STATUSES = ("sent", "opened")


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
        select(Party.document_id, Party.id, Party.sent_at, Party.last_reminded_at)
        .join(Document, Document.id == Party.document_id)
        .where(Document.stage.in_(OPEN_STAGES), Party.role.in_(SIGNING_ROLES),
               Party.status.in_(INVITED_STATUSES), Party.sent_at <= now - after,
               (Document.deadline_at.is_(None)) | (Document.deadline_at > now),
               # a batch ceremony's signer was invited once for the batch, not per document
               Party.id.notin_(select(SigningBundleParty.party_id)))
        .order_by(Party.document_id, Party.id)
    ).all()
    unit.commit()  # end the read: each reminder decides again under the document's lock
    return [(document_id, party_id)
            for document_id, party_id, sent_at, last_reminded_at in candidates
            if _is_due(next_reminder_at(sent_at, last_reminded_at, after, every), now)]


def _is_due(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


def remind(document_id: int, party_id: int, now: datetime | None = None) -> bool:
    """Send the party its reminder if it is still due (decided under the document's lock)."""
    now = now or utcnow()
    try:
        return _remind(document_id, party_id, now)
    except Exception:
        unit.rollback()
        log.exception("Reminder to party %s of document %s failed", party_id, document_id)
        return False


def _remind(document_id: int, party_id: int, now: datetime) -> bool:
    document = lock_document(document_id)
    party = db.session.get(Party, party_id) if document is not None else None
    if party is None or party.document_id != document_id or not _still_due(document, party, now):
        unit.rollback()
        return False
    try:
        send_reminder(document, party, now=now, automatic=True)
    except InvalidRecipient:
        unit.rollback()
        log.warning("No reminder for party %s: its contact is not usable", party_id)
        return False
    return True


def _still_due(document: Document, party: Party, now: datetime) -> bool:
    db.session.refresh(party)
    deadline = document.deadline_at
    if document.stage not in OPEN_STAGES or not party.signs \
            or party.status not in INVITED_STATUSES or (deadline is not None and deadline <= now):
        return False
    after, every = intervals()
    return _is_due(next_reminder_at(party.sent_at, party.last_reminded_at, after, every), now)
