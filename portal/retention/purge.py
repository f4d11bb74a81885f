"""The purge run: each due document in its own transaction, claimed by a conditional update
so two runs at once never handle one document twice.

Deleting the PDFs keeps the document row and its final_sha256/source_sha256: they are the
registry /verify answers from, so a kept copy of the final PDF stays authentic. The Blob rows
stay too (the document's digests point at them); only the bytes on disk go, and only when no
other document, field or company still needs the same bytes.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select, update

from portal import unit
from portal.audit.catalogue import DOCUMENT_CONTACTS_MASKED, DOCUMENT_FILES_PURGED
from portal.audit.service import broken_links, mask_events, record
from portal.documents.models import Document, Field, Party
from portal.extensions import db
from portal.models_base import utcnow
from portal.parties.models import Company
from portal.pdfs.preview import forget_previews
from portal.retention.policy import FILES, MASK, Due, due, everything_due
from portal.sealing.models import EarlierFinal
from portal.signing.preview import forget_drafts
from portal.storage import BlobMissing, path_for

log = logging.getLogger(__name__)

# What masked values read as, on the page, in the trail and in the API.
MASK_TEXT = "***"
# What of a party's requisites is personal: the rest (a company's tax id) is the contract's.
MASKED_REQUISITES = ("address", "email", "phone")
# Why a due document was left alone.
SKIP_TAKEN = "taken"  # another run, a legal hold set meanwhile, or done already
SKIP_CHAIN_BROKEN = "chain_broken"  # its trail does not hold: masking would hide the break


@dataclass
class RunReport:
    """What a run did (or, dry, would do)."""

    dry_run: bool
    done: list[Due] = field(default_factory=list)
    skipped: list[tuple[Due, str]] = field(default_factory=list)


def batch_size() -> int:
    return max(int(current_app.config.get("SIGNET_RETENTION_BATCH") or 200), 1)


def run(now: datetime | None = None, *, dry_run: bool = False,
        limit: int | None = None) -> RunReport:
    """Delete due PDFs and mask due contacts, at most `limit` documents of each; dry: list them."""
    now = now or utcnow()
    limit = limit or batch_size()
    report = RunReport(dry_run=dry_run)
    if dry_run:
        report.done = everything_due(now, limit)
        unit.rollback()
        return report
    for action, apply in ((FILES, purge_files), (MASK, mask_contacts)):
        for item in due(now, limit, action):
            skipped = _isolated(apply, item, now)
            if skipped:
                report.skipped.append((item, skipped))
            else:
                report.done.append(item)
    return report


def _isolated(apply, item: Due, now: datetime) -> str:
    """Apply one action to one document in its own transaction; the reason it was skipped."""
    unit.rollback()  # the listing's read ends: each document starts a fresh transaction
    try:
        return apply(item, now)
    except Exception:
        unit.rollback()
        log.exception("Retention could not handle document %s (%s)", item.document_id,
                      item.action)
        return "failed"


def _claim(document_id: int, done_column, now: datetime) -> bool:
    """Mark the document done if no one did and no hold came: the row is ours till commit."""
    claimed = db.session.execute(
        update(Document)
        .where(Document.id == document_id, done_column.is_(None),
               Document.legal_hold.is_(False), Document.final_sha256.is_not(None))
        .values({done_column: now})
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


def _document(document_id: int) -> Document:
    return db.session.execute(
        select(Document).where(Document.id == document_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def purge_files(item: Due, now: datetime) -> str:
    """Delete one document's final and source PDFs; "" when done, else why it was skipped."""
    if not _claim(item.document_id, Document.files_purged_at, now):
        unit.rollback()
        return SKIP_TAKEN
    document = _document(item.document_id)
    kinds = [kind for kind, digest in (("final", document.final_sha256),
                                       ("source", document.source_sha256)) if digest]
    # Earlier final PDFs (before an archive time stamp) are the same content.
    earlier = set(db.session.scalars(select(EarlierFinal.sha256)
                                     .where(EarlierFinal.document_id == document.id)))
    for digest in ({document.final_sha256, document.source_sha256} | earlier) - {None}:
        if not _still_needed(digest, document.id):
            _unlink(digest)
    record(DOCUMENT_FILES_PURGED, document.id, files=kinds, days=item.days,
           completed_at=item.completed_at.isoformat())
    unit.commit()
    return ""


def _still_needed(digest: str, document_id: int) -> bool:
    """Do other stored things point at these bytes (a re-upload of the same PDF, say)?"""
    other_documents = select(Document.id).where(
        Document.id != document_id, Document.files_purged_at.is_(None),
        or_(Document.final_sha256 == digest, Document.source_sha256 == digest))
    fields = select(Field.id).where(Field.value_sha256 == digest)
    stamps = select(Company.id).where(Company.stamp_sha256 == digest)
    return any(db.session.execute(query.limit(1)).first() is not None
               for query in (other_documents, fields, stamps))


def _unlink(digest: str) -> None:
    # Before the commit: should the commit fail, the document is not marked and the next run
    # deletes again (a missing file is fine), so no file outlives its purge unnoticed.
    try:
        path_for(digest).unlink(missing_ok=True)
    except BlobMissing:
        log.warning("Retention skipped a malformed digest %r", digest)
        return
    # Pictures of its pages are its content too.
    forget_previews(digest)
    forget_drafts(digest)


def mask_contacts(item: Due, now: datetime) -> str:
    """Mask one document's signers' contacts and its trail's addresses and browsers."""
    if broken_links(item.document_id):
        log.error("Document %s: its audit chain does not hold; contacts left unmasked",
                  item.document_id)
        return SKIP_CHAIN_BROKEN
    if not _claim(item.document_id, Document.contacts_masked_at, now):
        unit.rollback()
        return SKIP_TAKEN
    document = _document(item.document_id)
    for party in document.parties:
        _mask_party(party)
    events = mask_events(document.id, MASK_TEXT, now)
    record(DOCUMENT_CONTACTS_MASKED, document.id, parties=len(document.parties), events=events,
           days=item.days, completed_at=item.completed_at.isoformat())
    unit.commit()
    return ""


def _masked(value: str) -> str:
    return MASK_TEXT if value else ""


def _mask_party(party: Party) -> None:
    party.email = _masked(party.email)
    party.phone = _masked(party.phone)
    party.ip = _masked(party.ip)
    party.user_agent = _masked(party.user_agent)
    if party.requisites:
        party.requisites = {key: _masked(value) if key in MASKED_REQUISITES and
                            isinstance(value, str) else value
                            for key, value in party.requisites.items()}
