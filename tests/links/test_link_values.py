"""A link's document values and company, and the requisites a visitor gives: publishing the
shipped Portuguese contract from its page and walking it as a company visitor."""

import re
from io import BytesIO

from pypdf import PdfReader
from sqlalchemy import select

from portal.doctemplates.builtin import install_builtin_templates
from portal.doctemplates.models import DocumentTemplate
from portal.extensions import db
from portal.links.models import PublicLink, PublicLinkSubmission
from portal.parties.models import Counterparty
from portal.storage.store import read
from tests.documents.support import TEMPLATE_HTML, make_template, signet_company
from tests.factories import make_company
from tests.helpers import post_form, text_of
from tests.links.support import LAYOUT, Published, client_party, confirm_code, documents, post

COMPANY_VISITOR = {"kind": "company", "name": "Estúdio Lusitano, Lda.",
                   "representative_name": "Rui Costa", "representative_position": "Gerente",
                   "email": "rui@estudio.example", "tax_id": "pt 509 442 013",
                   "address": "Rua Augusta 10, 1100-053 Lisboa"}


def _selected(page: str, name: str) -> str:
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    [picked] = [attrs for attrs in re.findall(r"<option([^>]*)>", select_html)
                if "selected" in attrs]
    return re.search(r'value="(\d+)"', picked).group(1)


def _portuguese_contract(app) -> tuple[int, int, int]:
    """(the pt contract's id, the UK company's id, the Portuguese company's id); the UK one
    is the first company, as "Signet Demo UK" is in the demo."""
    with app.app_context():
        uk = make_company(legal_name="Signet Demo UK Ltd", short_name="Signet Demo UK",
                          language="en", signer_email="uk@signet.example")
        pt = make_company(legal_name="Signet Demo Portugal, Lda.", language="pt",
                          signer_email="pt@signet.example", tax_id="PT509442013")
        install_builtin_templates()
        template = db.session.scalar(select(DocumentTemplate).where(
            DocumentTemplate.builtin_key == "contract-pt"))
        return template.id, uk.id, pt.id


def _publish_form(company_id: int, **values) -> dict:
    return {"title": "Design de identidade", "company_id": str(company_id), "channel": "email",
            "per_address_limit": "3", "place": "Lisboa", "currency": "EUR", "vat_rate": "23",
            "items-0-name": "Design de logótipo", "items-0-quantity": "2",
            "items-0-unit": "un.", "items-0-price": "600,00", **values}


