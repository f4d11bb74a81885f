"""Our companies: requisites, default signer, stamp; administrators manage them."""

import random
from io import BytesIO

import pytest
from PIL import Image

from portal.extensions import db
from portal.parties.models import Company
from portal.storage.models import Blob
from tests.factories import make_company, make_user
from tests.helpers import post_form, sign_in, text_of
from tests.parties.support import company_form, image_bytes, stamp_png, upload


def _only_company(app) -> Company:
    with app.app_context():
        companies = db.session.execute(db.select(Company)).scalars().all()
        assert len(companies) == 1
        db.session.expunge_all()
        return companies[0]


def _company_count(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(Company)).scalar()


def test_admin_creates_a_company_with_full_requisites(app, admin_client):
    response = post_form(admin_client, "/companies/new", company_form())
    assert response.status_code == 302
    company = _only_company(app)
    assert response.headers["Location"].endswith(f"/companies/{company.id}")
    assert company.legal_name == "Signet Demo LLC"
    assert (company.kpp, company.bank_code, company.bank_account) == (
        "770701001", "044525225", "40702810900000000001")
    assert company.phone == "+74951234567"
    assert company.signer_phone == "+79161234567"

    page = text_of(admin_client.get(response.headers["Location"]))
    for shown in ("Signet Demo LLC", "7707083893", "770701001", "1027700132195",
                  "PJSC Sberbank", "30101810400000000225", "Anna Petrova", "Director",
                  "+7 916 123-45-67", "Company “Signet Demo” saved."):
        assert shown in page
    listing = text_of(admin_client.get("/companies"))
    assert "Signet Demo" in listing and "Anna Petrova" in listing


def test_foreign_requisites_are_accepted_and_compacted(app, admin_client):
    response = post_form(admin_client, "/companies/new", company_form(
        legal_name="Signet Portugal, Lda", tax_id="pt 123 456 789", kpp="",
        registration_number="NIPC 123456789", bank_account="PT50 0002 0123 1234 5678 9015 4",
        correspondent_account="", bank_code="bcompt pl", signer_phone="+351 912 345 678",
        signer_email=""))
    assert response.status_code == 302
    company = _only_company(app)
    assert company.tax_id == "PT123456789"
    assert company.bank_account == "PT50000201231234567890154"
    assert company.bank_code == "BCOMPTPL"
    assert company.registration_number == "NIPC 123456789"
    assert company.signer_phone == "+351912345678"


def test_admin_edits_a_company(app, admin_client):
    with app.app_context():
        company_id = make_company(signer_email="old@example.com").id
    form_page = text_of(admin_client.get(f"/companies/{company_id}/edit"))
    assert 'value="Acme LLC"' in form_page and 'value="old@example.com"' in form_page
    response = post_form(admin_client, f"/companies/{company_id}/edit",
                         company_form(legal_name="Acme Holdings LLC", tax_id="7812345678"))
    assert response.status_code == 302
    company = _only_company(app)
    assert (company.legal_name, company.tax_id, company.signer_email) == (
        "Acme Holdings LLC", "7812345678", "director@signet-demo.example")


def test_admin_deletes_a_company_after_confirmation(app, admin_client):
    with app.app_context():
        company_id = make_company().id
    page = text_of(admin_client.get(f"/companies/{company_id}"))
    assert "data-confirm=" in page
    response = post_form(admin_client, f"/companies/{company_id}/delete")
    assert response.status_code == 302
    assert _company_count(app) == 0
    listing = text_of(admin_client.get("/companies"))
    assert "No companies yet" in listing and "Add your company" in listing
    assert admin_client.get(f"/companies/{company_id}").status_code == 404


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"legal_name": "  "}, "legal_name", "This field is required."),
    ({"signer_name": ""}, "signer_name", "This field is required."),
    ({"kpp": "12345"}, "kpp", "A KPP has 9 characters"),
    ({"tax_id": "1" * 40}, "tax_id", "at most 32 characters, this has 40"),
    ({"bank_code": "04452522#"}, "bank_code", "BARCGB22"),
    ({"signer_email": "not-an-email"}, "signer_email", "valid email address"),
    ({"phone": "12"}, "phone", "+351 912 345 678"),
])
def test_bad_values_show_field_errors_and_keep_the_form(app, admin_client, changes, field,
                                                        message):
    data = company_form(**changes)
    response = post_form(admin_client, "/companies/new", data)
    page = text_of(response)
    assert response.status_code == 200
    assert f'id="{field}-errors"' in page
    assert message in page
    assert 'value="Anna Petrova"' in page or field == "signer_name"
    assert _company_count(app) == 0


