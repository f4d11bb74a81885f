"""What a PDF's structure and signatures say, read with pyHanko (runs in a sandboxed child).

Everything here trusts nothing in the file: the caller runs it in a separate process with a
memory and time limit (portal/sandbox.py). It needs no app and no database: the trust
roots and the portal's CRLs come in as DER bytes and the answer goes back as plain picklable
values. Document time stamps and validation data (DSS) added after our seal are long-term
updates, not changes: the seal still covers the whole file when nothing else follows.
"""

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass, field, replace

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from portal.audit.chain import TRAIL_FILENAME, TrailCheck
from portal.pdfs import active
from portal.sealing.pades import (
    LEVEL_B_B,
    LEVEL_B_LT,
    LEVEL_B_LTA,
    LEVEL_B_T,
    SealCheck,
    SignatureCheck,
    check_signature,
)
from portal.verify.attached_trail import attached_trail
from portal.verify.verdicts import (
    CHANGE_ANNOTATIONS,
    CHANGE_FORM,
    CHANGE_OTHER,
    CHANGE_PAGES,
    PROBLEM_DAMAGED,
    PROBLEM_ENCRYPTED,
    PROBLEM_TOO_COMPLEX,
)

# pyHanko logs every oddity of a hostile file with a traceback; the verdict says enough.
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)

# Signatures validated in full (ours first, then the latest others); the rest are only counted.
MAX_VALIDATED_SIGNATURES = 20
# An intermediate CA chain longer than this is not one we ever issue.
MAX_CHAIN_DEPTH = 5
UNREADABLE = (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
              AssertionError, RecursionError)
# Readers accept the header anywhere in the first kilobyte.
HEADER_WINDOW = 1024
# Catalog entries a reader may touch without it being "other" content (DSS: validation data).
EXPLAINED_CATALOG_KEYS = {"/Pages", "/AcroForm", "/DSS", "/Perms"}
# Objects of the validation data (DSS) walked to tell them from other changes; a DSS larger
# than this is not one a signer writes, and what is past the bound counts as a change.
MAX_DSS_OBJECTS = 20_000
DOC_TIMESTAMP = "/DocTimeStamp"


@dataclass(frozen=True)
class Inspection:
    """The file's signatures and, when one is ours, what changed after it."""

    problem: str = ""  # a PROBLEM_* code when the file could not be read
    seal: SealCheck | None = None
    ours: bool = False  # a signature's certificate chains to our trust roots
    changes: tuple[str, ...] = field(default_factory=tuple)
    added_pages: int = 0
    # Scripts, actions, attachments, media the file carries (portal.pdfs.active findings);
    # None when the file could not be examined for them.
    active_content: tuple[active.Finding, ...] | None = ()
    # The audit trail attached as audit-trail.json, recomputed; None when the file has none
    # (or could not be read at all).
    trail: TrailCheck | None = None


def inspect_pdf(pdf_bytes: bytes, roots_der: tuple[bytes, ...],
                timestamp_roots_der: tuple[bytes, ...] = (),
                crls_der: tuple[bytes, ...] = ()) -> Inspection:
    """Read the PDF: its active content, its signatures (capped), changes after our seal."""
    # First, and cheap: a file whose interactive layer alone passes the walk's bound would
    # keep pyHanko busy until the deadline (200,000 form fields: over 20 s).
    try:
        active_content = active.find_active_content(pdf_bytes)
    except active.TooComplex:
        return Inspection(problem=PROBLEM_TOO_COMPLEX, active_content=None)
    except Exception:  # qpdf cannot read it: pyHanko says what it can
        active_content = None
    inspection = _signatures_of(_from_header(pdf_bytes), roots_der, timestamp_roots_der,
                                crls_der)
    if inspection.problem == PROBLEM_ENCRYPTED:
        return replace(inspection, active_content=None)
    return replace(inspection, active_content=_besides_the_trail(active_content,
                                                                 inspection.trail))


def _besides_the_trail(findings, trail: TrailCheck | None):
    """The active content less the audit trail itself: a final PDF carries its trail as an
    attached JSON file (PDF/A-3), which no reader runs. Only a file that reads as a trail is
    let off; anything else attached, or a trail that is not one, is still reported."""
    if findings is None or trail is None or not trail.readable:
        return findings
    ours = f"'{TRAIL_FILENAME}'"
    return tuple(finding for finding in findings
                 if not (finding.kind == active.EMBEDDED_FILES and finding.detail.endswith(ours)))


