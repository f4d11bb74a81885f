"""The bulk pages through the test client: the batch-wide place, date, currency and VAT rate,
the first document in its template's language, and the list of batches the user may open."""

import io

from pypdf import PdfReader
from sqlalchemy import select

from portal.auth.models import Role, RoleGrant, User
from portal.auth.permissions import SECTION_ACTIONS
from portal.bulk.models import BulkBatch, BulkMapping, BulkRow
from portal.documents.models import Document
from portal.extensions import db
from tests.bulk.test_pages import _batch_id, _count, _setup, _upload
from tests.documents.support import make_template
from tests.factories import make_department, make_user
from tests.helpers import post_form, sign_in

# No place in row 3: the template prints one, so the batch's place fills it in.
WITHOUT_PLACES = (b"Name;Email;Amount;Place\n"
                  b"Ann Lee;ann@example.com;1500;Porto\n"
                  b"Bob Ray;bob@example.com;900;\n")


def _upload_with(client, company_id, template_id, data: bytes, **values):
    return post_form(client, "/bulk/new", {
        "template_id": str(template_id), "company_id": str(company_id),
        "file": (io.BytesIO(data), "month-end.csv"), **values},
        content_type="multipart/form-data")


def _rows(app, batch_id: int) -> dict[int, tuple[str, dict, dict]]:
    """row number -> (status, values, errors), in sheet order."""
    with app.app_context():
        rows = db.session.scalars(select(BulkRow).where(BulkRow.batch_id == batch_id)
                                  .order_by(BulkRow.row_number)).all()
        return {row.row_number: (row.status, dict(row.values), dict(row.errors)) for row in rows}


def test_batch_values_fill_the_empty_cells_are_checked_again_and_remembered(app, admin_client):
    company_id, template_id = _setup(app)
    new_page = admin_client.get(f"/bulk/new?template={template_id}").text
    assert 'name="currency" type="text" value="RUB"' in new_page  # a Russian template
    assert 'name="place" type="text" value=""' in new_page  # nothing used before

    refused = _upload_with(admin_client, company_id, template_id, WITHOUT_PLACES,
                           place="Lisboa", currency="euro", vat_rate="120")
    assert refused.status_code == 422 and _count(app, BulkBatch) == 0
    assert "three-letter currency code" in refused.text and "from 0 to 100" in refused.text
    assert 'id="currency-errors"' in refused.text and 'id="vat_rate-errors"' in refused.text

    uploaded = _upload_with(admin_client, company_id, template_id, WITHOUT_PLACES,
                            place=" Lisboa ", date="2026-12-31", currency="eur", vat_rate="23")
    assert uploaded.status_code == 303
    batch_id = _batch_id(app)
    rows = _rows(app, batch_id)
    assert rows[2][1]["place"] == "Porto" and rows[3][1]["place"] == "Lisboa"  # a cell wins
    for _status, values, _errors in rows.values():
        assert (values["date"], values["currency"], values["vat_rate"]) == (
            "2026-12-31", "EUR", "23")
    assert [status for status, _values, _errors in rows.values()] == ["valid", "valid"]
    check = admin_client.get(f"/bulk/{batch_id}").text
    assert 'name="place" type="text" value="Lisboa"' in check and 'value="2026-12-31"' in check

    mapping = {"map-name": "0", "map-email": "1", "map-amount": "2", "map-place": "3"}
    emptied = post_form(admin_client, f"/bulk/{batch_id}/mapping", {**mapping, "place": "",
                        "currency": "EUR"}, follow_redirects=True)
    assert "The template prints “Place”: fill it in here or for the whole batch." in emptied.text
    assert [row[0] for row in _rows(app, batch_id).values()] == ["valid", "invalid"]
    bad = post_form(admin_client, f"/bulk/{batch_id}/mapping", {**mapping, "place": "Faro",
                    "date": "31.02.2026"})
    assert bad.status_code == 422 and "31.12.2026 or 2026-12-31" in bad.text
    assert 'id="date-errors"' in bad.text and "bulk-mapping\" open" in bad.text
    assert 'value="Faro"' in bad.text  # what was typed stays on the page
    post_form(admin_client, f"/bulk/{batch_id}/mapping", {**mapping, "place": "Faro",
              "currency": "EUR", "vat_rate": "6"})
    with app.app_context():
        assert db.session.get(BulkBatch, batch_id).batch_values == {
            "place": "Faro", "currency": "EUR", "vat_rate": "6"}
        assert db.session.get(BulkMapping, template_id).batch_values == {
            "place": "Faro", "currency": "EUR", "vat_rate": "6"}  # never the date

    post_form(admin_client, f"/bulk/{batch_id}/confirm", {})
    with app.app_context():
        variables = [document.variables for document in db.session.scalars(
            select(Document).order_by(Document.id))]
    assert [v["place"] for v in variables] == ["Porto", "Faro"]
    assert {(v["currency"], v["vat_rate"]) for v in variables} == {("EUR", "6")}
    again = admin_client.get(f"/bulk/new?template={template_id}").text
    assert 'name="place" type="text" value="Faro"' in again
    assert 'data-place="Faro"' in again