def test_signer_needs_an_email_or_a_phone(app, admin_client):
    response = post_form(admin_client, "/companies/new",
                         company_form(signer_email="", signer_phone=""))
    assert response.status_code == 200
    assert "The signer needs an email or a phone" in text_of(response)
    assert _company_count(app) == 0


def test_stamp_with_transparency_is_stored_and_served_unchanged(app, admin_client):
    png = stamp_png()
    response = post_form(admin_client, "/companies/new",
                         company_form(stamp=upload(png, "stamp.png")))
    assert response.status_code == 302
    company = _only_company(app)
    assert company.stamp_sha256
    page = text_of(admin_client.get(f"/companies/{company.id}"))
    assert f"/companies/{company.id}/stamp" in page

    served = admin_client.get(f"/companies/{company.id}/stamp")
    assert served.status_code == 200
    assert served.data == png
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(BytesIO(served.data)) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((80, 80))[3] == 0  # the middle stays transparent


def test_jpeg_stamp_is_served_as_jpeg(app, admin_client):
    jpeg = image_bytes("JPEG")
    post_form(admin_client, "/companies/new",
              company_form(stamp=upload(jpeg, "STAMP.JPG")))
    company = _only_company(app)
    served = admin_client.get(f"/companies/{company.id}/stamp")
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.data == jpeg


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"just some text, honestly", "stamp.png", "not a PNG or JPEG image"),
    (image_bytes("GIF"), "stamp.gif", "not a PNG or JPEG image"),
    (image_bytes("GIF"), "stamp.png", "not a PNG or JPEG image"),
    (image_bytes("PNG", size=(2001, 10)), "wide.png", "2001×10 pixels"),
    (stamp_png()[:300], "cut.png", "damaged or incomplete"),
])
def test_unusable_stamps_are_refused_with_a_clear_message(app, admin_client, data, filename,
                                                          message):
    response = post_form(admin_client, "/companies/new",
                         company_form(stamp=upload(data, filename)))
    page = text_of(response)
    assert response.status_code == 200
    assert 'id="stamp-errors"' in page and message in page
    assert 'value="Signet Demo LLC"' in page
    assert _company_count(app) == 0
    with app.app_context():
        assert db.session.execute(db.select(Blob)).first() is None


def test_stamp_larger_than_the_limit_is_refused(make_app):
    app = make_app(SIGNET_STAMP_MAX_BYTES=2048)
    with app.app_context():
        make_user(email="boss@example.com", is_admin=True)
    client = app.test_client()
    sign_in(client, "boss@example.com")
    noise = Image.frombytes("RGB", (100, 100), random.Random(7).randbytes(100 * 100 * 3))
    buffer = BytesIO()
    noise.save(buffer, "PNG")  # noise does not compress: ~30 KB
    big = buffer.getvalue()
    assert len(big) > 2048
    response = post_form(client, "/companies/new", company_form(stamp=upload(big, "big.png")))
    page = text_of(response)
    assert response.status_code == 200
    assert "larger than 2 KB" in page
    assert _company_count(app) == 0


