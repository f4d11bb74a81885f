"""Bulk rows: column suggestions, one clear message per faulty cell, directory matching."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import event

from portal.auth.models import Role, RoleGrant, User
from portal.bulk.rows import amount_text, suggest_mapping, summary, validate_rows
from portal.bulk.sheet import read_sheet
from portal.doctemplates.models import DocumentTemplate
from portal.extensions import db
from portal.parties.directory import directory_entry_with
from tests.factories import make_counterparty, make_user

HEADERS = ["Kind", "Name", "Email", "Phone", "Channel", "Amount", "Place"]
PLAIN = DocumentTemplate(name="Act", body_html="<p>{{ counterparty.name }}</p>")
WITH_PLACE = DocumentTemplate(name="Act", body_html="<p>{{ document.place }}, {{ currency }}</p>")


@dataclass
class Sheet:
    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int] = field(default_factory=list)

    def __post_init__(self):
        self.row_numbers = self.row_numbers or list(range(2, len(self.rows) + 2))


def _check(actor, *rows, headers=HEADERS, template=PLAIN):
    sheet = Sheet(headers, [list(row) for row in rows])
    return validate_rows(sheet, suggest_mapping(headers, template), template, actor)


def _row(name="Maria Silva", email="maria@example.com", phone="", channel="", amount="100",
         kind="person", place="Lisboa"):
    return [kind, name, email, phone, channel, amount, place]


def _no_contacts_user() -> User:
    user = make_user(email="reader@example.com", name="Reader")
    user.roles = [Role(name="Reader", grants=[
        RoleGrant(section="contacts", action="view", scope="all")])]
    db.session.commit()
    return user


@pytest.mark.parametrize("headers, expected", [
    (["Type", "Full name", "E-mail", "Phone number", "Send by", "Tax ID", "Total"],
     {"kind": 0, "name": 1, "email": 2, "phone": 3, "channel": 4, "tax_id": 5, "amount": 6}),
    (["Тип лица", "ФИО", "Эл. почта", "Телефон", "ИНН", "КПП", "ОГРН", "БИК", "Р/с", "Сумма"],
     {"kind": 0, "name": 1, "email": 2, "phone": 3, "tax_id": 4, "kpp": 5,
      "registration_number": 6, "bank_code": 7, "bank_account": 8, "amount": 9}),
    (["Nome", "Correio eletrónico", "Telemóvel", "NIF", "Morada", "IBAN", "Valor", "Cargo"],
     {"name": 0, "email": 1, "phone": 2, "tax_id": 3, "address": 4, "bank_account": 5,
      "amount": 6, "representative_position": 7}),
])
def test_columns_are_suggested_from_english_russian_and_portuguese_headers(headers, expected):
    assert suggest_mapping(headers, PLAIN) == expected


def test_a_suggestion_ignores_case_and_punctuation_and_offers_only_printed_variables():
    headers = [" NAME: ", "e_mail", "Company", "Place"]
    assert suggest_mapping(headers, PLAIN) == {"name": 0, "email": 1}
    assert suggest_mapping(headers, WITH_PLACE) == {"name": 0, "email": 1, "place": 3}


def test_a_valid_row_is_cleaned_and_will_join_the_directory(app, admin):
    with app.app_context():
        actor = db.session.get(User, admin["id"])
        [result] = _check(actor, _row(name=" Maria   Silva ", email="Maria@Example.COM",
                                      phone="+351 912 345 678", kind="Pessoa",
                                      amount="1 500,50"))
        assert result.valid and result.will_create and result.counterparty_id is None
        assert (result.values["name"], result.values["email"], result.values["phone"],
                result.values["kind"], result.values["channel"]) == (
            "Maria Silva", "maria@example.com", "+351912345678", "person", "email")
        assert result.values["items"][0]["price"] == Decimal("1500.50")
        assert result.row_number == 2


@pytest.mark.parametrize("row, key, words", [
    (_row(name=""), "name", "Enter the client's name."),
    (_row(email="", phone=""), "email", "Give an email address or a phone number."),
    (_row(email="maria@"), "email", "valid email address"),
    (_row(phone="12"), "phone", "phone number"),
    (_row(channel="SMS"), "channel", "SMS needs a phone number"),
    (_row(channel="pigeon"), "channel", "Unknown channel"),
    (_row(kind="robot"), "kind", "Unknown client type “robot”"),
    (_row(amount="lots"), "amount", "Enter a number"),
    (_row(amount="1.500"), "amount", "Unclear amount “1.500”"),
    (_row(amount="-5"), "amount", "from 0 up"),
    (_row(place=""), "place", "The template prints “Place”"),
])
def test_each_faulty_cell_gets_one_clear_message(app, admin, row, key, words):
    with app.app_context():
        actor = db.session.get(User, admin["id"])
        [result] = _check(actor, row, template=WITH_PLACE)
        assert list(result.errors) == [key]
        assert words in result.errors[key]


def test_russian_and_portuguese_words_name_the_kind_and_channel(app, admin):
    with app.app_context():
        actor = db.session.get(User, admin["id"])
        results = _check(actor, _row(kind="Юрлицо", channel="почта"),
                         _row(kind="empresa", email="b@example.com", phone="+351912345679",
                              channel="SMS"),
                         _row(kind="физ. лицо", email="c@example.com"))
        assert [(r.values["kind"], r.values["channel"]) for r in results] == [
            ("company", "email"), ("company", "sms"), ("person", "email")]
        assert all(result.valid for result in results)


def test_requisites_are_checked_for_companies_and_left_out_for_people(app, admin):
    headers = ["Kind", "Name", "Email", "INN", "KPP", "Representative"]
    with app.app_context():
        actor = db.session.get(User, admin["id"])
        company, bad, person = _check(
            actor, ["company", "Acme", "a@example.com", "7707 083893", "770701001", "Anna"],
            ["company", "Bad", "b@example.com", "7707083893", "77", ""],
            ["person", "Maria", "m@example.com", "7707083893", "77", "Anna"], headers=headers)
        assert (company.values["tax_id"], company.values["representative_name"]) == (
            "7707083893", "Anna")
        assert list(bad.errors) == ["kpp"] and "9 characters" in bad.errors["kpp"]
        assert person.valid and person.values["kpp"] == person.values["tax_id"] == ""


def test_messages_are_translated(app, admin):
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "ru"}):
        actor = db.session.get(User, admin["id"])
        [result] = _check(actor, _row(name="", email="", phone=""))
        assert result.errors == {"name": "Укажите имя или название клиента.",
                                 "email": "Укажите адрес почты или номер телефона."}


@pytest.mark.parametrize("text, expected", [
    ("1500.50", "1500.50"), ("1 500,50", "1500.50"), ("1.500,50", "1500.50"),
    ("1,500.50", "1500.50"), ("1\u00a0500", "1500"), ("1.500.000", "1500000"),
    ("0,500", "0.500"), ("1.500", None), ("1,500", None), ("1.50.0,5", None),
    ("1.500,000.5", None),
])
def test_amounts_take_spaces_and_both_marks_and_refuse_the_ambiguous(text, expected):
    assert amount_text(text) == expected


def test_items_and_document_variables_are_read(app, admin):
    headers = ["Name", "Email", "Items", "Place", "Date", "Currency", "VAT"]
    template = DocumentTemplate(name="Act", body_html=(
        "{{ document.place }} {{ document.date }} {{ currency }} {{ totals.vat_rate }}"))
    with app.app_context():
        actor = db.session.get(User, admin["id"])
        good, bad = _check(actor, ["A", "a@example.com", "Design; 2; 1 500,00 | Support; 300",
                                   "Porto", "31.12.2026", "eur", "23%"],
                           ["B", "b@example.com", "Design, 2", "Porto", "31.02.2026", "euros",
                            "120"], headers=headers, template=template)
        assert good.valid, good.errors
        assert [(i["name"], i["quantity"], i["price"]) for i in good.values["items"]] == [
            ("Design", Decimal("2"), Decimal("1500.00")), ("Support", 1, Decimal("300"))]
        assert (str(good.values["date"]), good.values["currency"], good.values["vat_rate"]) == (
            "2026-12-31", "EUR", Decimal("23"))
        assert set(bad.errors) == {"items", "date", "currency", "vat_rate"}
        assert "name; quantity; price" in bad.errors["items"]
        [zero] = _check(actor, ["C", "c@example.com", "Design; 0; 100"], headers=headers[:3])
        assert zero.errors == {"items": "The quantity must be more than zero."}


def test_a_later_duplicate_names_the_earlier_row(app, admin):
    with app.app_context():
        actor = db.session.get(User, admin["id"])
        results = _check(actor, _row(email="a@example.com", phone="+351912345678"),
                         _row(email="b@example.com"),
                         _row(email="A@example.com"),
                         _row(email="c@example.com", phone="+351 912 345 678"))
        assert [r.valid for r in results] == [True, True, False, False]
        assert results[2].errors == {"email": "The same as in row 2: one row per client."}
        assert results[3].errors == {"phone": "The same as in row 2: one row per client."}
        assert summary(results) == {"valid": 2, "invalid": 2, "to_create": 2, "matched": 0}


def test_rows_match_the_directory_by_email_first_then_phone(app, admin):
    with app.app_context():
        actor = db.session.get(User, admin["id"])
        by_email = make_counterparty(name="Known", email="known@example.com")
        by_phone = make_counterparty(name="Phoned", email="", phone="+351912345678")
        also_phoned = make_counterparty(name="Phoned too", email="", phone="+351912345679")
        results = _check(actor, _row(email="KNOWN@example.com", phone="+351912345678"),
                         _row(email="new@example.com", phone="+351 912 345 679"),
                         _row(email="other@example.com"))
        assert [r.counterparty_id for r in results[:2]] == [by_email.id, also_phoned.id]
        assert [r.will_create for r in results] == [False, False, True]
        # The document path asks the same question the same way.
        assert directory_entry_with("known@example.com", "+351912345678") == by_email.id
        assert directory_entry_with("new@example.com", "+351912345678") == by_phone.id
        assert summary(results) == {"valid": 3, "invalid": 0, "to_create": 1, "matched": 2}


def test_a_user_who_may_not_add_contacts_gets_only_known_clients(app):
    with app.app_context():
        known = make_counterparty(name="Known", email="known@example.com")
        reader = _no_contacts_user()
        matched, unknown = _check(reader, _row(email="known@example.com"),
                                  _row(email="new@example.com"))
        assert matched.valid and matched.counterparty_id == known.id
        assert unknown.errors == {"counterparty": (
            "This client is not in the directory, and you may not add contacts.")}
        assert not unknown.will_create


def _statements_to_validate(app, actor_id: int, count: int) -> int:
    rows = [_row(name=f"Client {n}", email=f"client{n}@example.com",
                 phone=f"+3519120{n:05d}") for n in range(count)]
    statements = []
    with app.app_context():
        actor = db.session.get(User, actor_id)
        engine = db.engine

        def counted(_connection, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", counted)
        try:
            results = _check(actor, *rows)
        finally:
            event.remove(engine, "before_cursor_execute", counted)
    assert len(results) == count and all(result.valid for result in results)
    assert sum("FROM counterparties" in statement for statement in statements) == 2
    return len(statements)


def test_a_thousand_rows_cost_as_many_queries_as_ten(app, admin):
    with app.app_context():
        make_counterparty(name="Client 7", email="client7@example.com")
    assert _statements_to_validate(app, admin["id"], 1000) == _statements_to_validate(
        app, admin["id"], 10)


def test_a_russian_excel_csv_is_read_mapped_and_validated_end_to_end(app, admin):
    text = ("Тип;Наименование;Эл. почта;Телефон;ИНН;Сумма\r\n"
            "юрлицо;ООО «Вектор»;info@vektor.example;+7 812 000-00-01;7812987658;1 500,50\r\n"
            "физлицо;Иванов Иван;не почта;;;100\r\n"
            "физлицо;Петров Пётр;info@vektor.example;;;200\r\n")
    sheet = read_sheet(text.encode("cp1251"), "клиенты.csv")
    assert (sheet.encoding, sheet.delimiter, sheet.row_numbers) == ("cp1251", ";", [2, 3, 4])
    with app.app_context():
        actor = db.session.get(User, admin["id"])
        mapping = suggest_mapping(sheet.headers, PLAIN)
        results = validate_rows(sheet, mapping, PLAIN, actor)
    assert mapping == {"kind": 0, "name": 1, "email": 2, "phone": 3, "tax_id": 4, "amount": 5}
    first, second, third = results
    assert first.valid and first.will_create, first.errors
    assert first.values["items"][0]["price"] == Decimal("1500.50")
    assert set(second.errors) == {"email"}
    assert "2" in third.errors["email"]  # the same address as row 2
    assert summary(results)["valid"] == 1
