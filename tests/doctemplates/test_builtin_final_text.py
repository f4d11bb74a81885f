"""Every shipped template, in each of its languages, keeps every line of long requisites.

A draft is made from the template for a company and a client with long, realistic
requisites, sent, filled and signed as the signing page does it, and sealed. The final PDF's
text inside each text field's box (pdftotext cropped to the box) holds every line of the
value the field was given, and the value was set at a readable size.
"""

import os
import subprocess
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from portal.doctemplates.builtin import BUILTIN_TEMPLATES, install_builtin_templates
from portal.doctemplates.sample import SAMPLE_COMPANIES
from portal.documents import fitting as document_fitting
from portal.documents import services
from portal.extensions import db
from portal.models_base import utcnow
from portal.parties.models import Company, Counterparty
from portal.pdfs.fitting import READABLE_FONT_SIZE, fit_in_box
from portal.signing.filling import AUTO_TYPES, auto_value, fields_of
from portal.storage import read
from tests.documents.support import META, user
from tests.factories import make_counterparty
from tests.progress.support import fill_signatures, load, party, sign

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TEXT_TYPES = ("text", "number", "date", "requisites")
SAVE_TO = os.environ.get("SIGNET_SCREENSHOTS")
MARGIN = 1.5  # points around a field's box that its cropped text may use (glyph overhang)

COMPANY = {
    "ru": dict(
        legal_name="Общество с ограниченной ответственностью «Сигнет Цифровые Решения»",
        signer_name="Петрова-Засядько Анна Владиславовна",
        signer_position="Генеральный директор", signer_email="director@signet.example",
        email="office@signet.example", phone="+74951234567", tax_id="7707083893",
        kpp="770701001", registration_number="1027700132195",
        address="125009, г. Москва, вн. тер. г. муниципальный округ Тверской, "
                "ул. Тверская, д. 1, стр. 2, помещение I, комната 10",
        bank_name="ПАО Сбербанк, Московский банк", bank_account="40702810900000000001",
        correspondent_account="30101810400000000225", bank_code="044525225"),
    "en": dict(
        legal_name="Signet Digital Solutions Limited", signer_name="Anna Elizabeth Petrova",
        signer_position="Managing Director", signer_email="director@signet.example",
        email="office@signet.example", phone="+442071234567", tax_id="GB 123 4567 89",
        registration_number="12345678",
        address="Suite 410, Fourth Floor, Kingsbourne House, 229-231 High Holborn, "
                "London WC1V 7DA, United Kingdom",
        bank_name="Barclays Bank UK PLC, Holborn Circus Branch",
        bank_account="GB33BUKB20201555555555", bank_code="BUKBGB22"),
    "pt": dict(
        legal_name="Signet Soluções Digitais, Unipessoal Lda.",
        signer_name="Ana Beatriz Figueiredo Petrova", signer_position="Gerente",
        signer_email="gerente@signet.example", email="geral@signet.example",
        phone="+351213456789", tax_id="PT 509 876 543", registration_number="509876543",
        address="Avenida da Liberdade, n.º 245, 4.º andar, sala B, 1250-143 Lisboa, Portugal",
        bank_name="Caixa Geral de Depósitos, S.A., Agência Marquês de Pombal",
        bank_account="PT50 0035 0683 0000 1234 5678 9", bank_code="CGDIPTPL"),
}
CLIENT = {
    "ru": dict(
        # As long as real ones get: a full legal name, a position with its authority, an
        # address in the new official format, a bank with its branch.
        name="Общество с ограниченной ответственностью «Северо-Западная торговая компания "
             "«Вектор-Инвест Логистик»»",
        representative_name="Константинопольский Александр Владимирович",
        representative_position="Генеральный директор, действующий на основании Устава",
        email="dogovor@vektor-invest.example", phone="+78123334455", tax_id="7812345678",
        kpp="781201001", registration_number="1157847000001",
        address="197374, Российская Федерация, г. Санкт-Петербург, вн. тер. г. муниципальный "
                "округ Озеро Долгое, Приморский пр-т, д. 54, корп. 1, стр. 3, пом. 12-Н, "
                "офис 405, бизнес-центр «Приморский»",
        bank_name="Северо-Западный банк ПАО Сбербанк, дополнительный офис № 9055/01234",
        bank_account="40702810555000001234",
        correspondent_account="30101810900000000790", bank_code="044030790"),
    "en": dict(
        name="Northwind Trading and Logistics (Europe) Limited",
        representative_name="Jonathan Alexander Carter-Whitmore",
        representative_position="Chief Financial Officer and Company Secretary",
        email="contracts@northwind-europe.example", phone="+442079460000",
        tax_id="GB 987 6543 21", registration_number="01234567",
        address="Unit 7, Riverside Business Park, 221 King's Road, Chelsea, "
                "London SW3 5EP, United Kingdom",
        bank_name="National Westminster Bank plc", bank_account="GB29NWBK60161331926819",
        bank_code="NWBKGB2L"),
    "pt": dict(
        name="Distribuidora Atlântica de Materiais de Construção, S.A.",
        representative_name="Maria Leonor Albuquerque Vasconcelos",
        representative_position="Administradora Financeira",
        email="contratos@atlantica.example", phone="+351912345678",
        tax_id="PT 501 234 567", registration_number="501234567",
        address="Rua Engenheiro Ferreira Dias, n.º 924, Edifício Atlântico, 3.º piso, "
                "4100-246 Porto, Portugal",
        bank_name="Banco Comercial Português, S.A. (Millennium bcp)",
        bank_account="PT50 0033 0000 4531 2345 6780 5", bank_code="BCOMPTPL"),
}
ITEMS = [{"name": "Website redesign, phase one", "quantity": "1", "unit": "pc",
          "price": "185000.00"},
         {"name": "Support, hours", "quantity": "12", "unit": "h", "price": "3500.00"}]


