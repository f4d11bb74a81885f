"""A bulk batch around documents already out for signing, and its batch ceremony's link."""

import re

from sqlalchemy import select

from portal.bulk.models import BulkBatch, BulkRow
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.signing import bundles

LINK = re.compile(r"/b/([A-Za-z0-9_-]{20,})")


def batch_ceremony_url(admin_id: int, template_id: int, party_ids: list[int],
                       language: str) -> str:
    """Put our signer's parties, whose turn it is, in a finished batch of that template and
    invite its bundle as the batch's end does (app context); the link's path."""
    document = db.session.get(Party, party_ids[0]).document
    batch = BulkBatch(template_id=template_id, company_id=document.company_id,
                      created_by_id=admin_id, source_sha256="0" * 64, status="done")
    db.session.add(batch)
    db.session.flush()
    for number, party_id in enumerate(party_ids, start=2):
        party = db.session.get(Party, party_id)
        party.language = language
        db.session.add(BulkRow(batch_id=batch.id, row_number=number, status="sent",
                               document_id=party.document_id))
    db.session.flush()
    for party_id in party_ids:
        party = db.session.get(Party, party_id)
        assert bundles.take_invitation(db.session.get(Document, party.document_id), party)
    db.session.commit()
    message = db.session.scalars(select(Message).where(
        Message.kind == "batch-signing-invitation").order_by(Message.id.desc())).first()
    return "/b/" + LINK.search(as_sent(message).body_text).group(1)
