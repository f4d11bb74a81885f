"""Sample data for previews: a company, a client and three items in each language."""

from datetime import date

from portal.doctemplates.variables import build_context

# Fictitious but well-formed: the tax ids, registration numbers, bank and IBAN check digits
# pass their checksums, mail goes to example domains, and `flask signet seed` makes the demo
# companies and clients of `make run` from these same rows (tests/test_seed.py checks them).
SAMPLE_COMPANIES = {
    "en": {
        "legal_name": "Signet Demo Ltd", "short_name": "Signet Demo UK",
        "email": "office.uk@signet-demo.example", "phone": "+44 117 496 0123",
        "tax_id": "GB123456782", "registration_number": "09876543",
        "address": "12 Example Street, Bristol BS1 4XX", "bank_name": "Demo Bank plc",
        "bank_account": "GB62DEMO00000012345678", "bank_code": "DEMOGB2B",
        "signer_name": "Olivia Harper", "signer_position": "Director",
        "signer_email": "olivia.harper@signet-demo.example", "signer_phone": "+44 20 7946 0123",
    },
    "ru": {
        "legal_name": "ООО «Сигнет Демо»", "short_name": "Сигнет Демо",
        "email": "office.ru@signet-demo.example", "phone": "+7 495 000-00-01",
        "tax_id": "7701123451", "kpp": "770101001", "registration_number": "1027700123450",
        "address": "125009, г. Москва, ул. Примерная, д. 1, офис 10",
        "bank_name": "АО «Демо Банк»", "bank_account": "40702810600000000001",
        "correspondent_account": "30101810600000000999", "bank_code": "044525999",
        "signer_name": "Петрова Анна Сергеевна", "signer_position": "Генеральный директор",
        "signer_email": "anna.petrova@signet-demo.example", "signer_phone": "+7 916 000-00-01",
    },
    "pt": {
        "legal_name": "Signet Demo, Lda.", "short_name": "Signet Demo Portugal",
        "email": "office.pt@signet-demo.example", "phone": "+351 210 000 001",
        "tax_id": "PT509000002", "registration_number": "509000002",
        "address": "Rua do Exemplo 110, 1000-001 Lisboa", "bank_name": "Banco Demo, S.A.",
        "bank_account": "PT50999900010001234567861", "bank_code": "DEMOPTPL",
        "signer_name": "Inês Conceição", "signer_position": "Gerente",
        "signer_email": "ines.conceicao@signet-demo.example", "signer_phone": "+351 910 000 001",
    },
}

SAMPLE_COUNTERPARTIES = {
    "en": {
        "kind": "company", "name": "Northwind Trading Ltd", "representative_name": "John Carter",
        "representative_position": "CEO", "email": "contracts@northwind.example",
        "phone": "+44 20 7946 0456", "tax_id": "GB765432126", "registration_number": "01234567",
        "address": "8 Sample Road, Manchester M1 4XX", "bank_name": "Demo Bank plc",
        "bank_account": "GB04DEMO00000087654321", "bank_code": "DEMOGB2M",
    },
    "ru": {
        "kind": "company", "name": "ООО «Вектор»", "representative_name": "Иванов Иван Иванович",
        "representative_position": "Генеральный директор", "email": "info@vektor.example",
        "phone": "+7 812 000-00-01", "tax_id": "7812987658", "kpp": "781201001",
        "registration_number": "1157847987659",
        "address": "191025, г. Санкт-Петербург, Условный пр., д. 28",
        "bank_name": "АО «Банк Северный»", "bank_account": "40702810900000001234",
        "correspondent_account": "30101810400000000999", "bank_code": "044030999",
    },
    "pt": {
        "kind": "company", "name": "Soluções Atlântico, Lda.",
        "representative_name": "João Gonçalves", "representative_position": "Gerente",
        "email": "contratos@atlantico.example", "phone": "+351 220 000 001",
        "tax_id": "PT501000003", "registration_number": "501000003",
        "address": "Rua da Amostra 200, 4000-001 Porto", "bank_name": "Banco Demo, S.A.",
        "bank_account": "PT50999900020008765432118", "bank_code": "DEMOPTPL",
    },
}

SAMPLE_ITEMS = {
    "en": [("Website design", 1, "service", "1500.00"),
           ("Hosting, 12 months", 12, "month", "25.50"),
           ("Technical support", 7.5, "hour", "60.00")],
    "ru": [("Разработка дизайна сайта", 1, "усл.", "85000.00"),
           ("Хостинг, 12 месяцев", 12, "мес.", "1490.00"),
           ("Техническая поддержка", 7.5, "ч", "3200.00")],
    "pt": [("Conceção do sítio web", 1, "serviço", "1450.00"),
           ("Alojamento, 12 meses", 12, "mês", "24.90"),
           ("Horas de suporte técnico", 7.5, "hora", "55.00")],
}
SAMPLE_DOCUMENT = {
    "en": {"title": "Website services", "place": "Bristol", "currency": "GBP", "vat_rate": 20},
    "ru": {"title": "Услуги по разработке сайта", "place": "г. Москва", "currency": "RUB",
           "vat_rate": 20},
    "pt": {"title": "Serviços de conceção do sítio web", "place": "Lisboa", "currency": "EUR",
           "vat_rate": 23},
}
SAMPLE_NUMBERS = {"act": "ACT-2026-00042", "invoice": "INV-2026-00042",
                  "contract": "CON-2026-00042", "other": "DOC-2026-00042"}


def sample_items(language: str, count: int | None = None) -> list[dict]:
    """The three sample items, or `count` items cycling through them."""
    base = SAMPLE_ITEMS.get(language, SAMPLE_ITEMS["en"])
    count = len(base) if count is None else count
    return [{"name": base[i % len(base)][0] + (f" ({i + 1})" if count > len(base) else ""),
             "quantity": base[i % len(base)][1], "unit": base[i % len(base)][2],
             "price": base[i % len(base)][3]} for i in range(count)]


def sample_context(kind: str = "act", language: str = "en", item_count: int | None = None,
                   counterparty: dict | None = None) -> dict:
    """A full template context with the sample company, client and items."""
    language = language if language in SAMPLE_COMPANIES else "en"
    document = SAMPLE_DOCUMENT[language]
    return build_context(
        SAMPLE_COMPANIES[language],
        SAMPLE_COUNTERPARTIES[language] if counterparty is None else counterparty,
        number=SAMPLE_NUMBERS.get(kind, SAMPLE_NUMBERS["other"]),
        title=document["title"],
        date=date(2026, 3, 5),
        place=document["place"],
        items=sample_items(language, item_count),
        vat_rate=document["vat_rate"],
        currency=document["currency"],
        language=language,
    )
