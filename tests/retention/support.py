"""Completed documents with stored PDFs and a chained trail, for the retention tests."""

from datetime import UTC, datetime

from portal.audit.catalogue import DOCUMENT_COMPLETED, PARTY_INVITED, PARTY_OPENED
from portal.audit.service import RequestMeta, record
from portal.documents.models import Party
from portal.extensions import db
from portal.storage import store
from tests.factories import make_company, make_document_row
from tests.fixtures import fixture_bytes

COMPLETED_AT = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
# 40 days after COMPLETED_AT: a 30-day period has passed, a 60-day one has not.
NOW = datetime(2026, 2, 19, 12, 0, tzinfo=UTC)
SIGNER_META = RequestMeta(ip="203.0.113.7", user_agent="Mozilla/5.0 (Signer's phone)")


def retention_company(files_days: int = 30, mask_days: int = 0, name: str = "Keeper LLC"):
    return make_company(legal_name=name, short_name=name, retention_files_days=files_days,
                        retention_mask_days=mask_days)


def completed_document(user_id: int, company, *, number: str, final: bytes | None = None,
                       source: bytes | None = None, completed_at=COMPLETED_AT):
    """A completed, sealed document with two signers and a few events (app context)."""
    source = source or fixture_bytes("plain.pdf") + f"\n% source of {number}\n".encode()
    final = final or source + f"\n% sealed {number}\n".encode()
    document = make_document_row(user_id, company=company, number=number, stage="completed",
                                 completed_at=completed_at, page_count=1)
    document.source_sha256 = store(source, "application/pdf").sha256
    document.final_sha256 = store(final, "application/pdf").sha256
    document.parties = [
        Party(order=1, role="company", name="Anna Director", email="anna@keeper.example",
              channel="email", status="signed", signed_at=completed_at),
        Party(order=2, role="client", kind="company", name="Maria Silva",
              organization="Client Lda", phone="+351912345678", channel="sms",
              status="signed", signed_at=completed_at, ip="203.0.113.7",
              user_agent="Mozilla/5.0 (Signer's phone)",
              requisites={"tax_id": "PT123456789", "address": "Rua Augusta 1, Lisboa"}),
    ]
    db.session.flush()
    client = document.parties[1]
    record(PARTY_INVITED, document.id, party_id=client.id, name=client.name, channel="sms",
           contact=client.phone, role="client", message_id=1)
    record(PARTY_OPENED, document.id, actor=document.parties[1], meta=SIGNER_META)
    record(DOCUMENT_COMPLETED, document.id, previous_stage="client_signing")
    db.session.commit()
    return document
