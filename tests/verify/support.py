"""Sealed, registered and edited PDFs for the verification tests (app context where noted)."""

import io
import json
import re
from datetime import UTC, datetime

import pikepdf
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject

from portal.audit.catalogue import DOCUMENT_FINALIZED
from portal.audit.chain import TRAIL_FILENAME, TRAIL_MIME, trail_payload
from portal.audit.service import events_for
from portal.documents.models import Party
from portal.extensions import db
from portal.parties.zones import document_time_zone
from portal.sealing.certificate import assemble_final
from portal.sealing.certs import ensure_portal_certificates
from portal.sealing.finalize import marks_for, verify_url
from portal.sealing.pades import SealCheck, outside_event_loop, seal_pdf
from portal.sealing.store import portal_certificates
from portal.storage import read, store
from portal.verify.inspection import Inspection, inspect_pdf
from tests.factories import make_company, make_document_row
from tests.fixtures import fixture_bytes
from tests.progress.support import fill_signatures, load, sent_document, sign
from tests.verify.garbage import pdf_from_objects

SIGNED_AT = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
CONTENTS = re.compile(rb"/Contents\s*<([0-9a-fA-F]+)>")


def sealed_by_portal(pdf: bytes | None = None) -> bytes:
    """The PDF sealed with the portal's own certificate, as finalizing does (app context)."""
    return seal_pdf(pdf or fixture_bytes("plain.pdf"), portal_certificates(),
                    reason="Signed with Signet", location="Lisbon")


def sealed_elsewhere(folder, pdf: bytes | None = None) -> bytes:
    """The PDF sealed by another CA, one this portal never used."""
    certificates = ensure_portal_certificates(folder, "Someone Else Ltd")
    return seal_pdf(pdf or fixture_bytes("plain.pdf"), certificates, reason="Signed elsewhere",
                    location="Nowhere")


def register_final(user_id: int, pdf: bytes, *, code: str = "ABCD-EFGH-JKMN",
                   number: str = "ACT-2025-00007") -> int:
    """A completed document whose final PDF is exactly these bytes (app context)."""
    company = make_company(legal_name="Acme Limited Liability Company", short_name="Acme")
    document = make_document_row(user_id, company=company, number=number, stage="completed",
                                 completed_at=SIGNED_AT)
    document.verification_code = code
    document.parties = [
        Party(order=1, role="company", name="Anna Director", email="anna@acme.example",
              channel="email", status="signed", signed_at=SIGNED_AT),
        Party(order=2, role="client", name="Maria Silva", phone="+351912345678",
              channel="sms", status="signed", signed_at=SIGNED_AT),
    ]
    document.final_sha256 = store(pdf, "application/pdf").sha256
    db.session.commit()
    return document.id


def draft_with_code(user_id: int, code: str) -> int:
    """A document still being signed (no final PDF) that already has its code."""
    document = make_document_row(user_id, number="ACT-2025-00008")
    document.verification_code = code
    db.session.commit()
    return document.id


# --- edits a reader (or a forger) could make after the seal ----------------------------------

def updated(pdf: bytes, edit) -> bytes:
    """The PDF with an incremental update made by edit(writer)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    edit(writer)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def with_added_page(pdf: bytes) -> bytes:
    def edit(writer):
        contents = writer.add_object(generic.StreamObject(stream_data=b"0 0 m 100 100 l S"))
        writer.insert_page(PageObject(contents=contents, media_box=[0, 0, 595, 842]))
    return updated(pdf, edit)


def with_comment(pdf: bytes) -> bytes:
    """A sticky note on the first page, as a PDF reader adds it."""
    def edit(writer):
        page_ref, _ = writer.find_page_for_modification(0)
        page = page_ref.get_object()
        note = writer.add_object(generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (50, 700, 70, 720)]),
            generic.NameObject("/Contents"): generic.TextStringObject("Agreed by phone"),
        }))
        existing = page.get("/Annots", generic.ArrayObject())
        page[generic.NameObject("/Annots")] = generic.ArrayObject([*existing, note])
        writer.update_container(page)
    return updated(pdf, edit)


def with_field_filled(pdf: bytes, value: str = "Someone else") -> bytes:
    """The first text field of the form gets a value."""
    def edit(writer):
        field = writer.root["/AcroForm"]["/Fields"][0]
        field[generic.NameObject("/V")] = generic.TextStringObject(value)
        writer.update_container(field)
    return updated(pdf, edit)


def with_new_title(pdf: bytes) -> bytes:
    """Only the document information (metadata) changes."""
    def edit(writer):
        info = writer.set_info(generic.DictionaryObject()).get_object()
        info[generic.NameObject("/Title")] = generic.TextStringObject("Quietly edited")
    return updated(pdf, edit)


def form_pdf() -> bytes:
    """One page with one empty text field ("Customer")."""
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
        b"<< /FT /Tx /T (Customer) /Type /Annot /Subtype /Widget /Rect [100 700 300 720] "
        b"/P 3 0 R /F 4 >>",
    ])


def signature_hole(pdf: bytes) -> tuple[int, int]:
    """Start and end offsets of the hex digits of the (last) signature's /Contents."""
    match = list(CONTENTS.finditer(pdf))[-1]
    return match.start(1), match.end(1)


