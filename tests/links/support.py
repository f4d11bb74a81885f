"""A published link and helpers to walk its public pages like a visitor."""

import re
from dataclasses import dataclass

from sqlalchemy import select

from portal.audit.service import RequestMeta
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.links import presign as presigning
from portal.links import services
from portal.links.models import PublicLink
from tests.documents.support import TEMPLATE_HTML, make_template, signet_company, user
from tests.helpers import session_csrf_token, text_of
from tests.signing.support import HEADERS, data_url, last_code, png_bytes

META = RequestMeta(ip="198.51.100.7", user_agent="pytest publisher")
# Both signers sign at their template anchors; nothing else is asked of the visitor.
LAYOUT = [
    {"role": "company", "type": "signature", "anchor": "company.signature"},
    {"role": "client", "type": "signature", "anchor": "client.signature"},
]
VISITOR = {"kind": "person", "name": "Maria Silva", "email": "maria@example.com"}


@dataclass
class Published:
    link_id: int
    token: str

    @property
    def url(self) -> str:
        return f"/p/{self.token}"


def publish(user_id: int, **options) -> Published:
    """A link to a template with both signatures placed (call in an app context)."""
    template = make_template(body_html=TEMPLATE_HTML, default_layout=LAYOUT,
                             name="Standard offer")
    company = signet_company()
    link, raw = services.publish(user(user_id), META, template_id=template.id,
                                 company_id=company.id, **options)
    return Published(link.id, raw)


def post(client, url: str, data: dict | None = None, **kwargs):
    data = dict(data or {})
    data.setdefault("csrf_token", session_csrf_token(client))
    return client.post(url, data=data, headers=HEADERS, **kwargs)


def enter_details(client, published: Published, details: dict | None = None):
    client.get(published.url, headers=HEADERS)
    return post(client, published.url, details or VISITOR)


def confirm_code(client, app, published: Published, address="maria@example.com"):
    with app.app_context():
        code = last_code(address)
    return post(client, f"{published.url}/code", {"code": code})


def client_party(app, document_id: int) -> Party:
    with app.app_context():
        db.session.commit()
        party = db.session.scalar(select(Party).where(Party.document_id == document_id,
                                                      Party.role == "client"))
        db.session.expunge(party)
        return party


def documents(app) -> list[Document]:
    with app.app_context():
        db.session.commit()
        found = list(db.session.scalars(select(Document).order_by(Document.id)))
        for document in found:
            db.session.expunge(document)
        return found


def sign_through(client, signing_url: str) -> None:
    """Agree, fill the signature, sign: the ceremony's own steps (no second code)."""
    page = client.get(signing_url, headers=HEADERS)
    assert page.status_code == 200, text_of(page)[:500]
    response = post(client, f"{signing_url}/consent")
    html = text_of(response)
    assert "Enter the code" not in html, html[:800]
    field_id = int(html.split('id="field-', 1)[1].split('"', 1)[0])
    post(client, f"{signing_url}/fields/{field_id}",
         {"method": "draw", "drawing": data_url(png_bytes())})
    signed = post(client, f"{signing_url}/sign")
    assert signed.status_code in (200, 302), text_of(signed)[:500]


# --- pre-signed links ---------------------------------------------------------------------

SIGNER = "director@signet.example"
# Our signer signs, stamps and dates; the visitor signs.
PRESIGN_LAYOUT = [
    {"role": "company", "type": "signature", "anchor": "company.signature"},
    {"role": "company", "type": "stamp", "page": 1, "x": 0.5, "y": 0.7, "w": 0.18, "h": 0.12},
    {"role": "company", "type": "date", "page": 1, "x": 0.1, "y": 0.8, "w": 0.2, "h": 0.03},
    {"role": "client", "type": "signature", "anchor": "client.signature"},
]


def publish_presigned(app, admin_id: int) -> Published:
    """A pre-signed link, its signer invited (our signer signs, stamps and dates)."""
    with app.app_context():
        template = make_template(body_html=TEMPLATE_HTML, default_layout=PRESIGN_LAYOUT,
                                 name="Studio offer")
        link, not_asked = presigning.publish(
            user(admin_id), META, template_id=template.id, company_id=signet_company().id,
            title="Studio offer", presigned=True)
        assert not_asked is None
        token = services.url_of(link).rsplit("/p/", 1)[1]
        return Published(link.id, token)


def invitation_path(app) -> str:
    """The path in the newest invitation to pre-sign."""
    with app.app_context():
        db.session.commit()
        message = db.session.scalar(
            select(Message).where(Message.recipient == SIGNER, Message.kind == "link_presign")
            .order_by(Message.id.desc()).limit(1))
        return re.search(r"(/p/sign/[\w-]+)", as_sent(message).body_text).group(1)


def link_state(app, link_id: int) -> str:
    with app.app_context():
        db.session.commit()
        return services.state_of(db.session.get(PublicLink, link_id))
