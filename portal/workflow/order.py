"""Sending, the strict signing order, completion, and the three endings of a document.

Each function moves a locked document through `machine.change_stage` and publishes what
happened (`portal.bus`): the signing process invites the parties whose turn came ("turn"),
notices tell people, sealing seals a completed document. The callers own the transaction
(`portal.unit`); the public entry points that take ids lock, decide on fresh data, commit,
and do the work once when two run at once.
"""

import logging
from datetime import datetime

from sqlalchemy import select

from portal import bus, unit
from portal.audit.catalogue import (
    DOCUMENT_COMPLETED,
    DOCUMENT_DECLINED,
    DOCUMENT_EXPIRED,
    DOCUMENT_SENT,
    DOCUMENT_STAGE_CHANGED,
    DOCUMENT_STOPPED,
)
from portal.documents.models import OPEN_STAGES, Document, Party
from portal.documents.recipients import fresh_parties
from portal.documents.trail import audit
from portal.extensions import db
from portal.models_base import utcnow
from portal.workflow.lock import lock_current, lock_document
from portal.workflow.machine import (
    APPROVAL,
    COMPANY_SIGNING,
    COMPLETED,
    DECLINED,
    EXPIRED,
    STAGE_FOR_ROLE,
    STAGE_RANK,
    STOPPED,
    change_stage,
)

log = logging.getLogger(__name__)

TURN = "turn"  # a signal, not an audit event: these parties' turn to be invited came


def emit(event_type: str, document: Document, actor, meta, **details):
    """Record the event in the document's audit trail and let the reactions hear it."""
    event = audit(event_type, document, actor, meta, **details)
    bus.publish(event_type, document.id, event_id=event.id, actor=actor)
    return event


# --- sending and the order ------------------------------------------------------------------

def send(document: Document, actor, meta) -> None:
    """Start the signing of a locked, checked draft: approval first when there is an approver."""
    stage = APPROVAL if document.parties_with_role("approver") else COMPANY_SIGNING
    change_stage(document, stage, utcnow())
    emit(DOCUMENT_SENT, document, actor, meta, stage=stage,
         source_sha256=document.source_sha256, page_count=document.page_count,
         parties=[{"role": p.role, "name": p.name, "channel": p.channel, "contact": p.contact}
                  for p in document.parties],
         fields=len(document.fields))
    take_turn(document)


def advance(document_id: int) -> str | None:
    """Invite the next group or complete, on fresh data and in a transaction of its own.

    For a caller without the lock (a repair, a test); the signing of a party advances in its
    own transaction through `take_turn`. Idempotent: a second call finds nothing to do.
    """
    document = lock_document(document_id)
    if document is None or document.stage not in OPEN_STAGES:
        unit.rollback()
        return None
    stage = take_turn(document)
    unit.commit()
    return stage


def take_turn(document: Document) -> str | None:
    """In the caller's transaction, with the document locked: whose turn is it now?

    Nobody's after a decline; completion when everyone signed; else the lowest order group
    still to sign, whose parties not yet invited are handed to the invitations.
    """
    document = lock_current(document.id)
    signers = [party for party in fresh_parties(document) if party.signs]
    if any(party.status == "declined" for party in signers):
        return None  # the decline ended it; nobody else is invited
    pending = [party for party in signers if party.status != "signed"]
    if not pending:
        complete(document)
        return COMPLETED
    turn = min(party.order for party in pending)
    group = [party for party in pending if party.order == turn]
    _follow_turn(document, min((STAGE_FOR_ROLE[p.role] for p in group), key=STAGE_RANK.get))
    due = [party.id for party in group if party.status == "waiting" and party.token_hash is None]
    if due:
        bus.publish(TURN, document.id, party_ids=due)
    return document.stage


def _follow_turn(document: Document, stage: str) -> None:
    """The stage names the role whose turn it is, whichever way the order goes (a client who
    signs first hands over to our company: client_signing, then company_signing)."""
    if document.stage == stage:
        return
    previous = change_stage(document, stage, utcnow())
    emit(DOCUMENT_STAGE_CHANGED, document, None, None, previous_stage=previous, stage=stage)


def complete(document: Document) -> None:
    previous = change_stage(document, COMPLETED, utcnow())
    emit(DOCUMENT_COMPLETED, document, None, None, previous_stage=previous)


# --- endings --------------------------------------------------------------------------------

def decline(document: Document, party: Party) -> bool:
    """The party declined (its row says so already): the document ends as declined.

    False when the document is no longer open (a stop or the deadline came first) or the
    party is not one of its own."""
    if document.stage not in OPEN_STAGES or party.document_id != document.id:
        return False
    change_stage(document, DECLINED, utcnow())
    emit(DOCUMENT_DECLINED, document, party, None, party_id=party.id,
         reason=party.decline_reason or "")
    return True


def stop(document: Document, actor, meta, reason: str) -> str:
    """Stop a locked document that is out for signing; its previous stage."""
    previous = change_stage(document, STOPPED, utcnow())
    document.stop_reason = reason
    emit(DOCUMENT_STOPPED, document, actor, meta, reason=reason, previous_stage=previous)
    return previous


def expire_overdue(now: datetime | None = None) -> int:
    """Move documents past their deadline to "expired", each in its own transaction; the count."""
    now = now or utcnow()
    overdue = db.session.scalars(
        select(Document.id)
        .where(Document.stage.in_(OPEN_STAGES), Document.deadline_at < now)
        .order_by(Document.id)
    ).all()
    return sum(1 for document_id in overdue if _expire_one(document_id, now))


def _expire_one(document_id: int, now: datetime) -> bool:
    try:
        with unit.unit_of_work():
            return _expire(document_id, now)
    except Exception:  # one document's trouble must not stop the others' expiry
        log.exception("Expiring document %s failed", document_id)
        return False


def _expire(document_id: int, now: datetime) -> bool:
    document = lock_document(document_id)
    deadline = document.deadline_at if document is not None else None
    if document is None or document.stage not in OPEN_STAGES or deadline is None \
            or deadline >= now:
        return False
    previous = change_stage(document, EXPIRED, now)
    emit(DOCUMENT_EXPIRED, document, None, None, previous_stage=previous,
         deadline=deadline.isoformat())
    return True
