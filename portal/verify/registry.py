"""The registry part of verification: is this exact file one the portal issued (by sha256)."""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from portal.audit.catalogue import DOCUMENT_FINALIZED
from portal.audit.service import broken_links, events_for
from portal.documents.display import mask_contact
from portal.documents.models import Document
from portal.errors import DomainError
from portal.extensions import db
from portal.sealing.models import EarlierFinal

# Longer than any code we issue (12 characters in dashed groups): anything longer is not one.
MAX_CODE_LENGTH = 40
_READ_CHUNK = 64 * 1024


class UploadTooLarge(DomainError):
    """The uploaded file is bigger than the verify page accepts."""

    status = 413


@dataclass(frozen=True)
class SigningPartyRecord:
    """One party that signed (or was to sign) the registered document."""

    role: str
    name: str
    organization: str
    masked_contact: str
    channel: str
    signed_at: datetime | None


@dataclass(frozen=True)
class RegistryMatch:
    """The registered document whose final PDF has exactly the uploaded bytes."""

    document_id: int
    number: str
    title: str
    company_name: str
    completed_at: datetime | None
    verification_code: str
    sha256: str
    parties: tuple[SigningPartyRecord, ...]
    # The document's audit trail: its latest hash and whether every link still holds.
    chain_head: str = ""
    chain_intact: bool = True
    audit_events: int = 0
    # The head printed in the final PDF's certificate, and how many events came after it
    # (the sealing itself, the mail): the certificate's head stays a link of the chain.
    certificate_chain_head: str = ""
    events_after_certificate: int = 0
    # This file is an earlier final PDF of the document: the portal has since added an archive
    # time stamp, and the current file has this sha256. Both are authentic.
    current_sha256: str = ""
    # When the issuer's retention deleted the portal's copy of the file (None: still stored).
    # The digest stays registered: a kept copy is still authentic.
    files_purged_at: datetime | None = None


def sha256_of(data: bytes) -> str:
    """Hex sha256 of the bytes, as the blob store names files."""
    return hashlib.sha256(data).hexdigest()


def check_registry(pdf_bytes: bytes) -> RegistryMatch | None:
    """The document whose final PDF (now, or before an archive time stamp) is byte-for-byte
    this file, or None."""
    digest = sha256_of(pdf_bytes)
    document = db.session.execute(
        select(Document).where(Document.final_sha256 == digest).order_by(Document.id).limit(1)
    ).scalar_one_or_none()
    if document is None:
        document = db.session.execute(
            select(Document).join(EarlierFinal, EarlierFinal.document_id == Document.id)
            .where(EarlierFinal.sha256 == digest).order_by(Document.id).limit(1)
        ).scalar_one_or_none()
    return match_for(document, digest) if document is not None else None


def match_for(document: Document, digest: str) -> RegistryMatch:
    parties = tuple(
        SigningPartyRecord(
            role=party.role,
            name=party.name,
            organization=party.organization,
            masked_contact=mask_contact(party.contact),
            channel=party.channel,
            signed_at=party.signed_at,
        )
        for party in document.parties
        if party.signs
    )
    return RegistryMatch(
        document_id=document.id,
        number=document.number,
        title=document.title,
        company_name=document.company.display_name if document.company else "",
        completed_at=document.completed_at,
        verification_code=document.verification_code,
        sha256=digest,
        parties=parties,
        current_sha256=document.final_sha256 if document.final_sha256 != digest else "",
        files_purged_at=document.files_purged_at,
        **_audit_trail(document.id),
    )


def _audit_trail(document_id: int) -> dict:
    events = events_for(document_id)
    printed = next((str((event.details or {}).get("certificate_chain_head") or "")
                    for event in reversed(events) if event.type == DOCUMENT_FINALIZED.name), "")
    position = next((index for index, event in enumerate(events) if event.hash == printed),
                    None)
    return {
        "chain_head": events[-1].hash if events else "",
        "chain_intact": not broken_links(document_id, events),
        "audit_events": len(events),
        "certificate_chain_head": printed if position is not None else "",
        "events_after_certificate": len(events) - position - 1 if position is not None else 0,
    }


def _code_candidates(code: str) -> set[str]:
    # Codes are issued as "ABCD-EFGH-JKMN"; people type them in any case, with spaces or
    # without dashes. Exact candidates (not upper() on the column) keep the unique index in use.
    typed = code.strip()
    compact = re.sub(r"[\s-]+", "", typed).upper()
    dashed = "-".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return {typed, typed.upper(), typed.lower(), compact, dashed}


def find_by_code(code: str | None) -> Document | None:
    """The document with this verification code (case and spacing ignored), or None."""
    if not code or not code.strip() or len(code.strip()) > MAX_CODE_LENGTH:
        return None
    return db.session.execute(
        select(Document).where(Document.verification_code.in_(_code_candidates(code))).limit(1)
    ).scalar_one_or_none()


def read_upload_safely(stream, max_bytes: int) -> bytes:
    """Read at most max_bytes (one byte more tells us it is too big); refuse anything larger."""
    chunks, total = [], 0
    # A stream may return fewer bytes than asked, so read until EOF or one byte past the limit.
    while total <= max_bytes:
        chunk = stream.read(min(_READ_CHUNK, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        raise UploadTooLarge(_(
            "The file is larger than %(limit)s. Upload the PDF you received, not a scan "
            "or an archive.", limit=readable_size(max_bytes),
        ))
    return b"".join(chunks)


def readable_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{max(size // 1024, 1)} KB"
