"""Creating drafts through the API: from an uploaded file and from a template."""

import hashlib
import json
from io import BytesIO

import pytest

from portal.audit.service import events_for
from portal.doctemplates.models import DocumentTemplate
from portal.documents.models import Document
from portal.extensions import db
from tests.api.support import FIXTURES, Api, error_of, make_token, one_page_pdf, signature_fields
from tests.factories import make_company, make_counterparty, make_user

TEMPLATE_HTML = """
<h1>{{ document.title }} {{ document.number }}</h1>
<p>{{ company.name }} / {{ counterparty.name }}</p>
<table>{% for item in items %}
<tr><td>{{ item.name }}</td><td>{{ item.amount }}</td></tr>
{% endfor %}</table>
<p>{{ totals.gross }} {{ currency }}</p>
"""


@pytest.fixture
def api(app, employee):
    return Api(app.test_client(), make_token(app, employee["id"]))


@pytest.fixture
def ids(app):
    """A company, a counterparty and a small template."""
    with app.app_context():
        company = make_company(signer_email="anna@acme.example")
        counterparty = make_counterparty()
        template = DocumentTemplate(name="Act", kind="act", language="en",
                                    body_html=TEMPLATE_HTML)
        db.session.add(template)
        db.session.commit()
        return {"company": company.id, "counterparty": counterparty.id, "template": template.id}


def _upload(api, data: bytes, filename="Act 42.pdf", **fields):
    form = {"file": (BytesIO(data), filename), **{k: str(v) for k, v in fields.items()}}
    return api.post("/api/v1/documents/upload", data=form, content_type="multipart/form-data")


def _document_count(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Document.id))).scalar_one()


# --- upload ----------------------------------------------------------------------------------

def test_upload_creates_a_numbered_draft_with_default_parties(app, api, ids):
    response = _upload(api, one_page_pdf(), company_id=ids["company"],
                       counterparty_id=ids["counterparty"])
    assert response.status_code == 201, response.get_json()
    document = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/documents/{document['id']}")
    assert document["stage"] == "draft" and document["title"] == "Act 42"
    assert document["number"].startswith("DOC-") and document["page_count"] == 1
    assert [(p["role"], p["name"]) for p in document["parties"]] == [
        ("company", "Anna Director"), ("client", "Maria Silva")]

    source = api.get(document["links"]["source_pdf"])
    assert source.status_code == 200 and source.data.startswith(b"%PDF")
    assert hashlib.sha256(source.data).hexdigest() == document["source_sha256"]
    with app.app_context():
        created = events_for(document["id"])[0]
        assert (created.type, created.actor_type) == ("document.created", "api")


def test_upload_with_a_new_client_as_json_text(api, ids):
    client = {"kind": "company", "name": "Beta GmbH", "representative_name": "Bernd Beta",
              "email": "bernd@beta.example"}
    response = _upload(api, one_page_pdf(), company_id=ids["company"], title="Contract",
                       client=json.dumps(client))
    assert response.status_code == 201, response.get_json()
    client_party = response.get_json()["parties"][1]
    assert (client_party["name"], client_party["organization"]) == ("Bernd Beta", "Beta GmbH")
    assert client_party["stamp_required"] is True


def _rejection(app, data: bytes) -> str:
    """What the PDF toolkit itself says about this file."""
    from portal.pdfs import ingest_upload
    from portal.pdfs.errors import PdfRejected

    with app.app_context(), app.test_request_context():
        with pytest.raises(PdfRejected) as refused:
            ingest_upload(data, "file.pdf")
        return refused.value.message


def test_a_broken_pdf_is_refused_with_the_reason(app, api, ids):
    broken_file = FIXTURES / "broken-truncated.pdf"
    broken = broken_file.read_bytes() if broken_file.exists() else one_page_pdf()[:600]
    response = _upload(api, broken, company_id=ids["company"],
                       counterparty_id=ids["counterparty"])
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid" and error["message"] == _rejection(app, broken)
    assert _document_count(app) == 0


def test_a_file_that_is_not_a_pdf_is_refused(app, api, ids):
    response = _upload(api, b"just some text, honestly", filename="notes.pdf",
                       company_id=ids["company"], counterparty_id=ids["counterparty"])
    assert response.status_code == 422
    assert "not a PDF" in error_of(response)["message"]
    assert _document_count(app) == 0


