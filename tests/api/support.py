"""Helpers for API tests: tokens, authorised requests, a draft document with a real PDF."""

from datetime import timedelta
from io import BytesIO
from pathlib import Path

from portal.api import tokens
from portal.auth.models import User
from portal.extensions import db
from portal.models_base import utcnow
from portal.storage import store
from tests.factories import make_company, make_document_row

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def one_page_pdf(text: str = "Act of completed work") -> bytes:
    """A small real PDF: the shared fixture when present, else one drawn with reportlab."""
    fixture = FIXTURES / "plain.pdf"
    if fixture.exists():
        return fixture.read_bytes()
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.drawString(72, 760, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def make_token(app, user_id: int, name: str = "CI") -> str:
    """Create a token for the user; returns its secret."""
    with app.app_context():
        user = db.session.get(User, user_id)
        return tokens.create_token(user, name)[1]


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


class Api:
    """A test client that sends the token with every request."""

    def __init__(self, client, secret: str):
        self.client = client
        self.headers = bearer(secret)

    def get(self, url, **kwargs):
        return self.client.get(url, headers=self.headers, **kwargs)

    def post(self, url, **kwargs):
        return self.client.post(url, headers=self.headers, **kwargs)

    def put(self, url, **kwargs):
        return self.client.put(url, headers=self.headers, **kwargs)


def make_draft(user_id: int, company=None, **fields) -> int:
    """A draft with a stored one-page PDF and a deadline (in an app context); its id."""
    blob = store(one_page_pdf(), "application/pdf")
    db.session.commit()
    company = company or make_company(signer_email="anna@acme.example")
    fields.setdefault("deadline_at", utcnow() + timedelta(days=30))
    document = make_document_row(user_id, company=company, source_sha256=blob.sha256,
                                 source_filename="act.pdf", page_count=1, **fields)
    return document.id


def parties_for_sending() -> list[dict]:
    return [
        {"role": "company", "name": "Anna Director", "organization": "Acme LLC",
         "email": "anna@acme.example", "channel": "email"},
        {"role": "client", "kind": "person", "name": "Maria Silva",
         "email": "maria@example.com", "channel": "email"},
    ]


def signature_fields(parties: list[dict]) -> list[dict]:
    """One signature box per signing party, inside the page."""
    return [
        {"party_id": party["id"], "type": "signature", "page": 1,
         "x": 0.1 + 0.45 * index, "y": 0.8, "w": 0.3, "h": 0.08}
        for index, party in enumerate(p for p in parties if p["role"] != "cc")
    ]


def error_of(response) -> dict:
    """The JSON error body, checking the content type on the way."""
    assert response.is_json, response.get_data(as_text=True)[:300]
    return response.get_json()["error"]
