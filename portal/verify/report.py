"""One verification: the registry by exact bytes, the signatures in a sandbox, one verdict.

Only the registry can say "authentic": a file is ours exactly when its sha256 is a document's
final PDF. Signatures then tell a changed copy of our document (our seal is in it) from
someone else's signed file and from an unsigned one.
"""

import logging
import re
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from flask import current_app
from flask_babel import gettext as _

from portal.audit.chain import TrailCheck
from portal.models_base import end_read_before_slow_work
from portal.pdfs.findings import as_records
from portal.sandbox import BUSY, SandboxFailure, preload, run_isolated
from portal.sealing.store import revocation_lists, timestamp_roots, trust_roots
from portal.verify.inspection import Inspection, inspect_pdf
from portal.verify.registry import (
    RegistryMatch,
    check_registry,
    find_by_code,
    match_for,
    readable_size,
    sha256_of,
)
from portal.verify.verdicts import (
    AUTHENTIC,
    CODE_DIFFERS,
    CODE_MATCHES,
    CODE_NO_FILE,
    CODE_NONE,
    CODE_NOT_FINAL,
    CODE_OTHER_DOCUMENT,
    CODE_UNKNOWN,
    FOREIGN,
    INVALID,
    MODIFIED,
    PROBLEM_BUSY,
    PROBLEM_DAMAGED,
    PROBLEM_EMPTY,
    PROBLEM_ENCRYPTED,
    PROBLEM_NO_FILE,
    PROBLEM_NOT_PDF,
    PROBLEM_TOO_COMPLEX,
    PROBLEM_TOO_LARGE,
    REVOKED,
    TRAIL_CHANGED,
    TRAIL_HOLDS,
    TRAIL_NONE,
    TRAIL_OTHER,
    TRAIL_UNREADABLE,
    UNSIGNED,
    TrailFinding,
    VerifyReport,
)

log = logging.getLogger(__name__)
# The checks run in the sandbox's children: they start with pyHanko imported and warmed up.
preload("portal.verify.inspection", "portal.verify.warmup")

# Readers accept a PDF header anywhere in the first kilobyte (junk before it is common).
HEADER_WINDOW = 1024
# The trailer that names the encryption dictionary sits at the end (or, linearized, the start).
TRAILER_WINDOW = 4096
ENCRYPT_ENTRY = re.compile(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)")


def build_report(pdf_bytes: bytes | None, *, code: str | None = None) -> VerifyReport:
    """The verdict on an uploaded PDF and the document a typed code names (app context)."""
    checked_at = datetime.now(UTC)
    named, code_status = _named_document(code)
    if pdf_bytes is None:
        return VerifyReport(
            verdict=INVALID, problem=_problem_text(PROBLEM_NO_FILE), problem_code=PROBLEM_NO_FILE,
            needs_file=True, code_document=named,
            code_status=CODE_NO_FILE if named is not None else code_status, checked_at=checked_at)
    digest = sha256_of(pdf_bytes)
    registry = named if named is not None and named.sha256 == digest else check_registry(pdf_bytes)
    end_read_before_slow_work()  # the registry is read: no lock while the sandbox works
    inspection, problem = _inspected(pdf_bytes)
    trail = _trail_finding(inspection, registry or named)
    verdict = _verdict(registry, inspection, problem, trail)
    ours_changed = verdict == MODIFIED and registry is None
    return VerifyReport(
        verdict=verdict,
        sha256=digest,
        size=len(pdf_bytes),
        problem=_problem_text(problem) if problem else "",
        problem_code=problem or "",
        registry=registry,
        code_document=named,
        code_status=_code_status(named, code_status, registry),
        seal=inspection.seal if inspection is not None else None,
        changes=inspection.changes if ours_changed else (),
        added_pages=inspection.added_pages if ours_changed else 0,
        checked_at=checked_at,
        active_content=_active_content(inspection),
        trail=trail,
    )


def _verdict(registry: RegistryMatch | None, inspection: Inspection | None,
             problem: str | None, trail: TrailFinding | None) -> str:
    if inspection is not None and inspection.ours and inspection.seal is not None \
            and inspection.seal.revoked_at is not None:
        return REVOKED  # even a file we stored: its seal's certificate was no longer good
    if registry is not None:
        # Whatever its seal says (files sealed before seals existed have none); but a file
        # whose own audit trail contradicts itself or the register is never "authentic".
        return MODIFIED if trail is not None and trail.failed else AUTHENTIC
    if problem or inspection is None or inspection.seal is None:
        return INVALID
    if not inspection.seal.signed:
        return UNSIGNED
    return MODIFIED if inspection.ours else FOREIGN


# --- the audit trail inside ------------------------------------------------------------------

def _trail_finding(inspection: Inspection | None,
                   match: RegistryMatch | None) -> TrailFinding | None:
    """The attached trail's check, compared with `match` (the register's document the file or
    the typed code names); None when the file could not be examined."""
    if inspection is None or inspection.problem:
        return None
    check = inspection.trail
    if check is None:
        return TrailFinding(status=TRAIL_NONE)
    if not check.readable:
        return TrailFinding(status=TRAIL_UNREADABLE, problem=_(
            "The audit trail inside the file cannot be read: it was changed or damaged."))
    found = {"events": check.events, "head": check.head, "first_broken": check.first_broken,
             "document_id": check.document_id, "verification_code": check.verification_code,
             **_compared(check, match)}
    if not check.holds:
        return TrailFinding(status=TRAIL_CHANGED, **found, problem=_(
            "The audit trail inside the file was changed: its chain of event hashes does not "
            "hold."))
    if False in (found.get("head_matches"), found.get("document_matches")):
        return TrailFinding(status=TRAIL_OTHER, **found, problem=_(
            "The audit trail inside the file is not the one this portal recorded for document "
            "%(number)s: it was changed or replaced.", number=match.number))
    return TrailFinding(status=TRAIL_HOLDS, **found)


