"""Events for tests: details that satisfy a declaration, and rows of types nobody declares."""

from datetime import datetime

from portal.audit.catalogue import lookup
from portal.audit.models import AuditEvent
from portal.audit.service import _chain_head, event_hash
from portal.extensions import db
from portal.models_base import utcnow

_SAMPLES = {str: "sample", int: 1, bool: True, datetime: "2026-01-02T03:04:05+00:00",
            list: [], dict: {}}


def sample_details(event_type, **given) -> dict:
    """Every required detail of the type with a plain value of its kind, then `given`."""
    declared = lookup(event_type)
    required = {item.name: _SAMPLES[item.kinds[0]] for item in declared.payload
                if not item.optional}
    return required | given


def write_undeclared_event(event_type: str, document_id: int, **details) -> AuditEvent:
    """A row as an older or newer version may have left it: a type this one does not declare.

    `record` refuses such a type, so the row is chained here the way it chains its own.
    """
    event = AuditEvent(document_id=document_id, created_at=utcnow(), type=event_type,
                       ip="", user_agent="", details=details,
                       prev_hash=_chain_head(document_id), actor_type="system",
                       actor_id=None, actor_label="Signet")
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event
