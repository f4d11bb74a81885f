"""The counterparties directory: people and companies, search as you type, no duplicates."""

import re

from portal.extensions import db
from portal.parties.models import Counterparty
from tests.factories import make_counterparty, make_user
from tests.helpers import post_form, sign_in, text_of
from tests.parties.support import counterparty_form

HTMX = {"HX-Request": "true"}

VEKTOR = {
    "kind": "company",
    "name": "ООО «Вектор»",
    "representative_name": "Иванов Иван Иванович",
    "representative_position": "Генеральный директор",
    "email": "info@vektor.example",
    "phone": "+7 (812) 333-44-55",
    "tax_id": "7812345678",
    "kpp": "781201001",
    "registration_number": "1157847000001",
    "address": "Санкт-Петербург, Невский пр., д. 28",
    "bank_name": "АО «Банк Северный»",
    "bank_account": "40702810555000001234",
    "correspondent_account": "30101810500000000653",
    "bank_code": "044030653",
    "notes": "Договор поставки\nпродлить в декабре",
}


def _all(app) -> list[Counterparty]:
    with app.app_context():
        found = db.session.execute(db.select(Counterparty).order_by(Counterparty.id)).scalars()
        found = found.all()
        db.session.expunge_all()
        return found


def _directory(app):
    """Three counterparties of both kinds, as the seed has them."""
    with app.app_context():
        make_counterparty("Maria Silva", email="maria.silva@example.com", phone="+351912345678")
        make_counterparty("Northwind Trading Ltd", kind="company",
                          email="contracts@northwind.example", phone="+442079460000",
                          tax_id="GB123456789", representative_name="John Carter")
        make_counterparty(VEKTOR["name"], kind="company", email=VEKTOR["email"],
                          phone="+78123334455", tax_id="7812345678",
                          representative_name=VEKTOR["representative_name"])


def _names_in(response) -> list[str]:
    page = text_of(response)
    return [name for name in ("Maria Silva", "Northwind Trading Ltd", "ООО «Вектор»")
            if name in page]


def test_create_a_person(app, admin_client, admin):
    response = post_form(admin_client, "/counterparties/new",
                         counterparty_form(name="  Мария   Сильва ", phone="+351 912 345 678"))
    assert response.status_code == 302
    [person] = _all(app)
    assert (person.kind, person.name, person.email, person.phone) == (
        "person", "Мария Сильва", "maria.silva@example.com", "+351912345678")
    assert person.created_by_id == admin["id"]
    page = text_of(admin_client.get(response.headers["Location"]))
    assert "Мария Сильва" in page and "+351 912 345 678" in page and "Person" in page


def test_create_a_company_with_representative_and_requisites(app, admin_client):
    response = post_form(admin_client, "/counterparties/new", VEKTOR)
    assert response.status_code == 302
    [company] = _all(app)
    assert company.kind == "company"
    assert company.representative_name == "Иванов Иван Иванович"
    assert (company.tax_id, company.kpp, company.bank_code) == ("7812345678", "781201001",
                                                                 "044030653")
    assert company.phone == "+78123334455"
    assert company.notes == "Договор поставки\nпродлить в декабре"
    page = text_of(admin_client.get(response.headers["Location"]))
    for shown in ("ООО «Вектор»", "Иванов Иван Иванович", "Генеральный директор",
                  "Санкт-Петербург", "30101810500000000653", "+7 812 333-44-55"):
        assert shown in page


def test_a_person_keeps_no_company_requisites(app, admin_client):
    post_form(admin_client, "/counterparties/new",
              counterparty_form(representative_name="Someone", tax_id="7812345678",
                                kpp="bad kpp"))
    [person] = _all(app)
    assert (person.representative_name, person.tax_id, person.kpp) == ("", "", "")


def test_switching_a_company_to_a_person_clears_its_requisites(app, admin_client):
    post_form(admin_client, "/counterparties/new", VEKTOR)
    [company] = _all(app)
    response = post_form(admin_client, f"/counterparties/{company.id}/edit",
                         {**VEKTOR, "kind": "person", "name": "Иван Иванов"})
    assert response.status_code == 302
    [person] = _all(app)
    assert (person.kind, person.name, person.tax_id, person.representative_name) == (
        "person", "Иван Иванов", "", "")


def test_form_hides_company_parts_with_css_only(admin_client):
    page = text_of(admin_client.get("/counterparties/new?kind=company"))
    assert 'class="card party-form"' in page and 'class="company-only"' in page
    assert re.search(r'<input checked[^>]* value="company"', page)
    assert "Full name" in page and "Company name" in page
    assert "<script>" not in page and "style=" not in page


def test_cyrillic_search_ignores_case(app, admin_client):
    _directory(app)
    for query in ("вект", "ВЕКТ", "Вектор", "иванов", "ИВАН"):
        found = _names_in(admin_client.get("/counterparties", query_string={"q": query}))
        assert found == ["ООО «Вектор»"], query


