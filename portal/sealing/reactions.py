"""Sealing hears of a completed document and seals it once the completion is committed."""

from portal import bus, unit
from portal.audit.catalogue import DOCUMENT_COMPLETED
from portal.jobs import enqueue
from portal.sealing.finalize import finalize_document


def subscribe() -> None:
    bus.subscribe(DOCUMENT_COMPLETED, seal_when_committed)


def seal_when_committed(happened: bus.Happened) -> None:
    document_id = happened.document_id
    unit.after_commit(lambda: enqueue(finalize_document, document_id, queue="sealing"))