def test_a_portuguese_contract_published_with_a_price_makes_priced_documents(
        app, admin_client, client):
    template_id, _uk_id, pt_id = _portuguese_contract(app)
    page = text_of(admin_client.get(f"/links/new/{template_id}"))
    # The company and currency of the template's language, as a new document starts.
    assert _selected(page, "company_id") == str(pt_id)
    assert re.search(r'name="currency"[^>]*value="EUR"', page)

    refused = post_form(admin_client, f"/links/new/{template_id}",
                        _publish_form(pt_id, **{"items-0-price": "abc", "vat_rate": "120"}))
    assert refused.status_code == 422
    assert "Enter a number, e.g. 1500.00." in text_of(refused)
    assert "VAT is a percentage from 0 to 100." in text_of(refused)
    with app.app_context():
        assert db.session.scalar(select(PublicLink.id)) is None  # nothing published

    published = post_form(admin_client, f"/links/new/{template_id}", _publish_form(pt_id))
    assert published.status_code == 302, text_of(published)[:2000]
    with app.app_context():
        link = db.session.scalar(select(PublicLink))
        assert link.company_id == pt_id
        assert link.document_values == {
            "place": "Lisboa", "vat_rate": "23", "currency": "EUR",
            "items": [{"name": "Design de logótipo", "quantity": "2", "unit": "un.",
                       "price": "600.00"}]}
        token = published_token(link)
    view = text_of(admin_client.get(f"/links/{link.id}"))
    assert "1,476.00\u00a0EUR" in view and "Design de logótipo" in view

    # The visitor sees what they sign, and the requisites the contract prints for a company.
    visitor = Published(link.id, token)
    details = text_of(client.get(visitor.url, headers={"Accept-Language": "pt"}))
    assert 'id="visitor-terms"' in details and "Design de identidade" in details
    assert "1\u00a0476,00\u00a0EUR" in details
    assert 'name="tax_id"' in details and 'name="bank_account"' in details
    assert 'name="kpp"' not in details  # Russian companies only

    bad = post(client, visitor.url, {**COMPANY_VISITOR, "bank_account": "PT50 0002#"})
    assert bad.status_code == 422 and "Use letters and digits only" in text_of(bad)
    with app.app_context():
        assert db.session.scalar(select(PublicLinkSubmission.id)) is None

    assert post(client, visitor.url, COMPANY_VISITOR).status_code == 302
    entered = confirm_code(client, app, visitor, "rui@estudio.example")
    assert entered.status_code == 302
    [document] = documents(app)
    assert document.title == "Design de identidade" and document.company_id == pt_id
    assert document.variables["items"] == link_items()
    assert (document.variables["vat_rate"], document.variables["currency"],
            document.variables["place"]) == ("23", "EUR", "Lisboa")
    party = client_party(app, document.id)
    assert party.requisites["tax_id"] == "PT509442013"
    assert party.requisites["address"] == COMPANY_VISITOR["address"]
    with app.app_context():
        entry = db.session.get(Counterparty, party.counterparty_id)
        assert (entry.tax_id, entry.kind) == ("PT509442013", "company")
        pdf = read(document.source_sha256)
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    text = " ".join(text.replace("\u00a0", " ").split())
    assert "1 476,00 EUR" in text and "0,00 RUB" not in text
    assert "PT509442013" in text and "Rua Augusta 10" in text


def link_items() -> list[dict]:
    return [{"name": "Design de logótipo", "quantity": "2", "unit": "un.", "price": "600.00"}]


def published_token(link: PublicLink) -> str:
    from portal.links.services import url_of
    return url_of(link).rsplit("/p/", 1)[1]


def test_the_values_change_for_the_next_documents_and_a_person_gives_no_requisites(
        app, admin_client, client):
    with app.app_context():
        # The body prints the client's tax id only; its layout has no requisites field.
        template = make_template(body_html=TEMPLATE_HTML + "<p>NIF {{ counterparty.tax_id }}</p>",
                                 default_layout=LAYOUT, name="Oferta", language="pt")
        template_id, company_id = template.id, signet_company().id
    assert post_form(admin_client, f"/links/new/{template_id}",
                     _publish_form(company_id)).status_code == 302
    with app.app_context():
        link = db.session.scalar(select(PublicLink))
        visitor = Published(link.id, published_token(link))

    changed = post_form(admin_client, f"/links/{link.id}/values",
                        {"title": "Oferta 2027", "currency": "eur", "place": "Porto",
                         "vat_rate": "", "items-0-name": "Sessão", "items-0-quantity": "1",
                         "items-0-price": "99.5"})
    assert changed.status_code == 302, text_of(changed)[:1500]
    assert "99.50\u00a0EUR" in text_of(admin_client.get(f"/links/{link.id}"))

    details = text_of(client.get(visitor.url))
    assert 'name="tax_id"' in details and 'name="kpp"' not in details  # only what it prints
    person = {"kind": "person", "name": "Maria Silva", "email": "maria@example.com",
              "tax_id": "PT123456789"}
    assert post(client, visitor.url, person).status_code == 302
    confirm_code(client, app, visitor)
    [document] = documents(app)
    assert document.title == "Oferta 2027"
    assert document.variables["items"] == [
        {"name": "Sessão", "quantity": "1", "unit": "", "price": "99.5"}]
    assert (document.variables["vat_rate"], document.variables["currency"],
            document.variables["place"]) == (None, "EUR", "Porto")
    assert "tax_id" not in client_party(app, document.id).requisites  # a person has none