SEARCHES = [
    ("NORTHWIND.example", ["Northwind Trading Ltd"]),
    ("maria.silva@", ["Maria Silva"]),
    ("+7 (812) 333-44-55", ["ООО «Вектор»"]),
    ("3334455", ["ООО «Вектор»"]),
    ("+351", ["Maria Silva"]),
    ("gb123456789", ["Northwind Trading Ltd"]),
    ("7812345678", ["ООО «Вектор»"]),
    ("john northwind", ["Northwind Trading Ltd"]),
    ("", ["Maria Silva", "Northwind Trading Ltd", "ООО «Вектор»"]),
]


def test_search_by_email_phone_and_tax_id(app, admin_client):
    _directory(app)
    for query, expected in SEARCHES:
        found = _names_in(admin_client.get("/counterparties", query_string={"q": query}))
        assert found == expected, query


def test_percent_and_underscore_are_taken_literally(app, admin_client):
    with app.app_context():
        make_counterparty("100% Natural", email="natural@example.com")
        make_counterparty("snake_case Studio", email="snake@example.com")
        make_counterparty("Plain Name", email="plain@example.com")

    def names(query):
        page = text_of(admin_client.get("/counterparties", query_string={"q": query}))
        return [n for n in ("100% Natural", "snake_case Studio", "Plain Name") if n in page]

    assert names("%") == ["100% Natural"]
    assert names("_") == ["snake_case Studio"]
    assert names("e_c") == ["snake_case Studio"]
    assert names("0%") == ["100% Natural"]
    assert names("\\") == []


def test_kind_filter(app, admin_client):
    _directory(app)
    companies = admin_client.get("/counterparties", query_string={"kind": "company"})
    assert _names_in(companies) == ["Northwind Trading Ltd", "ООО «Вектор»"]
    people = admin_client.get("/counterparties", query_string={"kind": "person", "q": "a"})
    assert _names_in(people) == ["Maria Silva"]
    assert admin_client.get("/counterparties?kind=robots").status_code == 200


def test_htmx_gets_the_list_fragment_and_a_browser_the_page(app, admin_client):
    _directory(app)
    fragment = admin_client.get("/counterparties?q=вект", headers=HTMX)
    body = text_of(fragment)
    assert body.lstrip().startswith("{#") is False
    assert body.lstrip().startswith('<div id="counterparty-list"')
    assert "<html" not in body and "ООО «Вектор»" in body and "Maria Silva" not in body
    assert "HX-Request" in fragment.headers["Vary"]

    page = admin_client.get("/counterparties?q=вект")
    html = text_of(page)
    assert "<html" in html and 'id="counterparty-list"' in html
    assert 'hx-get="/counterparties"' in html and 'hx-push-url="true"' in html
    assert 'value="вект"' in html
    assert "HX-Request" in page.headers["Vary"]


def test_long_directory_pages_and_keeps_the_query(app, admin_client):
    with app.app_context():
        for number in range(30):
            make_counterparty(f"Client {number:02d}", email=f"client{number}@example.com")
        make_counterparty("Somebody Else", email="else@example.com")
    first = text_of(admin_client.get("/counterparties?q=client"))
    assert "Client 00" in first and "Client 24" in first and "Client 25" not in first
    assert "30 counterparties" in first and "Page 1 of 2" in first
    assert "/counterparties?q=client&amp;page=2" in first
    second = text_of(admin_client.get("/counterparties?q=client&page=2", headers=HTMX))
    assert "Client 25" in second and "Client 29" in second and "Client 24" not in second
    assert "Somebody Else" not in second
    beyond = admin_client.get("/counterparties?page=99")
    assert beyond.status_code == 200
    assert admin_client.get("/counterparties?page=abc").status_code == 200


def test_bad_email_and_phone_show_field_errors_and_keep_the_typing(app, admin_client):
    response = post_form(admin_client, "/counterparties/new",
                         counterparty_form(name="Ann Lee", email="not-an-email", phone="12"))
    page = text_of(response)
    assert response.status_code == 200
    assert 'id="email-errors"' in page and 'id="phone-errors"' in page
    assert 'value="not-an-email"' in page and 'value="12"' in page and 'value="Ann Lee"' in page
    assert "+7 916 123-45-67" in page
    assert _all(app) == []


def test_phone_typed_with_spaces_and_dashes_is_stored_as_e164(app, admin_client):
    post_form(admin_client, "/counterparties/new",
              counterparty_form(email="", phone=" +7 916 123-45-67 "))
    [person] = _all(app)
    assert person.phone == "+79161234567"


def test_national_phone_numbers_with_a_default_region(make_app):
    app = make_app(SIGNET_PHONE_REGION="RU")
    with app.app_context():
        make_user(email="boss@example.com", is_admin=True)
    client = app.test_client()
    sign_in(client, "boss@example.com")
    post_form(client, "/counterparties/new",
              counterparty_form(email="", phone="8 (916) 123-45-67"))
    [person] = _all(app)
    assert person.phone == "+79161234567"


def test_a_counterparty_needs_an_email_or_a_phone(app, admin_client):
    response = post_form(admin_client, "/counterparties/new",
                         counterparty_form(name="Nobody", email=" ", phone=""))
    page = text_of(response)
    assert response.status_code == 200
    assert 'id="contact-errors"' in page
    assert "Add an email or a phone" in page
    assert _all(app) == []


