"""Building sent documents and signing them by hand, for the progress tests (app context)."""

import re

from portal import unit
from portal.delivery.models import Message
from portal.documents import services
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.models_base import utcnow
from portal.storage import store
from portal.workflow import order as workflow
from portal.workflow.lock import lock_document
from portal.workflow.order import advance
from tests.documents.support import META, party_dicts, ready_draft, user
from tests.fixtures import fixture_bytes

LINK = re.compile(r"http://localhost/s/([A-Za-z0-9_\-]+)")
CLIENT_PHONE = "+351912345678"
COPY = "copy@example.com"


def sent_document(user_id: int, *, client_sms=False, approver=False, same_order=False,
                  cc=False, extra_fields=()) -> int:
    """Send a ready draft (client by SMS, with an approver, ...); return its id."""
    document = ready_draft(user_id)
    actor = user(user_id)
    if client_sms or approver or cc:
        parties = party_dicts(document)
        for values in parties:
            if values["role"] == "client" and client_sms:
                values.update(channel="sms", phone=CLIENT_PHONE)
        if approver:
            parties.append({"role": "approver", "name": "Boris Approver",
                            "email": "boris@example.com"})
        if cc:
            parties.append({"role": "cc", "name": "Carl Copy", "email": COPY})
        document = services.set_parties(actor, META, document.id, parties)
    if extra_fields:
        client = party(document, "client")
        fields = [services.field_values(field) for field in document.fields]
        fields += [{**extra, "party_id": client.id} for extra in extra_fields]
        services.set_fields(actor, META, document.id,
                            [{k: v for k, v in f.items() if k != "id"} for f in fields])
    if same_order:  # the approver signs in parallel with our signer
        db.session.execute(db.update(Party).where(Party.document_id == document.id,
                                                  Party.role == "approver").values(order=2))
        db.session.commit()
    services.send(actor, META, document.id)
    return document.id


def load(document_id: int) -> Document:
    db.session.commit()  # a new snapshot: jobs wrote through other connections
    return db.session.get(Document, document_id)


def party(document: Document, role: str) -> Party:
    return document.parties_with_role(role)[0]


def sign(document_id: int, role: str, then_advance: bool = True) -> None:
    """What the signing page does: the party signed (committed), then advance."""
    signer = party(load(document_id), role)
    signer.status = "signed"
    signer.signed_at = utcnow()
    db.session.commit()
    if then_advance:
        advance(document_id)


def decline(document_id: int, role: str, reason: str = "No") -> int:
    """What the signing page does on decline, through the workflow; the party's id."""
    return decline_as(document_id, party(load(document_id), role).id, reason)


def decline_as(document_id: int, party_id: int, reason: str = "No") -> int:
    """The party (of any document) declines `document_id`: marked, then the workflow decides."""
    document = lock_document(document_id)
    decliner = db.session.get(Party, party_id)
    if decliner.document_id == document_id and decliner.status not in ("signed", "declined"):
        decliner.status, decliner.declined_at = "declined", utcnow()
        decliner.decline_reason = reason
    workflow.decline(document, decliner)
    unit.commit()
    return party_id


def fill_signatures(document_id: int) -> None:
    """Every signature field gets the transparent PNG, as if drawn on the signing page."""
    image = store(fixture_bytes("transparent.png"), "image/png")
    for field in load(document_id).fields:
        if field.type in ("signature", "initials", "stamp"):
            field.value_sha256 = image.sha256
            field.filled_at = utcnow()
    db.session.commit()


def messages_to(recipient: str) -> list[Message]:
    db.session.commit()
    return list(db.session.scalars(db.select(Message).where(Message.recipient == recipient)
                                   .order_by(Message.id)))
