"""Archive time stamps: a stored final PDF whose last time stamp's certificate runs out soon
gets its revocation data and a fresh document time stamp (PAdES B-LTA, renewed).

The new file becomes the document's final PDF; the earlier one stays authentic for /verify
(earlier_finals). Which files are due is kept per final PDF (archive_clocks), read once per
file, so the sweep's step looks at the clock, not at every file.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from portal import unit
from portal.audit.catalogue import DOCUMENT_RESTAMPED
from portal.audit.service import record
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from portal.sealing.models import ArchiveClock, EarlierFinal
from portal.sealing.pades import add_archive_timestamp, last_timestamp_expiry
from portal.sealing.store import long_term, portal_certificates, trust_roots
from portal.storage import BlobMissing, read, store
from portal.workflow.lock import lock_document

log = logging.getLogger(__name__)

# Files read per run to learn their clock, and files re-stamped per run (the sweep's bound).
CLOCK_BATCH = 200
RESTAMP_BATCH = 20


@dataclass(frozen=True)
class DueStamp:
    """A document whose final PDF's last time stamp runs out within the window."""

    document_id: int
    number: str
    expires_at: datetime


def restamp_due(now: datetime | None = None, limit: int = RESTAMP_BATCH) -> list[DueStamp]:
    """Documents to re-stamp now, soonest expiry first (reads the clocks it lacks first)."""
    now = now or utcnow()
    _read_missing_clocks()
    window = now + timedelta(days=current_app.config["SIGNET_RESTAMP_DAYS"])
    rows = db.session.execute(
        select(ArchiveClock.document_id, Document.number, ArchiveClock.timestamp_expires_at)
        .join(Document, Document.id == ArchiveClock.document_id)
        .where(ArchiveClock.timestamp_expires_at.is_not(None),
               ArchiveClock.timestamp_expires_at <= window,
               ArchiveClock.final_sha256 == Document.final_sha256,
               Document.files_purged_at.is_(None))  # retention deleted the file: nothing to do
        .order_by(ArchiveClock.timestamp_expires_at, ArchiveClock.document_id).limit(limit)
    ).all()
    unit.rollback()
    return [DueStamp(document_id=row[0], number=row[1], expires_at=row[2]) for row in rows]


def restamp_documents(now: datetime | None = None) -> int:
    """Re-stamp the due documents (the sweep's step); how many got a new time stamp."""
    done = 0
    for due in restamp_due(now):
        try:
            done += restamp_document(due.document_id) is not None
        except Exception:
            unit.rollback()
            log.exception("Archive time stamp for document %s failed", due.document_id)
    return done


def restamp_document(document_id: int) -> str | None:
    """Add DSS and an archive time stamp to the document's final PDF; the new sha256."""
    document = db.session.get(Document, document_id)
    if document is None or not document.final_sha256:
        return None
    previous = document.final_sha256
    config = current_app.config
    stamped = add_archive_timestamp(
        read(previous), portal_certificates(), roots=trust_roots(), long_term=long_term(),
        timestamp_urls=config["SIGNET_TSA_URLS"])
    document = lock_document(document_id)
    if document is None or document.final_sha256 != previous:
        unit.rollback()  # re-stamped meanwhile by another run
        return None
    blob = store(stamped, "application/pdf")
    db.session.add(EarlierFinal(document_id=document.id, sha256=previous))
    document.final_sha256 = blob.sha256
    _set_clock(document.id, blob.sha256, last_timestamp_expiry(stamped))
    record(DOCUMENT_RESTAMPED, document.id, None, None, previous_sha256=previous,
           sha256=blob.sha256, size=blob.size)
    unit.commit()
    log.info("Document %s re-stamped: %s -> %s", document_id, previous, blob.sha256)
    return blob.sha256


def _read_missing_clocks() -> None:
    rows = db.session.execute(
        select(Document.id, Document.final_sha256)
        .outerjoin(ArchiveClock, ArchiveClock.document_id == Document.id)
        .where(Document.final_sha256.is_not(None),
               or_(ArchiveClock.document_id.is_(None),
                   ArchiveClock.final_sha256 != Document.final_sha256))
        .order_by(Document.id).limit(CLOCK_BATCH)
    ).all()
    for document_id, sha256 in rows:
        try:
            expires = last_timestamp_expiry(read(sha256))
        except BlobMissing:
            log.error("Final PDF of document %s is missing: %s", document_id, sha256)
            expires = None
        except Exception:
            log.exception("Final PDF of document %s could not be read for its time stamps",
                          document_id)
            expires = None
        _set_clock(document_id, sha256, expires)
    unit.commit()


def _set_clock(document_id: int, sha256: str, expires: datetime | None) -> None:
    clock = db.session.get(ArchiveClock, document_id)
    if clock is None:
        clock = ArchiveClock(document_id=document_id)
        db.session.add(clock)
    clock.final_sha256 = sha256
    clock.timestamp_expires_at = expires
    clock.checked_at = utcnow()


def was_final(document_id: int, sha256_prefix: str) -> bool:
    """The document had a final PDF whose sha256 starts so (before an archive time stamp)."""
    if len(sha256_prefix) < 16:
        return False
    return db.session.execute(
        select(EarlierFinal.id).where(EarlierFinal.document_id == document_id,
                                      EarlierFinal.sha256.startswith(sha256_prefix,
                                                                     autoescape=True))
        .limit(1)).first() is not None