# --- the verdict on signatures, as /verify reaches it ----------------------------------------

def inspected(pdf: bytes, trust_roots, timestamp_roots=()) -> Inspection:
    """The inspection /verify runs on an upload, against these roots (no app needed)."""
    # /verify runs it in a sandboxed child; here a browser test may have left this process an
    # event loop, in which pyHanko's sync API refuses to run.
    return outside_event_loop(inspect_pdf, pdf, _der(trust_roots), _der(timestamp_roots))


def seal_verdict(pdf: bytes, trust_roots, timestamp_roots=()) -> SealCheck:
    """The signatures' verdict of that inspection (the file must be readable)."""
    inspection = inspected(pdf, trust_roots, timestamp_roots)
    assert not inspection.problem, inspection.problem
    return inspection.seal


def _der(certificates) -> tuple[bytes, ...]:
    return tuple(cert.public_bytes(serialization.Encoding.DER) for cert in certificates)


# --- the audit trail attached to the final PDF -----------------------------------------------

def with_attached(pdf: bytes, payload: bytes, name: str = TRAIL_FILENAME, *,
                  associated: bool = True) -> bytes:
    """The PDF with `payload` attached as the file `name` (in /Names /EmbeddedFiles, and in the
    catalog's /AF when `associated`), as the final PDF carries its audit trail."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.attachments[name] = pikepdf.AttachedFileSpec(
            document, payload, mime_type=TRAIL_MIME, filename=name)
        if associated:
            document.Root.AF = pikepdf.Array([document.attachments[name].obj])
        output = io.BytesIO()
        document.save(output)
        return output.getvalue()


def with_trail_replaced(pdf: bytes, payload: bytes) -> bytes:
    """The file rewritten with other bytes in its attached audit-trail.json (the seal breaks)."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.attachments[TRAIL_FILENAME].obj.EF.F.write(payload)
        output = io.BytesIO()
        document.save(output)
        return output.getvalue()


def attached_payload(pdf: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return document.attachments[TRAIL_FILENAME].get_file().read_bytes()


def with_event_changed(payload: bytes, position: int = 1) -> bytes:
    """The trail with one event's details edited (its hash left as it was)."""
    trail = json.loads(payload)
    trail["events"][position]["details"]["forged"] = "yes"
    return json.dumps(trail).encode()


def printed_events(document_id: int) -> list:
    """The events up to the head the final PDF's certificate printed (app context)."""
    events = events_for(document_id)
    finalized = [event for event in events if event.type == DOCUMENT_FINALIZED.name][-1]
    head = finalized.details["certificate_chain_head"]
    return events[:[event.hash for event in events].index(head) + 1]


def final_with_trail(document_id: int, edit_trail=None) -> bytes:
    """The completed document's final PDF made anew with its audit trail attached before the
    seal, as finalizing will make it (`edit_trail` changes the JSON first). App context."""
    document = load(document_id)
    events = printed_events(document_id)
    assembled = assemble_final(
        read(document.source_sha256), document, marks=marks_for(document),
        original_sha256=document.source_sha256, events=events, chain_head=events[-1].hash,
        verify_url=verify_url(document.verification_code))
    payload = trail_payload(
        {"id": document.id, "number": document.number, "title": document.title,
         "verification_code": document.verification_code, "language": document.language,
         "source_sha256": document.source_sha256},
        events, document_time_zone(document))
    if edit_trail is not None:
        payload = edit_trail(payload)
    return seal_pdf(with_attached(assembled, payload), portal_certificates(),
                    reason="Signed with Signet", location="Lisbon")


def issue_as_final(document_id: int, pdf: bytes) -> None:
    """Make `pdf` the document's registered final PDF (app context)."""
    document = load(document_id)
    document.final_sha256 = store(pdf, "application/pdf").sha256
    db.session.commit()


def completed_document(user_id: int) -> int:
    """A document sent, signed by everyone and finalized for real (app context)."""
    document_id = sent_document(user_id)
    fill_signatures(document_id)
    sign(document_id, "company")
    sign(document_id, "client")
    assert load(document_id).final_sha256
    return document_id
