"""A document's events go to its audit trail through here."""

from portal.audit.catalogue import EventType
from portal.audit.service import record
from portal.documents.models import Document
from portal.models_base import utcnow


def audit(event_type: EventType | str, document: Document | None, actor, meta, **details):
    """Record an event in the current transaction (API callers pass a meta with via_api=True).

    Every recorded change also marks the document as updated (lists sort by it).
    """
    if document is not None:
        document.updated_at = utcnow()
    return record(event_type, document.id if document is not None else None, actor, meta,
                  via_api=bool(getattr(meta, "via_api", False)), **details)