def _from_header(pdf_bytes: bytes) -> bytes:
    """The file from its %PDF- header on: readers skip what precedes it (a polyglot's other
    file), and so do the offsets in its cross-reference table."""
    start = pdf_bytes.find(b"%PDF-", 0, HEADER_WINDOW)
    return pdf_bytes[start:] if start > 0 else pdf_bytes


def _signatures_of(pdf_bytes: bytes, roots_der: tuple[bytes, ...],
                   timestamp_roots_der: tuple[bytes, ...],
                   crls_der: tuple[bytes, ...] = ()) -> Inspection:
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        if reader.encrypted:
            return Inspection(problem=PROBLEM_ENCRYPTED)
        embedded, document_stamps, broken = _embedded_signatures(reader)
    except UNREADABLE:
        return Inspection(problem=PROBLEM_DAMAGED)
    sealed = _sealed(reader, embedded, document_stamps, broken, pdf_bytes, roots_der,
                     timestamp_roots_der, crls_der)
    return replace(sealed, trail=_trail_of(reader))


def _trail_of(reader) -> TrailCheck | None:
    try:
        return attached_trail(reader.root)
    except UNREADABLE:  # a broken attachment is a broken trail, not a broken file
        return TrailCheck(readable=False)


def _sealed(reader, embedded, document_stamps, broken: int, pdf_bytes: bytes,
            roots_der: tuple[bytes, ...], timestamp_roots_der: tuple[bytes, ...],
            crls_der: tuple[bytes, ...]) -> Inspection:
    if not embedded and not broken:
        return Inspection(seal=SealCheck(signed=False))
    roots = [x509.load_der_x509_certificate(der) for der in roots_der]
    ours = _ours(embedded, roots)
    chosen = _chosen_for_validation(embedded, ours)
    # The portal's own time stamps chain to its own roots.
    checks = {id(signature): _validated(signature, roots_der,
                                        (*timestamp_roots_der, *roots_der))
              for signature in chosen}
    reported = ours[-1] if ours else (chosen[-1] if chosen else None)
    if not ours:
        return Inspection(seal=_seal_check(chosen, checks, reported,
                                           total=len(embedded) + broken))
    check = checks[id(reported)]
    changes, added_pages, long_term_only = _changes_after(reader, reported, check, pdf_bytes)
    checks[id(reported)] = replace(
        check, covers_whole_file=check.covers_whole_file or long_term_only,
        level=_level(reader, reported, check, document_stamps),
        document_timestamps=sum(stamp.signed_revision > reported.signed_revision
                                for stamp in document_stamps),
        revoked_at=_revoked_at(reported, check, roots, crls_der))
    seal = _seal_check(chosen, checks, reported, total=len(embedded) + broken)
    return Inspection(seal=seal, ours=True, changes=changes, added_pages=added_pages)


# --- signatures ------------------------------------------------------------------------------

def _embedded_signatures(reader) -> tuple[list[EmbeddedPdfSignature], list, int]:
    """The readable signatures and document time stamps in signing order, and how many
    filled fields were not readable."""
    readable, stamps, broken = [], [], 0
    for fq_name, _value, sig_field in enumerate_sig_fields(reader, filled_status=True):
        try:
            signature = EmbeddedPdfSignature(reader, sig_field, fq_name)
            is_stamp = signature.sig_object_type == DOC_TIMESTAMP
        except UNREADABLE:
            broken += 1
            continue
        (stamps if is_stamp else readable).append(signature)

    def order(signature):
        return signature.signed_revision
    return sorted(readable, key=order), sorted(stamps, key=order), broken


def _level(reader, signature, check: SignatureCheck, document_stamps) -> str:
    """The PAdES baseline level the signature reaches in this file."""
    if check.timestamp is None:
        return LEVEL_B_B
    try:
        has_dss = "/DSS" in reader.root
    except UNREADABLE:
        has_dss = False
    if not has_dss:
        return LEVEL_B_T
    later = any(stamp.signed_revision > signature.signed_revision for stamp in document_stamps)
    return LEVEL_B_LTA if later else LEVEL_B_LT


