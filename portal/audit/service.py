"""Recording audit events, each chained to the previous event of the same document."""

import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import column, select, table

from portal.audit.catalogue import AUTOMATION_DEPTH, EventType, checked
from portal.audit.chain import event_hash
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.models_base import utcnow

# How many automation rules led to what is being recorded now: 0 for a person or the clock.
# Automation sets it while a rule acts; the trail keeps it (automation_depth).
DEPTH: ContextVar[int] = ContextVar("signet_automation_depth", default=0)
# Who hears of every recorded event (automation, once the app is built): the trail sits
# below them and never imports them.
_listeners: list[Callable[[AuditEvent], None]] = []
# The documents table by name: the chain locks a document's row without the domain's model.
_DOCUMENTS = table("documents", column("id"))


def on_recorded(listener: Callable[[AuditEvent], None]) -> None:
    """Call `listener(event)` for every event recorded from now on (in its transaction)."""
    if listener not in _listeners:
        _listeners.append(listener)


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from; views build it, services pass it on."""

    ip: str = ""
    user_agent: str = ""


def request_meta() -> RequestMeta:
    """The current request's address and browser (empty outside a request)."""
    if not has_request_context():
        return RequestMeta()
    return RequestMeta(
        ip=request.remote_addr or "",
        user_agent=(request.user_agent.string or "")[:400],
    )


def _actor_fields(actor, via_api: bool) -> dict:
    # A user or a signing party says how it is named (`audit_actor`); anything else is us.
    kind, actor_id, label = getattr(actor, "audit_actor", None) or ("system", None, "Signet")
    if kind == "user" and via_api:
        kind = "api"
    return {"actor_type": kind, "actor_id": actor_id, "actor_label": label}


def _chain_head(document_id: int | None) -> str:
    if document_id is None:
        return ""
    # Lock the document row so two events of one document cannot share a predecessor.
    db.session.execute(select(_DOCUMENTS.c.id).where(_DOCUMENTS.c.id == document_id)
                       .with_for_update())
    last = db.session.execute(
        select(AuditEvent.hash)
        .where(AuditEvent.document_id == document_id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return last or ""


def record(event_type: EventType | str, document_id: int | None = None, actor=None,
           meta: RequestMeta | None = None, via_api: bool = False, **details) -> AuditEvent:
    """Add an event to the session (the caller's transaction commits it with the change).

    The type must be declared in audit.catalogue and the details must match its payload, or
    this raises, in production too: the event is written in the change's own transaction, so
    a refusal undoes the change with it (nothing happens unrecorded), and a malformed row can
    never be put right later without breaking the document's hash chain.

    An event caused by an automation rule says so (automation_depth): the trail shows it, and
    a replay after a lost job keeps the loop guard's count.
    """
    declared = checked(event_type, details)
    meta = meta or RequestMeta()
    depth = DEPTH.get()
    if depth and document_id is not None:
        details = {**details, AUTOMATION_DEPTH: depth}
    event = AuditEvent(
        document_id=document_id,
        created_at=utcnow(),
        type=declared.name,
        ip=meta.ip,
        user_agent=meta.user_agent,
        details=details,
        prev_hash=_chain_head(document_id),
        **_actor_fields(actor, via_api),
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    for listener in list(_listeners):
        listener(event)
    return event


def events_for(document_id: int) -> list[AuditEvent]:
    """A document's events, oldest first."""
    return list(db.session.execute(
        select(AuditEvent).where(AuditEvent.document_id == document_id).order_by(AuditEvent.id)
    ).scalars())


def link_holds(event: AuditEvent, previous_hash: str) -> bool:
    """Does the event follow `previous_hash`, and does its hash still match its content?

    A masked event (retention replaced its ip and user agent) cannot be hashed again: it is
    held to its link only. Its own hash stays as it was, so the next event's link still checks
    it, and retention masks a document's events only after seeing its whole chain hold.
    """
    if event.prev_hash != previous_hash:
        return False
    return event.masked_at is not None or event.hash == event_hash(event)


def broken_links(document_id: int, events: list[AuditEvent] | None = None) -> list[int]:
    """Ids of events whose hash or link to the previous event does not hold."""
    broken, previous = [], ""
    for event in events if events is not None else events_for(document_id):
        if not link_holds(event, previous):
            broken.append(event.id)
        previous = event.hash
    return broken


# Details that carry a person's address or number, at any depth (party.invited's contact,
# document.sent's list of parties, a resent invitation's previous contact).
CONTACT_DETAILS = frozenset({"contact", "previous_contact", "email", "phone", "address"})
# A signer is named "Name <contact>" in the trail: the part in angle brackets is masked.
_LABEL_CONTACT = re.compile(r"<[^<>]*>\s*$")


def _masked_details(value, mask: str):
    if isinstance(value, dict):
        return {key: mask if key in CONTACT_DETAILS and item else _masked_details(item, mask)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_details(item, mask) for item in value]
    return value


def _masked_label(event: AuditEvent, mask: str) -> str:
    if event.actor_type != "party":
        return event.actor_label
    return _LABEL_CONTACT.sub(f"<{mask}>", event.actor_label or "")


def mask_events(document_id: int, mask: str, now) -> int:
    """Replace what in a document's events names a person's whereabouts (ip, user agent, a
    signer's contact in the label and the details) with `mask`; how many events changed.

    The caller has checked the chain first (broken_links): masking a broken chain would hide
    the break behind the link-only rule of link_holds."""
    masked = 0
    for event in events_for(document_id):
        if event.masked_at is not None:
            continue
        changed = {"ip": mask if event.ip else "",
                   "user_agent": mask if event.user_agent else "",
                   "actor_label": _masked_label(event, mask),
                   "details": _masked_details(event.details, mask) if event.details
                   else event.details}
        if all(getattr(event, name) == value for name, value in changed.items()):
            continue
        for name, value in changed.items():
            setattr(event, name, value)
        event.masked_at = now
        masked += 1
    return masked