def test_name_is_required(app, admin_client):
    response = post_form(admin_client, "/counterparties/new", counterparty_form(name=""))
    assert 'id="name-errors"' in text_of(response)
    assert _all(app) == []


def test_duplicate_email_or_tax_id_is_refused_naming_the_holder(app, admin_client):
    _directory(app)
    response = post_form(admin_client, "/counterparties/new",
                         counterparty_form(name="Maria Again", email="Maria.Silva@Example.com"))
    assert response.status_code == 200
    assert "Maria Silva already has this email address." in text_of(response)
    response = post_form(admin_client, "/counterparties/new",
                         {**VEKTOR, "name": "Вектор-2", "email": "new@vektor.example",
                          "tax_id": " 7812345678 "})
    page = text_of(response)
    assert "ООО «Вектор» already has this tax ID." in page
    assert 'value="Вектор-2"' in page
    assert len(_all(app)) == 3


def test_editing_keeps_own_email_and_tax_id(app, admin_client):
    post_form(admin_client, "/counterparties/new", VEKTOR)
    [company] = _all(app)
    form_page = text_of(admin_client.get(f"/counterparties/{company.id}/edit"))
    assert 'value="info@vektor.example"' in form_page
    response = post_form(admin_client, f"/counterparties/{company.id}/edit",
                         {**VEKTOR, "name": "АО «Вектор»"})
    assert response.status_code == 302
    [renamed] = _all(app)
    assert renamed.name == "АО «Вектор»"
    assert "ао «вектор»" in renamed.search_text
    assert _names_in(admin_client.get("/counterparties?q=ао")) == []
    assert "АО «Вектор»" in text_of(admin_client.get("/counterparties?q=ао «в"))


def test_delete_from_the_page(app, admin_client):
    _directory(app)
    maria = next(c for c in _all(app) if c.name == "Maria Silva")
    page = text_of(admin_client.get(f"/counterparties/{maria.id}"))
    assert "data-confirm=" in page
    response = post_form(admin_client, f"/counterparties/{maria.id}/delete")
    assert response.status_code == 302
    assert [c.name for c in _all(app)] == ["Northwind Trading Ltd", "ООО «Вектор»"]
    assert admin_client.get(f"/counterparties/{maria.id}").status_code == 404


def test_delete_from_the_list_with_htmx_removes_the_row(app, admin_client):
    _directory(app)
    maria = next(c for c in _all(app) if c.name == "Maria Silva")
    listing = text_of(admin_client.get("/counterparties"))
    assert f'hx-post="/counterparties/{maria.id}/delete"' in listing
    assert "hx-confirm=" in listing and 'hx-target="closest tr"' in listing
    response = post_form(admin_client, f"/counterparties/{maria.id}/delete", headers=HTMX)
    assert response.status_code == 200
    assert text_of(response) == ""
    assert len(_all(app)) == 2


def test_employee_manages_counterparties(app, employee_client):
    response = post_form(employee_client, "/counterparties/new", counterparty_form())
    assert response.status_code == 302
    [person] = _all(app)
    assert post_form(employee_client, f"/counterparties/{person.id}/edit",
                     counterparty_form(name="Maria S.")).status_code == 302
    assert post_form(employee_client, f"/counterparties/{person.id}/delete").status_code == 302
    assert _all(app) == []
    assert employee_client.get("/companies/new").status_code == 403


def test_anonymous_visitor_is_sent_to_login(app, client):
    with app.app_context():
        person_id = make_counterparty().id
    for url in ("/counterparties", "/counterparties/new", f"/counterparties/{person_id}",
                f"/counterparties/{person_id}/edit"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(f"/counterparties/{person_id}/delete").status_code in (302, 400)
    assert len(_all(app)) == 1


def test_post_without_csrf_token_is_refused(app, admin_client):
    response = admin_client.post("/counterparties/new", data=counterparty_form())
    assert response.status_code == 400
    with app.app_context():
        person_id = make_counterparty(email="x@example.com").id
    assert admin_client.post(f"/counterparties/{person_id}/delete").status_code == 400
    assert len(_all(app)) == 1


def test_empty_directory_invites_to_add_the_first(admin_client):
    page = text_of(admin_client.get("/counterparties"))
    assert "No counterparties yet" in page and "Add the first counterparty" in page


def test_no_match_says_so_and_offers_a_way_back(app, admin_client):
    _directory(app)
    page = text_of(admin_client.get("/counterparties?q=zzz", headers=HTMX))
    assert "Nothing matches “zzz”." in page and "Show everyone" in page


def test_bad_kind_or_unknown_ids_never_fail(app, admin_client):
    response = post_form(admin_client, "/counterparties/new", counterparty_form(kind="robot"))
    assert response.status_code == 200 and _all(app) == []
    assert admin_client.get("/counterparties/424242").status_code == 404
    assert admin_client.get("/counterparties/424242/edit").status_code == 404
    assert post_form(admin_client, "/counterparties/424242/delete").status_code == 404
