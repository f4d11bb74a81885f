"""Building documents for the documents tests."""

from portal.audit.service import RequestMeta
from portal.auth.models import User
from portal.doctemplates.models import DocumentTemplate
from portal.documents import services
from portal.documents.models import Document
from portal.extensions import db
from tests.factories import make_company, make_counterparty
from tests.fixtures import fixture_bytes

META = RequestMeta(ip="198.51.100.7", user_agent="pytest-browser/1.0")


def signet_company(**fields):
    values = {"legal_name": "Signet Demo LLC", "signer_name": "Anna Petrova",
              "signer_position": "Director", "signer_email": "director@signet.example",
              "signer_phone": "+79161234567", "tax_id": "7707083893"}
    return make_company(**{**values, **fields})


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def upload_draft(user_id: int, *, fixture="plain.pdf", data=None, company=None,
                 counterparty=None, client=None, title="Act of completed work") -> Document:
    """A draft from an uploaded fixture PDF, with the default parties (call in an app context)."""
    company = company or signet_company()
    if counterparty is None and client is None:
        counterparty = make_counterparty(name="Maria Silva", email="maria@example.com")
    return services.create_from_upload(
        user(user_id), META, company_id=company.id,
        data=data if data is not None else fixture_bytes(fixture), filename=fixture,
        title=title, counterparty_id=counterparty.id if counterparty else None, client=client)


def signature_for(party, page=1, x=0.1, y=0.8, **extra) -> dict:
    return {"party_id": party.id, "type": "signature", "page": page, "x": x, "y": y,
            "w": 0.25, "h": 0.06, **extra}


def ready_draft(user_id: int, **kwargs) -> Document:
    """A draft that can be sent: both signers reachable, each with a signature field."""
    document = upload_draft(user_id, **kwargs)
    company, client = document.parties_with_role("company")[0], \
        document.parties_with_role("client")[0]
    fields = [signature_for(company, x=0.1), signature_for(client, x=0.6)]
    if client.stamp_required:
        fields.append({"party_id": client.id, "type": "stamp", "page": 1, "x": 0.6, "y": 0.6,
                       "w": 0.18, "h": 0.12})
    return services.set_fields(user(user_id), META, document.id, fields)


def party_dicts(document: Document) -> list[dict]:
    return [services.party_values(party) for party in document.parties]


def event_types(document_id: int) -> list[str]:
    from portal.audit.service import events_for

    return [event.type for event in events_for(document_id)]


TEMPLATE_HTML = """
<h1>{{ document.title }} № {{ document.number }}</h1>
<p>{{ company.legal_name }} — {{ counterparty.name }}, {{ document.place }}</p>
<table class="grid">{% for item in items %}
<tr><td>{{ item.name }}</td><td>{{ item.quantity }}</td><td>{{ item.amount }}</td></tr>
{% endfor %}</table>
<p>Итого: {{ totals.gross }} {{ currency }}</p>
<table><tr><td>{{ anchor("company.signature") }}</td><td>{{ anchor("client.signature") }}</td>
<td>{{ anchor("client.stamp") }}</td></tr></table>
"""
LAYOUT = [
    {"role": "company", "type": "signature", "anchor": "company.signature"},
    {"role": "client", "type": "signature", "anchor": "client.signature"},
    {"role": "client", "type": "stamp", "anchor": "client.stamp"},
    {"role": "approver", "type": "initials", "page": 1, "x": 0.1, "y": 0.1, "w": 0.1,
     "h": 0.03},
    {"role": "company", "type": "date", "page": 1, "x": 0.1, "y": 0.9, "w": 0.2, "h": 0.03},
]


def make_template(**fields) -> DocumentTemplate:
    values = {"name": "Акт выполненных работ", "kind": "act", "language": "ru",
              "body_html": TEMPLATE_HTML, "default_layout": LAYOUT, "active": True}
    template = DocumentTemplate(**{**values, **fields})
    db.session.add(template)
    db.session.commit()
    return template