def test_stamp_can_be_replaced_and_removed(app, admin_client):
    post_form(admin_client, "/companies/new",
              company_form(stamp=upload(stamp_png(), "stamp.png")))
    company = _only_company(app)
    second = stamp_png(size=(200, 120))
    post_form(admin_client, f"/companies/{company.id}/edit",
              company_form(stamp=upload(second, "new.png")))
    assert admin_client.get(f"/companies/{company.id}/stamp").data == second

    edit_page = text_of(admin_client.get(f"/companies/{company.id}/edit"))
    assert "Remove the current stamp" in edit_page
    post_form(admin_client, f"/companies/{company.id}/edit", company_form(remove_stamp="y"))
    assert _only_company(app).stamp_sha256 is None
    assert admin_client.get(f"/companies/{company.id}/stamp").status_code == 404
    assert "No stamp uploaded." in text_of(admin_client.get(f"/companies/{company.id}"))


def test_stamp_removal_button_on_the_company_page(app, admin_client):
    post_form(admin_client, "/companies/new",
              company_form(stamp=upload(stamp_png(), "stamp.png")))
    company = _only_company(app)
    response = post_form(admin_client, f"/companies/{company.id}/stamp/delete")
    assert response.status_code == 302
    assert _only_company(app).stamp_sha256 is None


def test_editing_without_a_new_upload_keeps_the_stamp(app, admin_client):
    png = stamp_png()
    post_form(admin_client, "/companies/new", company_form(stamp=upload(png, "stamp.png")))
    company = _only_company(app)
    post_form(admin_client, f"/companies/{company.id}/edit", company_form(short_name="Demo"))
    assert _only_company(app).stamp_sha256 == company.stamp_sha256


def test_employee_reads_companies_but_cannot_change_them(app, employee_client):
    with app.app_context():
        company_id = make_company().id
    assert employee_client.get("/companies").status_code == 200
    page = text_of(employee_client.get(f"/companies/{company_id}"))
    assert "Acme LLC" in page and "Delete company" not in page
    assert employee_client.get("/companies/new").status_code == 403
    assert post_form(employee_client, "/companies/new", company_form()).status_code == 403
    assert employee_client.get(f"/companies/{company_id}/edit").status_code == 403
    assert post_form(employee_client, f"/companies/{company_id}/edit",
                     company_form()).status_code == 403
    assert post_form(employee_client, f"/companies/{company_id}/delete").status_code == 403
    assert _company_count(app) == 1


def test_anonymous_visitor_is_sent_to_login(app, client):
    with app.app_context():
        company_id = make_company().id
    for url in ("/companies", "/companies/new", f"/companies/{company_id}",
                f"/companies/{company_id}/stamp"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_post_without_csrf_token_is_refused(app, admin_client):
    response = admin_client.post("/companies/new", data=company_form())
    assert response.status_code == 400
    assert _company_count(app) == 0


def test_missing_things_are_404_not_500(app, admin_client):
    with app.app_context():
        company_id = make_company().id
    assert admin_client.get("/companies/999999").status_code == 404
    assert admin_client.get(f"/companies/{company_id}/stamp").status_code == 404
    assert post_form(admin_client, "/companies/999999/delete").status_code == 404


def test_empty_list_invites_the_admin_to_add_a_company(admin_client):
    page = text_of(admin_client.get("/companies"))
    assert "No companies yet" in page and "/companies/new" in page


def test_a_bad_stamp_is_reported_with_the_other_mistakes(app, admin_client):
    response = post_form(admin_client, "/companies/new", company_form(
        kpp="12", signer_email="", signer_phone="", stamp=upload(b"GIF89a...", "s.png")))
    page = text_of(response)
    assert 'id="kpp-errors"' in page and 'id="stamp-errors"' in page
    assert "The signer needs an email or a phone" in page
    assert _company_count(app) == 0


def test_a_good_stamp_must_be_chosen_again_after_other_errors(app, admin_client):
    response = post_form(admin_client, "/companies/new",
                         company_form(kpp="12", stamp=upload(stamp_png(), "stamp.png")))
    page = text_of(response)
    assert "Choose the stamp image again" in page and 'id="stamp-errors"' not in page
    with app.app_context():
        assert db.session.execute(db.select(Blob)).first() is None