def _compared(check: TrailCheck, match: RegistryMatch | None) -> dict:
    if match is None:
        return {}
    # The register keeps the head the certificate printed: comparing with it covers the page.
    printed = match.certificate_chain_head
    return {"compared_with": match.number,
            "head_matches": check.head == printed if printed else None,
            "document_matches": check.document_id == match.document_id
            and check.verification_code == match.verification_code}


# --- the file --------------------------------------------------------------------------------

def _active_content(inspection: Inspection | None) -> list[dict] | None:
    if inspection is None or inspection.active_content is None:
        return None
    return as_records(inspection.active_content)


def _inspected(pdf_bytes: bytes) -> tuple[Inspection | None, str | None]:
    """The sandboxed inspection, or the PROBLEM_* code of why there is none."""
    problem = _obvious_problem(pdf_bytes)
    if problem:
        return None, problem
    config = current_app.config
    try:
        inspection = run_isolated(
            inspect_pdf, pdf_bytes, _der(_trust_roots()), _der(_timestamp_roots()),
            tuple(revocation_lists()),
            timeout=config["SIGNET_VERIFY_TIMEOUT"], memory_mb=config["SIGNET_VERIFY_MEMORY_MB"])
    except SandboxFailure as failure:
        log.warning("Verification of %s (%d bytes) gave no result: %s",
                    sha256_of(pdf_bytes)[:16], len(pdf_bytes), failure)
        return None, PROBLEM_BUSY if failure.reason == BUSY else PROBLEM_TOO_COMPLEX
    return inspection, inspection.problem or None


def _obvious_problem(pdf_bytes: bytes) -> str | None:
    """What the bytes show without parsing them: no sandbox needed."""
    if not pdf_bytes:
        return PROBLEM_EMPTY
    if len(pdf_bytes) > current_app.config["SIGNET_UPLOAD_MAX_BYTES"]:
        return PROBLEM_TOO_LARGE
    if b"%PDF-" not in pdf_bytes[:HEADER_WINDOW]:
        return PROBLEM_NOT_PDF
    ends = pdf_bytes[:TRAILER_WINDOW] + b"\n" + pdf_bytes[-TRAILER_WINDOW:]
    if ENCRYPT_ENTRY.search(ends):
        return PROBLEM_ENCRYPTED
    return None


def _trust_roots():

    return trust_roots()


def _timestamp_roots():

    return timestamp_roots()


def _der(certificates) -> tuple[bytes, ...]:
    return tuple(cert.public_bytes(serialization.Encoding.DER) for cert in certificates)


def _problem_text(problem: str) -> str:
    texts = {
        PROBLEM_NO_FILE: lambda: _("Upload the PDF file to check it."),
        PROBLEM_EMPTY: lambda: _("The file is empty."),
        PROBLEM_TOO_LARGE: lambda: _(
            "The file is larger than %(limit)s. Upload the PDF you received, not a scan "
            "or an archive.",
            limit=readable_size(current_app.config["SIGNET_UPLOAD_MAX_BYTES"])),
        PROBLEM_NOT_PDF: lambda: _(
            "This file is not a PDF. Upload the PDF document itself, not a photo, a scan or "
            "an archive of it."),
        PROBLEM_DAMAGED: lambda: _(
            "The PDF is damaged or incomplete (for example, cut off during a download), so it "
            "cannot be checked. Download the document again and upload that copy."),
        PROBLEM_ENCRYPTED: lambda: _(
            "The PDF is protected with a password or encrypted, so it cannot be checked. "
            "Upload the copy you received, without added protection."),
        PROBLEM_TOO_COMPLEX: lambda: _(
            "The PDF is too complex to be checked within the time and memory allowed, or it "
            "made the checker fail, so its signatures could not be checked."),
        PROBLEM_BUSY: lambda: _("The checker is busy right now. Try again in a minute."),
    }
    return texts[problem]()


# --- the code --------------------------------------------------------------------------------

def _named_document(code: str | None) -> tuple[RegistryMatch | None, str]:
    """The finalized document the code names, and the CODE_* status so far."""
    if code is None or not code.strip():
        return None, CODE_NONE
    document = find_by_code(code)
    if document is None:
        return None, CODE_UNKNOWN
    if not document.final_sha256:
        # Still being signed (or stopped): nothing about it is public yet.
        return None, CODE_NOT_FINAL
    return match_for(document, document.final_sha256), CODE_NO_FILE


def _code_status(named: RegistryMatch | None, status: str,
                 registry: RegistryMatch | None) -> str:
    if named is None:
        return status
    if registry is None:
        return CODE_DIFFERS
    return CODE_MATCHES if registry.document_id == named.document_id else CODE_OTHER_DOCUMENT