def test_the_currency_starts_by_the_templates_language_on_both_forms(app, admin_client):
    _company_id, _template_id = _setup(app)
    with app.app_context():
        ids = {language: make_template(name=f"Act {language}", language=language).id
               for language in ("en", "pt")}
    for language, currency in (("en", "GBP"), ("pt", "EUR")):
        for url in ("/bulk/new", "/documents/new"):
            page = admin_client.get(f"{url}?template={ids[language]}").text
            assert f'name="currency" type="text" value="{currency}"' in page, (url, language)


def test_the_first_document_speaks_its_templates_language_not_the_pages(app, admin_client,
                                                                          admin):
    company_id, _template_id = _setup(app)
    with app.app_context():
        english = make_template(name="Act", language="en").id
        db.session.get(User, admin["id"]).locale = "ru"
        db.session.commit()
    _upload_with(admin_client, company_id, english, WITHOUT_PLACES, place="Bristol")
    batch_id = _batch_id(app)
    assert "Проверка строк" in admin_client.get(f"/bulk/{batch_id}").text  # a Russian page
    pdf = admin_client.get(f"/bulk/{batch_id}/preview.pdf").data
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "(number given when sent)" in text and "номер" not in text


def _department_role() -> Role:
    grants = [RoleGrant(section="documents", action=action, scope="department")
              for action in SECTION_ACTIONS["documents"]]
    grants += [RoleGrant(section="templates", action="view", scope="all")]
    grants += [RoleGrant(section="contacts", action=action, scope="all")
               for action in SECTION_ACTIONS["contacts"]]
    return Role(name="Sales lead", grants=grants)


def test_the_list_shows_exactly_the_batches_the_user_may_open(app, admin_client):
    company_id, template_id = _setup(app)
    with app.app_context():
        sales, support = make_department("Sales"), make_department("Support")
        role = _department_role()
        for email, name, department in (("lead@example.com", "Lena Lead", sales),
                                        ("mate@example.com", "Mark Mate", sales),
                                        ("other@example.com", "Olga Other", support)):
            make_user(email=email, name=name, department=department).roles = [role]
        db.session.commit()
    started = {}
    for email in ("mate@example.com", "other@example.com", "lead@example.com"):
        client = app.test_client()
        sign_in(client, email)
        assert _upload(client, company_id, template_id, WITHOUT_PLACES).status_code == 303
        started[email] = _batch_id(app)
    lead = app.test_client()
    sign_in(lead, "lead@example.com")

    listing = lead.get("/bulk/").text
    shown = [batch_id for batch_id in sorted(started.values(), reverse=True)
             if f'id="batch-{batch_id}"' in listing]
    assert shown == [started["lead@example.com"], started["mate@example.com"]]  # newest first
    assert "started by Mark Mate" in listing and "started by Lena Lead" not in listing
    for email, batch_id in started.items():  # the list and the batch page agree
        expected = 404 if email == "other@example.com" else 200
        assert lead.get(f"/bulk/{batch_id}").status_code == expected, email
    assert "started by Olga Other" in admin_client.get("/bulk/").text  # an admin sees all
