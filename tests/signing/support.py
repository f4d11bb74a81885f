"""A sent document with a signing link, and helpers to walk its ceremony like a signer."""

import base64
import re
from dataclasses import dataclass, field
from io import BytesIO

from PIL import Image, ImageDraw
from sqlalchemy import select

from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.documents import services
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.tokens import new_token
from tests.documents.support import META, ready_draft, user
from tests.helpers import csrf_token, text_of

CODE = re.compile(r"\b(\d{6})\b")
UA = "Mozilla/5.0 (pytest signer)"
HEADERS = {"User-Agent": UA}
HTMX = {"HX-Request": "true", "User-Agent": UA}

# The company signer's fields besides the signature the draft already has.
EXTRA_FIELDS = [
    {"type": "initials", "page": 1, "x": 0.1, "y": 0.1, "w": 0.1, "h": 0.04},
    {"type": "stamp", "page": 1, "x": 0.4, "y": 0.7, "w": 0.18, "h": 0.12},
    {"type": "text", "page": 1, "x": 0.1, "y": 0.2, "w": 0.3, "h": 0.04, "label": "Position"},
    {"type": "number", "page": 1, "x": 0.1, "y": 0.3, "w": 0.2, "h": 0.04, "label": "Amount"},
    {"type": "checkbox", "page": 1, "x": 0.1, "y": 0.4, "w": 0.03, "h": 0.02,
     "label": "I have read the annex", "required": True},
    {"type": "date", "page": 1, "x": 0.1, "y": 0.9, "w": 0.2, "h": 0.03},
    {"type": "requisites", "page": 1, "x": 0.5, "y": 0.85, "w": 0.4, "h": 0.1},
]


@dataclass
class Signing:
    document_id: int
    party_id: int  # our company signer, whose turn it is
    client_id: int
    token: str
    fields: dict = field(default_factory=dict)  # type -> field id (the signer's own)

    @property
    def url(self) -> str:
        return f"/s/{self.token}"


def set_token(party_id: int, status: str | None = None) -> str:
    """Give a party a fresh link (the raw token exists only in the invitation)."""
    raw, hashed = new_token()
    party = db.session.get(Party, party_id)
    party.token_hash = hashed
    if status:
        party.status = status
    db.session.commit()
    return raw


def sent_document(admin_id: int, extra_fields=True, **kwargs) -> Signing:
    """A document out for signing: our signer's turn, with every kind of field (app context)."""
    document = ready_draft(admin_id, **kwargs)
    company = document.parties_with_role("company")[0]
    client = document.parties_with_role("client")[0]
    if extra_fields:
        current = [services.field_values(f) for f in document.fields]
        added = [{**spec, "party_id": company.id} for spec in EXTRA_FIELDS]
        services.set_fields(user(admin_id), META, document.id, current + added)
    services.send(user(admin_id), META, document.id)
    token = set_token(company.id, status="sent")
    document = db.session.get(Document, document.id)
    own = {f.type: f.id for f in document.fields if f.party_id == company.id}
    return Signing(document.id, company.id, client.id, token, own)


def last_code(address: str) -> str:
    """The code in the newest code message to `address` (email or phone)."""
    db.session.commit()  # a fresh snapshot: the message was written by the request
    message = db.session.execute(
        select(Message).where(Message.recipient == address, Message.kind == "signing_code")
        .order_by(Message.id.desc()).limit(1)
    ).scalar_one()
    # The stored copy carries a marker; the outbox-viewer mode keeps the code sealed beside it.
    return CODE.search(as_sent(message).body_text).group(1)


def post(client, url: str, data: dict | None = None, htmx: bool = True, **kwargs):
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=data, headers=HTMX if htmx else HEADERS, **kwargs)


def agree(client, signing: Signing):
    client.get(signing.url, headers=HEADERS)
    response = post(client, f"{signing.url}/consent")
    assert response.status_code == 200, text_of(response)[:400]
    return response


def confirm(client, app, signing: Signing, address="director@signet.example"):
    agree(client, signing)
    with app.app_context():
        code = last_code(address)
    response = post(client, f"{signing.url}/code", {"code": code})
    assert "Fill in your fields and sign" in text_of(response), text_of(response)[:600]
    return response


def png_bytes(size=(200, 80), mode="RGBA", ink=True) -> bytes:
    """A small PNG: transparent background with a dark stroke."""
    image = Image.new(mode, size, (255, 255, 255, 0) if mode == "RGBA" else "white")
    if ink:
        ImageDraw.Draw(image).line((10, 60, 80, 10, 150, 60), fill=(20, 30, 120, 255), width=5)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
