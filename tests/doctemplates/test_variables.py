"""Template variables: totals in Decimal rounded half-up, money and dates per language."""

from datetime import date
from decimal import Decimal

import pytest

from portal.doctemplates.rendering import (
    TemplateRefused,
    build_context,
    compute_totals,
    format_long_date,
    format_money,
    format_number,
    item_rows,
)
from portal.doctemplates.sandbox import render_html

NBSP = "\u00a0"


def test_amounts_are_rounded_half_up_to_cents():
    rows = item_rows([{"name": "Bolts", "quantity": "3", "price": "0.335"},
                      {"name": "Nuts", "quantity": 2.5, "price": "1,01"},
                      {"name": "Hours", "quantity": Decimal("0.5"), "price": 0.05}])
    assert [row["amount"] for row in rows] == [Decimal("1.01"), Decimal("2.53"), Decimal("0.03")]
    assert [row["position"] for row in rows] == [1, 2, 3]
    assert rows[1]["quantity"] == Decimal("2.5") and rows[1]["price"] == Decimal("1.01")


def test_vat_is_added_on_the_net_and_rounded_half_up():
    totals = compute_totals(item_rows([{"name": "x", "quantity": 1, "price": "0.25"}]), 10)
    assert totals == {"net": Decimal("0.25"), "vat_rate": Decimal("10"), "vat": Decimal("0.03"),
                      "gross": Decimal("0.28")}
    totals = compute_totals(item_rows([{"name": "a", "quantity": 3, "price": "33.33"},
                                       {"name": "b", "quantity": 1, "price": "0.01"}]), "20")
    assert (totals["net"], totals["vat"], totals["gross"]) == (
        Decimal("100.00"), Decimal("20.00"), Decimal("120.00"))
    totals = compute_totals(item_rows([{"name": "a", "quantity": 1, "price": "99.99"}]), "6.5")
    assert (totals["vat"], totals["gross"]) == (Decimal("6.50"), Decimal("106.49"))


def test_no_vat_rate_means_vat_does_not_apply():
    totals = compute_totals(item_rows([{"name": "a", "quantity": 2, "price": "10"}]), None)
    assert totals == {"net": Decimal("20.00"), "vat_rate": None, "vat": Decimal("0.00"),
                      "gross": Decimal("20.00")}
    assert compute_totals([], 0)["vat_rate"] == Decimal("0")
    assert compute_totals([], "")["vat_rate"] is None


@pytest.mark.parametrize("items, vat_rate, message", [
    ([{"name": "a", "quantity": "lots", "price": 1}], None, "Item 1: the quantity"),
    ([{"name": "a", "quantity": 1, "price": 1}, {"name": "b", "price": "NaN"}], None,
     "Item 2: the price"),
    ([], "120", "between 0 and 100"),
    ([], "abc", "between 0 and 100"),
])
def test_bad_numbers_are_refused_with_a_clear_message(items, vat_rate, message):
    with pytest.raises(TemplateRefused) as caught:
        compute_totals(item_rows(items), vat_rate)
    assert message in caught.value.message


@pytest.mark.parametrize("language, money, number", [
    ("en", "1,234.50", "1,000.5"),
    ("ru", f"1{NBSP}234,50", f"1{NBSP}000,5"),
    ("pt", f"1{NBSP}234,50", f"1{NBSP}000,5"),
])
def test_money_and_numbers_follow_the_language(language, money, number):
    assert format_money(Decimal("1234.5"), language) == money
    assert format_money("1234.5", language, "EUR") == f"{money}{NBSP}EUR"
    assert format_number(Decimal("1000.50"), language) == number
    assert format_money(None, language) == "" and format_money("abc", language) == ""


def test_money_rounds_half_up_when_formatting():
    assert format_money(Decimal("0.125"), "en") == "0.13"


@pytest.mark.parametrize("language, expected", [
    ("en", "March 5, 2026"),
    ("ru", "5 марта 2026\u202fг."),
    ("pt", "5 de março de 2026"),
])
def test_long_dates_follow_the_language(language, expected):
    assert format_long_date(date(2026, 3, 5), language) == expected
    assert format_long_date("2026-03-05", language) == expected


def test_filters_use_the_context_language():
    html = render_html("{{ 1234.5|money }} | {{ 1234.5|money(currency) }} | {{ day|date }} | "
                       "{{ 2.50|number }}",
                       {"language": "ru", "currency": "RUB", "day": date(2026, 3, 5)})
    assert html == f"1{NBSP}234,50 | 1{NBSP}234,50{NBSP}RUB | 5 марта 2026\u202fг. | 2,5"


class FakeCompany:
    legal_name = "Acme LLC"
    short_name = ""
    email = "office@acme.example"
    phone = "+74951234567"
    tax_id = "7707083893"
    kpp = "770701001"
    registration_number = "1027700132195"
    address = "Moscow"
    bank_name = "Bank"
    bank_account = "40702810900000000001"
    correspondent_account = "30101810400000000225"
    bank_code = "044525225"
    signer_name = "Anna Director"
    signer_position = "Director"
    signer_email = "anna@acme.example"
    signer_phone = ""


def _context(counterparty, **changes):
    arguments = {"number": "ACT-2026-00001", "title": "Works", "date": "2026-03-05",
                 "place": "Moscow", "items": [{"name": "Design", "quantity": 2, "unit": "h",
                                              "price": "100.005"}],
                 "vat_rate": 20, "currency": "rub", "language": "ru", **changes}
    return build_context(FakeCompany(), counterparty, **arguments)


def test_build_context_from_models_and_party_dicts():
    context = _context({"kind": "company", "name": "Иван Иванов", "position": "Директор",
                        "organization": "ООО «Вектор»", "email": "info@vektor.example",
                        "phone": "", "role": "client", "requisites": {"tax_id": "7812345678"}})
    company, client = context["company"], context["counterparty"]
    assert company["legal_name"] == "Acme LLC" and company["name"] == "Acme LLC"
    assert company["signer"] == {"name": "Anna Director", "position": "Director",
                                 "email": "anna@acme.example", "phone": ""}
    assert company["requisites"]["kpp"] == "770701001" and company["kpp"] == "770701001"
    assert client["name"] == "ООО «Вектор»" and client["is_company"]
    assert client["representative"] == {"name": "Иван Иванов", "position": "Директор"}
    assert client["tax_id"] == "7812345678" and client["requisites"]["tax_id"] == "7812345678"
    assert context["document"] == {"number": "ACT-2026-00001", "title": "Works",
                                   "date": date(2026, 3, 5), "place": "Moscow"}
    assert context["currency"] == "RUB" and context["language"] == "ru"
    assert context["items"][0]["amount"] == Decimal("200.01")
    assert context["totals"]["gross"] == Decimal("240.01")


def test_build_context_from_a_counterparty_record_or_nothing():
    person = _context({"kind": "person", "name": "Maria Silva", "email": "maria@example.com",
                       "representative_name": "", "tax_id": ""})["counterparty"]
    assert person["name"] == "Maria Silva" and not person["is_company"]
    assert person["email"] == "maria@example.com"
    nobody = _context(None)["counterparty"]
    assert nobody["name"] == "" and nobody["requisites"]["tax_id"] == ""
    assert _context(None, date=None)["document"]["date"] is None
