"""Real files for the verify page tests: one per verdict, and an issued document (app context)."""

import io
from datetime import UTC, datetime

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pypdf import PdfWriter
from pypdf.annotations import FreeText

from portal.audit.service import record
from portal.documents.models import Party
from portal.extensions import db
from portal.sealing.certs import ensure_portal_certificates
from portal.sealing.pades import outside_event_loop, seal_pdf, signer_for
from portal.sealing.store import portal_certificates
from portal.storage import store
from tests.audit.support import sample_details
from tests.factories import make_company, make_document_row
from tests.fixtures import fixture_bytes

CODE = "ABCD-EFGH-JKMN"
NUMBER = "ACT-2025-00007"
SIGNED_AT = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
CLIENT_SIGNED_AT = datetime(2025, 3, 5, 16, 45, tzinfo=UTC)
COMPLETED_AT = datetime(2025, 3, 5, 17, 0, tzinfo=UTC)


def sealed_pdf(source: str = "plain.pdf") -> bytes:
    """A PDF sealed by this portal's certificate, as completion produces it."""
    return seal_pdf(fixture_bytes(source), portal_certificates(), reason="t", location="t")


def foreign_pdf(elsewhere) -> bytes:
    """A PDF sealed by another portal's CA (its own instance folder)."""
    certificates = ensure_portal_certificates(elsewhere, "Someone Else")
    return seal_pdf(fixture_bytes("plain.pdf"), certificates, reason="t", location="t")


def signed_many_times(elsewhere, count: int) -> bytes:
    """A PDF signed `count` times over (approval signatures, each in its own revision)."""
    signer = signer_for(ensure_portal_certificates(elsewhere, "Someone Else"))
    pdf = fixture_bytes("plain.pdf")
    for number in range(1, count + 1):
        # pyHanko's sync API refuses a running event loop (a browser test may have left one).
        pdf = outside_event_loop(_signed_once, pdf, signer, f"Signature{number}")
    return pdf


def _signed_once(pdf: bytes, signer, field_name: str) -> bytes:
    output = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name=field_name), signer=signer).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), output=output)
    return output.getvalue()


def with_added_page(pdf: bytes) -> bytes:
    """An incremental update after the seal that appends a blank page."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_blank_page(595, 842)
    return _written(writer)


def with_comment(pdf: bytes) -> bytes:
    """An incremental update after the seal that adds a comment, as a PDF reader would."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_annotation(0, FreeText(text="Paid in full", rect=(50, 50, 250, 100)))
    return _written(writer)


def _written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def issue(user_id: int, final_pdf: bytes, *, title="Act of completed work", code=CODE,
          number=NUMBER) -> int:
    """A completed document whose final PDF is `final_pdf`; our signer and a client signed."""
    company = make_company(legal_name="Acme Limited Liability Company", short_name="Acme")
    document = make_document_row(user_id, company=company, title=title, number=number,
                                 stage="completed", completed_at=COMPLETED_AT)
    document.verification_code = code
    document.parties = [
        Party(order=1, role="company", name="Anna Director", email="anna@acme.example",
              channel="email", status="signed", signed_at=SIGNED_AT),
        Party(order=2, role="client", name="Maria Silva", phone="+351912345678",
              channel="sms", status="signed", signed_at=CLIENT_SIGNED_AT),
    ]
    document.final_sha256 = store(final_pdf, "application/pdf").sha256
    for event in ("document.created", "document.sent", "document.completed"):
        record(event, document.id, **sample_details(event))
    db.session.commit()
    return document.id