def test_upload_names_every_missing_value(api):
    response = api.post("/api/v1/documents/upload", data={"title": "x"},
                        content_type="multipart/form-data")
    assert response.status_code == 422
    assert {"file", "company_id"} <= set(error_of(response)["fields"])


def test_upload_of_an_unknown_company_or_client_is_named(api, ids):
    response = _upload(api, one_page_pdf(), company_id=99999, counterparty_id=99999)
    assert response.status_code == 422
    assert {"company_id", "counterparty_id"} <= set(error_of(response)["fields"])
    response = _upload(api, one_page_pdf(), company_id=ids["company"], client="{oops")
    assert "client" in error_of(response)["fields"]


def test_an_upload_above_the_limit_is_a_413(make_app):
    app = make_app(SIGNET_UPLOAD_MAX_BYTES=4096)
    with app.app_context():
        user_id = make_user(email="emp@example.com").id
        company_id = make_company().id
    api = Api(app.test_client(), make_token(app, user_id))
    response = _upload(api, b"%PDF-1.7\n" + b"0" * 8000, company_id=company_id,
                       client=json.dumps({"name": "Maria", "email": "maria@example.com"}))
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_a_body_above_the_request_limit_is_a_json_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=2048)
    with app.app_context():
        user_id = make_user(email="emp@example.com").id
    api = Api(app.test_client(), make_token(app, user_id))
    response = _upload(api, b"0" * 10_000, company_id=1)
    assert response.status_code == 413 and error_of(response)["code"] == "too_large"


# --- template --------------------------------------------------------------------------------

def _from_template(api, ids, **overrides):
    body = {"company_id": ids["company"], "template_id": ids["template"],
            "counterparty_id": ids["counterparty"], "place": "Lisbon", "date": "2026-03-01",
            "items": [{"name": "Design work", "quantity": 3, "unit": "h", "price": "1500.50"}],
            "vat_rate": 20, "currency": "EUR", "language": "en"} | overrides
    return api.post("/api/v1/documents", json=body)


def test_create_from_a_template_and_send_it(app, api, ids):
    response = _from_template(api, ids)
    assert response.status_code == 201, response.get_json()
    document = response.get_json()
    assert document["number"].startswith("ACT-") and document["title"] == "Act"
    assert document["template_id"] == ids["template"] and document["page_count"] >= 1
    variables = document["variables"]
    assert variables["place"] == "Lisbon" and variables["date"] == "2026-03-01"
    assert variables["items"][0] | {"price": variables["items"][0]["price"]} == {
        "name": "Design work", "quantity": "3", "unit": "h", "price": "1500.50"}
    assert variables["currency"] == "EUR" and variables["vat_rate"] == "20"

    document_id = document["id"]
    response = api.put(f"/api/v1/documents/{document_id}/fields",
                       json=signature_fields(document["parties"]))
    assert response.status_code == 200, response.get_json()
    response = api.post(f"/api/v1/documents/{document_id}/send")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["stage"] == "company_signing"


def test_null_vat_means_without_vat(api, ids):
    response = _from_template(api, ids, vat_rate=None)
    assert response.status_code == 201
    assert response.get_json()["variables"]["vat_rate"] is None


@pytest.mark.parametrize("overrides, field", [
    ({"template_id": 99999}, "template_id"),
    ({"company_id": "abc"}, "company_id"),
    ({"date": "01.03.2026"}, "date"),
    ({"items": "many"}, "items"),
    ({"items": [{"name": "", "quantity": 1, "price": 1}]}, "items[0].name"),
    ({"items": [{"name": "Work", "quantity": 1, "price": "lots"}]}, "items[0].price"),
    ({"vat_rate": 150}, "vat_rate"),
    ({"currency": "EURO"}, "currency"),
    ({"language": "de"}, "language"),
    ({"counterparty_id": None, "client": {"kind": "person", "name": "Nobody"}}, "client.email"),
    ({"client": {"name": "Twice", "email": "t@example.com"}}, "client"),
])
def test_bad_template_values_are_named(app, api, ids, overrides, field):
    response = _from_template(api, ids, **overrides)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"], error_of(response)
    assert _document_count(app) == 0


def test_too_many_items_are_refused_not_cut(api, ids):
    items = [{"name": f"Row {n}", "quantity": 1, "price": 1} for n in range(201)]
    response = _from_template(api, ids, items=items)
    assert response.status_code == 422 and "items" in error_of(response)["fields"]
