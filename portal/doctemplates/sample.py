"""Sample data for previews: a company, a client and three items in each language."""

from datetime import date

from portal.doctemplates.variables import build_context

_REQUISITES_RU = {
    "tax_id": "7707083893", "kpp": "770701001", "registration_number": "1027700132195",
    "address": "Москва, ул. Тверская, д. 1, офис 10", "bank_name": "ПАО Сбербанк",
    "bank_account": "40702810900000000001", "correspondent_account": "30101810400000000225",
    "bank_code": "044525225",
}

SAMPLE_COMPANIES = {
    "en": {
        "legal_name": "Signet Demo LLC", "short_name": "Signet Demo",
        "email": "office@signet-demo.example", "phone": "+7 495 123-45-67",
        **_REQUISITES_RU, "address": "Moscow, Tverskaya st. 1, office 10",
        "bank_name": "PJSC Sberbank",
        "signer_name": "Anna Petrova", "signer_position": "Director",
        "signer_email": "director@signet-demo.example", "signer_phone": "+7 916 123-45-67",
    },
    "ru": {
        "legal_name": "ООО «Сигнет Демо»", "short_name": "Сигнет Демо",
        "email": "office@signet-demo.example", "phone": "+7 495 123-45-67", **_REQUISITES_RU,
        "signer_name": "Петрова Анна Сергеевна", "signer_position": "Генеральный директор",
        "signer_email": "director@signet-demo.example", "signer_phone": "+7 916 123-45-67",
    },
    "pt": {
        "legal_name": "Signet Demo, Lda.", "short_name": "Signet Demo",
        "email": "geral@signet-demo.example", "phone": "+351 213 456 789",
        "tax_id": "PT509876543", "registration_number": "509876543",
        "address": "Avenida da Liberdade 110, 1269-046 Lisboa",
        "bank_name": "Caixa Geral de Depósitos",
        "bank_account": "PT50003506510000000000033", "bank_code": "CGDIPTPL",
        "signer_name": "Inês Conceição", "signer_position": "Gerente",
        "signer_email": "gerencia@signet-demo.example", "signer_phone": "+351 912 345 678",
    },
}

SAMPLE_COUNTERPARTIES = {
    "en": {
        "kind": "company", "name": "Northwind Trading Ltd", "representative_name": "John Carter",
        "representative_position": "CEO", "email": "contracts@northwind.example",
        "phone": "+44 20 7946 0000", "tax_id": "GB123456789", "registration_number": "01234567",
        "address": "221 King's Road, London SW3 5EP", "bank_name": "Barclays Bank",
        "bank_account": "GB29NWBK60161331926819", "bank_code": "BARCGB22",
    },
    "ru": {
        "kind": "company", "name": "ООО «Вектор»", "representative_name": "Иванов Иван Иванович",
        "representative_position": "Генеральный директор", "email": "info@vektor.example",
        "phone": "+7 812 333-44-55", "tax_id": "7812345678", "kpp": "781201001",
        "registration_number": "1157847000001", "address": "Санкт-Петербург, Невский пр., д. 28",
        "bank_name": "АО «Банк Северный»", "bank_account": "40702810555000001234",
        "correspondent_account": "30101810500000000653", "bank_code": "044030653",
    },
    "pt": {
        "kind": "company", "name": "Soluções Atlântico, Lda.",
        "representative_name": "João Gonçalves", "representative_position": "Gerente",
        "email": "contratos@atlantico.example", "phone": "+351 222 333 444",
        "tax_id": "PT501234567", "registration_number": "501234567",
        "address": "Rua de Santa Catarina 200, 4000-442 Porto", "bank_name": "Millennium bcp",
        "bank_account": "PT50003300004535678901294", "bank_code": "BCOMPTPL",
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
    "en": {"title": "Website services", "place": "Moscow", "currency": "USD", "vat_rate": 20},
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