def _revoked_at(signature, check: SignatureCheck, roots, crls_der) -> dt.datetime | None:
    """When one of our CAs revoked the signer's certificate, if that was before the signature's
    trusted time (its time stamp, else the time it claims); None otherwise."""
    try:
        cert = _as_cryptography(signature.signer_cert)
    except UNREADABLE:
        return None
    trusted_time = check.timestamp if check.timestamp and check.timestamp_trusted \
        else check.signed_at
    for der in crls_der:
        try:
            crl = x509.load_der_x509_crl(der)
        except ValueError:
            continue
        issuer = next((root for root in roots if root.subject == crl.issuer
                       and cert.issuer == crl.issuer and _crl_signed_by(crl, root)), None)
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number) \
            if issuer is not None else None
        if entry is None:
            continue
        if trusted_time is None or entry.revocation_date_utc <= trusted_time:
            return entry.revocation_date_utc
    return None


def _crl_signed_by(crl, root: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(root.public_key())
    except (TypeError, ValueError):
        return False


def _ours(embedded, roots) -> list[EmbeddedPdfSignature]:
    # Finding the signer costs ~2 ms per signature; a file repeating one signature thousands
    # of times pays it once.
    verdicts: dict[bytes, bool] = {}
    ours = []
    for signature in embedded:
        content = bytes(signature.pkcs7_content)
        if content not in verdicts:
            verdicts[content] = _chains_to(signature, roots)
        if verdicts[content]:
            ours.append(signature)
    return ours


def _chosen_for_validation(embedded, ours) -> list:
    # Thousands of signatures must not mean thousands of validations: ours matter most.
    chosen = {id(s): s for s in ours[-MAX_VALIDATED_SIGNATURES:]}
    for signature in reversed(embedded):
        if len(chosen) >= MAX_VALIDATED_SIGNATURES:
            break
        chosen.setdefault(id(signature), signature)
    return [signature for signature in embedded if id(signature) in chosen]


def _chains_to(signature: EmbeddedPdfSignature, roots: list[x509.Certificate]) -> bool:
    """The signer certificate is, or was issued by, one of our roots (via embedded intermediates).

    Checked by the certificates' own signatures, not validity dates: a seal made by us years ago
    is still ours after its certificate expired.
    """
    try:
        current = _as_cryptography(signature.signer_cert)
        intermediates = [_as_cryptography(cert) for cert in signature.other_embedded_certs]
    except UNREADABLE:
        return False
    for _depth in range(MAX_CHAIN_DEPTH):
        if current in roots or any(_issued_by(current, root) for root in roots):
            return True
        issuer = next((cert for cert in intermediates
                       if cert != current and _issued_by(current, cert)), None)
        if issuer is None:
            return False
        current = issuer
    return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _as_cryptography(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _validated(signature, roots_der, timestamp_roots_der) -> SignatureCheck:
    roots = [asn1_x509.Certificate.load(der) for der in roots_der]
    timestamp_roots = [asn1_x509.Certificate.load(der) for der in timestamp_roots_der]
    try:
        return check_signature(signature, roots, timestamp_roots)
    # A hostile signature can break pyHanko in any way; it then simply does not hold.
    except Exception:
        return SignatureCheck(intact=False, valid=False, trusted=False, covers_whole_file=False,
                              modification_level="UNKNOWN",
                              signer_subject=_subject_of(signature), signed_at=None,
                              timestamp=None)


def _subject_of(signature) -> str:
    try:
        return signature.signer_cert.subject.human_friendly
    except UNREADABLE:
        return ""


def _seal_check(chosen, checks, reported, total: int) -> SealCheck:
    listed = tuple(checks[id(signature)] for signature in chosen)
    if reported is None:  # every filled signature field was unreadable
        return SealCheck(signed=True, signature_count=total, signatures=listed)
    headline = checks[id(reported)]
    return SealCheck(
        signed=True,
        intact=headline.intact,
        valid=headline.valid,
        trusted=headline.trusted,
        covers_whole_file=headline.covers_whole_file,
        modification_level=headline.modification_level,
        signer_subject=headline.signer_subject,
        signed_at=headline.signed_at,
        timestamp=headline.timestamp,
        timestamp_trusted=headline.timestamp_trusted,
        level=headline.level,
        document_timestamps=headline.document_timestamps,
        revoked_at=headline.revoked_at,
        signature_count=total,
        signatures=listed,
    )


# --- what changed after our seal -------------------------------------------------------------

def _changes_after(reader, signature, check: SignatureCheck,
                   pdf_bytes: bytes) -> tuple[tuple[str, ...], int, bool]:
    """Kinds of change after the signed revision, how many pages were added, and whether only
    long-term updates (validation data, document time stamps) follow the signature."""
    if not check.intact:
        return (CHANGE_OTHER,), 0, False  # the signed bytes themselves were altered
    signed_revision = signature.signed_revision
    changes, added_pages = set(), 0
    updated = signed_revision < reader.xrefs.total_revisions - 1
    if updated:
        try:
            changes, added_pages = _revision_changes(reader, signed_revision)
        except UNREADABLE:
            changes = {CHANGE_OTHER}
    junk = _bytes_after_last_eof(pdf_bytes)
    try:
        long_term_only = updated and not changes and not junk and \
            _only_long_term_updates(reader, signed_revision)
    except UNREADABLE:
        long_term_only = False
    if not changes or junk:
        # Also a whole-file seal whose bytes are not the issued ones (e.g. a re-padded hole).
        changes.add(CHANGE_OTHER)
    return tuple(kind for kind in (CHANGE_PAGES, CHANGE_ANNOTATIONS, CHANGE_FORM, CHANGE_OTHER)
                 if kind in changes), added_pages, long_term_only


def _revision_changes(reader, signed_revision: int) -> tuple[set[str], int]:
    then = reader.get_historical_resolver(signed_revision)
    # Validation data and document time stamps are long-term updates, not changes.
    changed = _refs_changed_after(reader, signed_revision) - _long_term_refs(reader)
    old_pages, new_pages = _page_refs(then.root), _page_refs(reader.root)
    changes = set()
    if [ref.idnum for ref in old_pages] != [ref.idnum for ref in new_pages]:
        changes.add(CHANGE_PAGES)
    annotations, widgets = _annotation_refs(reader, new_pages)
    if changed & annotations:
        changes.add(CHANGE_ANNOTATIONS)
    if changed & (widgets | _field_refs(reader.root)):
        changes.add(CHANGE_FORM)
    if _kept_pages_redrawn(reader, then, old_pages, new_pages, changed) or \
            _catalog_changed(then.root, reader.root):
        changes.add(CHANGE_OTHER)
    return changes, max(len(new_pages) - len(old_pages), 0)


def _long_term_refs(reader) -> set[tuple[int, int]]:
    """The objects of the DSS and of the document time-stamp fields (with their widgets)."""
    refs = set()
    for _name, value, sig_field in enumerate_sig_fields(reader, filled_status=True):
        value = value.get_object() if isinstance(value, generic.IndirectObject) else value
        if isinstance(value, generic.DictionaryObject) and value.get("/Type") == DOC_TIMESTAMP \
                and isinstance(sig_field, generic.IndirectObject) \
                and not _visible(sig_field.get_object()):
            refs.add(_key(sig_field))
            raw = sig_field.get_object().raw_get("/V")
            if isinstance(raw, generic.IndirectObject):
                refs.add(_key(raw))
    dss = reader.root.raw_get("/DSS") if "/DSS" in reader.root else None
    return _reachable_refs(dss, lambda item: [item.raw_get(key) for key in item], refs,
                           limit=MAX_DSS_OBJECTS)


# Written again by every update a signer makes; nothing else in them may change.
DATE_KEYS = {"/ModDate"}
# Also the namespace declarations: a signer writing the packet again may repeat them.
XMP_NOISE = re.compile(rb"<xmp:(?:ModifyDate|MetadataDate)>[^<]*</xmp:(?:ModifyDate|MetadataDate)>"
                       rb"|xmp:(?:ModifyDate|MetadataDate)=\"[^\"]*\""
                       rb"|\s+xmlns:[\w.-]+=\"[^\"]*\"")


def _only_long_term_updates(reader, signed_revision: int) -> bool:
    """Every object written after the signed revision is validation data, a document time
    stamp, or the few objects such an update must touch, with nothing else changed in them:
    the catalog, the form's field list, a page's annotation list, the dates of the metadata."""
    then = reader.get_historical_resolver(signed_revision)
    long_term = _long_term_refs(reader)
    if not _same_info(then, reader):
        return False
    for ref in _refs_changed_after(reader, signed_revision) - long_term:
        before = _object_or_none(then, ref)
        if before is None or isinstance(before, generic.NullObject):
            # New since the seal: shown only if a changed older object points to it, and
            # those are held to the rules here (e.g. validation data the DSS no longer lists).
            continue
        if not _same_but(before, _object_or_none(reader, ref), ref, reader, long_term):
            return False
    return True


def _same_info(then, reader) -> bool:
    """The document information (title, author...) is the same, a new modification date aside,
    even when a later update points the trailer at a new dictionary."""
    before, after = _info_of(then), _info_of(reader)
    if not isinstance(before, generic.DictionaryObject) or \
            not isinstance(after, generic.DictionaryObject):
        return before is None and after is None
    keys = (set(before.keys()) | set(after.keys())) - DATE_KEYS
    return all(_raw_repr(before, key) == _raw_repr(after, key) for key in keys)


def _info_of(resolver):
    trailer = resolver.trailer_view
    info = trailer.raw_get("/Info") if "/Info" in trailer else None
    if isinstance(info, generic.IndirectObject):
        return resolver.get_object(info.reference)
    return info


def _same_but(before, after, ref, reader, long_term) -> bool:
    if isinstance(before, generic.StreamObject) or isinstance(after, generic.StreamObject):
        if not (isinstance(before, generic.StreamObject) and
                isinstance(after, generic.StreamObject)) or after.get("/Type") != "/Metadata":
            return False
        return XMP_NOISE.sub(b"", before.data) == XMP_NOISE.sub(b"", after.data)
    if not isinstance(before, generic.DictionaryObject) or \
            not isinstance(after, generic.DictionaryObject):
        return False
    if _key(reader.root_ref) == ref:
        return not _catalog_changed(before, after) and \
            _raw_repr(before, "/AcroForm") == _raw_repr(after, "/AcroForm")
    grown = {"/Annots", "/Fields"}
    for key in set(before.keys()) | set(after.keys()):
        if key in DATE_KEYS:
            continue
        if key in grown:
            if not _grew_by_long_term_only(before.get(key), after.get(key), long_term):
                return False
        elif _raw_repr(before, key) != _raw_repr(after, key):
            return False
    return True


def _grew_by_long_term_only(before, after, long_term) -> bool:
    old = [_raw_item(item) for item in before] if isinstance(before, generic.ArrayObject) else []
    new = [_raw_item(item) for item in after] if isinstance(after, generic.ArrayObject) else []
    return new[:len(old)] == old and all(
        isinstance(item, tuple) and item in long_term for item in new[len(old):])


def _raw_item(item):
    return _key(item) if isinstance(item, generic.IndirectObject) else repr(item)[:1000]


def _object_or_none(resolver, ref):
    try:
        return resolver.get_object(generic.Reference(*ref))
    except UNREADABLE:
        return None


def _visible(widget) -> bool:
    """A widget with an area on the page: a time stamp that shows is content, not data."""
    rect = widget.get("/Rect") if isinstance(widget, generic.DictionaryObject) else None
    if not isinstance(rect, generic.ArrayObject) or len(rect) != 4:
        return False
    try:
        x1, y1, x2, y2 = (float(number) for number in rect)
    except (TypeError, ValueError):
        return True
    return abs(x2 - x1) > 0 and abs(y2 - y1) > 0


def _refs_changed_after(reader, revision: int) -> set[tuple[int, int]]:
    changed = set()
    for later in range(revision + 1, reader.xrefs.total_revisions):
        changed |= {(ref.idnum, ref.generation)
                    for ref in reader.xrefs.explicit_refs_in_revision(later)}
    return changed


def _key(ref) -> tuple[int, int]:
    return ref.idnum, ref.generation


def _page_refs(root) -> list:
    """References of the leaf pages, in order; cycles and shared nodes are visited once."""
    pages, seen = [], set()
    stack = [root.raw_get("/Pages")]
    while stack:
        item = stack.pop()
        if not isinstance(item, generic.IndirectObject) or _key(item) in seen:
            continue
        seen.add(_key(item))
        node = item.get_object()
        if not isinstance(node, generic.DictionaryObject):
            continue
        kids = node.get("/Kids") if "/Kids" in node else None
        if kids is None:
            pages.append(item.reference)
        elif isinstance(kids, generic.ArrayObject):
            stack.extend(reversed(list(kids)))
    return pages


def _annotation_refs(reader, pages) -> tuple[set, set]:
    """Indirect annotations on the pages: (comments, drawings, stamps ...) and form widgets."""
    annotations, widgets = set(), set()
    for page_ref in pages:
        page = reader.get_object(page_ref)
        listed = page.get("/Annots") if isinstance(page, generic.DictionaryObject) else None
        if not isinstance(listed, generic.ArrayObject):
            continue
        for item in listed:
            if not isinstance(item, generic.IndirectObject):
                continue
            annotation = item.get_object()
            is_widget = isinstance(annotation, generic.DictionaryObject) and \
                annotation.get("/Subtype") == "/Widget"
            (widgets if is_widget else annotations).add(_key(item))
    return annotations, widgets


def _field_refs(root) -> set:
    """Every indirect form field (and its kids), whatever its type."""
    form = root.get("/AcroForm")
    fields = form.raw_get("/Fields") if isinstance(form, generic.DictionaryObject) and \
        "/Fields" in form else None
    return _reachable_refs(
        fields, lambda item: [item.raw_get("/Kids")] if "/Kids" in item else [])


def _reachable_refs(start, children, found: set | None = None,
                    limit: int | None = None) -> set:
    """The indirect objects reached from `start` through arrays and `children(dictionary)`,
    each visited once (so cycles end), at most `limit` items walked; added to `found`."""
    found = set() if found is None else found
    stack, walked = [start], 0
    while stack and (limit is None or walked < limit):
        item = stack.pop()
        walked += 1
        if isinstance(item, generic.IndirectObject):
            if _key(item) in found:
                continue
            found.add(_key(item))
            item = item.get_object()
        if isinstance(item, generic.ArrayObject):
            stack.extend(item)
        elif isinstance(item, generic.DictionaryObject):
            stack.extend(children(item))
    return found


def _kept_pages_redrawn(reader, then, old_pages, new_pages, changed) -> bool:
    """A page that existed when sealed got other content or resources (not just annotations)."""
    kept = {_key(ref) for ref in old_pages} & {_key(ref) for ref in new_pages}
    for page_key in kept & changed:
        before = then.get_object(generic.Reference(*page_key))
        after = reader.get_object(generic.Reference(*page_key))
        for name in ("/Contents", "/Resources", "/MediaBox", "/CropBox", "/Rotate"):
            if _raw_repr(before, name) != _raw_repr(after, name):
                return True
    for page_key in kept:
        page = reader.get_object(generic.Reference(*page_key))
        streams = page.raw_get("/Contents") if isinstance(page, generic.DictionaryObject) and \
            "/Contents" in page else None
        refs = list(streams) if isinstance(streams, generic.ArrayObject) else [streams]
        if any(isinstance(ref, generic.IndirectObject) and _key(ref) in changed for ref in refs):
            return True
    return False


def _catalog_changed(before, after) -> bool:
    keys = (set(before.keys()) | set(after.keys())) - EXPLAINED_CATALOG_KEYS
    return any(_raw_repr(before, key) != _raw_repr(after, key) for key in keys)


def _raw_repr(dictionary, key) -> str:
    if not isinstance(dictionary, generic.DictionaryObject) or key not in dictionary:
        return ""
    value = dictionary.raw_get(key)
    if isinstance(value, generic.IndirectObject):
        return f"ref {value.idnum} {value.generation}"
    return repr(value)[:10_000]


def _bytes_after_last_eof(pdf_bytes: bytes) -> bool:
    end = pdf_bytes.rfind(b"%%EOF")
    return end < 0 or bool(pdf_bytes[end + 5:].strip())