def _company(language: str) -> Company:
    company = Company(**COMPANY[language])
    db.session.add(company)
    db.session.commit()
    return company


def _sealed_from(template_key: str, admin_id: int):
    """(document id, final PDF) of a document from the shipped template, signed by both."""
    template = next(t for t in install_builtin_templates() if t.builtin_key == template_key)
    language = template.language
    client = make_counterparty(kind="company", **CLIENT[language])
    document = services.create_from_template(
        user(admin_id), META, company_id=_company(language).id, template_id=template.id,
        counterparty_id=client.id, place="Москва" if language == "ru" else "Lisboa",
        items=ITEMS, vat_rate=Decimal(20), currency="EUR", language=language)
    # The default boxes hold these requisites: nothing keeps the draft from being sent.
    assert document_fitting.overflows(document) == {}
    assert services.sending_problems(document) == []
    services.send(user(admin_id), META, document.id)
    fill_signatures(document.id)
    for role in ("company", "client"):
        _fill_auto_fields(document.id, role)
        sign(document.id, role)
    final = load(document.id)
    assert final.final_sha256, final.seal_error
    return document.id, read(final.final_sha256)


def _fill_auto_fields(document_id: int, role: str) -> None:
    """What signing does: the date and the requisites are written into the party's fields."""
    signer = party(load(document_id), role)
    now = utcnow()
    for field in fields_of(signer):
        if field.type in AUTO_TYPES:
            field.value = auto_value(field, signer, now)
            field.filled_at = now
    db.session.commit()


def _text_in_box(pdf: bytes, page: int, box: tuple[float, float, float, float]) -> str:
    """pdftotext of the area `box` (left, top, width, height in points) of `page`."""
    left, top, width, height = box
    result = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-r", "72",
         "-x", str(int(left - MARGIN)), "-y", str(int(top - MARGIN)),
         "-W", str(int(width + 2 * MARGIN + 1)), "-H", str(int(height + 2 * MARGIN + 1)),
         "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def _squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("template_key", [template.key for template in BUILTIN_TEMPLATES])
def test_the_final_pdf_keeps_every_line_of_every_value_inside_its_box(app, admin,
                                                                      template_key):
    with app.app_context():
        document_id, final = _sealed_from(template_key, admin["id"])
        if SAVE_TO:  # a folder, to look at the final PDFs by eye
            (Path(SAVE_TO) / f"{template_key}.pdf").write_bytes(final)
        fields = [(field.type, field.page, field.x, field.y, field.w, field.h, field.value)
                  for field in load(document_id).fields
                  if field.type in TEXT_TYPES and field.value.strip()]

    pages = PdfReader(BytesIO(final)).pages
    assert {kind for kind, *_rest in fields} == {"date", "requisites"}
    requisites = next(value for kind, *_box, value in fields if kind == "requisites")
    assert len(requisites.splitlines()) >= 8  # signer, company, tax and bank details...
    for kind, page, x, y, w, h, value in fields:
        page_width, page_height = (float(side) for side in pages[page - 1].mediabox[2:])
        box = (x * page_width, y * page_height, w * page_width, h * page_height)
        fit = fit_in_box(value, box[2], box[3])
        assert fit.readable and fit.size >= READABLE_FONT_SIZE, (kind, fit.size)
        found = _squeezed(_text_in_box(final, page, box))
        for line in value.splitlines():
            assert _squeezed(line) in found, (template_key, kind, line, found)


@pytest.mark.parametrize("template_key", [template.key for template in BUILTIN_TEMPLATES])
def test_the_default_boxes_hold_the_demo_data(app, admin, template_key):
    from portal.seed import _demo_parties

    with app.app_context():
        _demo_parties(user(admin["id"]))
        template = next(t for t in install_builtin_templates() if t.builtin_key == template_key)
        company = db.session.execute(db.select(Company).where(
            Company.legal_name == SAMPLE_COMPANIES[template.language]["legal_name"])).scalar_one()
        people = db.session.execute(db.select(Counterparty)).scalars().all()
        for client in people:
            document = services.create_from_template(
                user(admin["id"]), META, company_id=company.id, template_id=template.id,
                counterparty_id=client.id, items=ITEMS, vat_rate=Decimal(20),
                currency="RUB", language=template.language)
            assert "requisites" in {field.type for field in document.fields}
            assert document_fitting.overflows(document) == {}, (template_key, client.name)
