"""The bulk send pages through the test client: upload, check, confirm, follow, download."""

import csv
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.auth.models import Role, RoleGrant
from portal.bulk.models import BulkBatch, BulkRow
from portal.bulk.overview import example_csv
from portal.bulk.rows import suggest_mapping
from portal.bulk.sheet import read_sheet
from portal.documents.models import Document
from portal.extensions import db
from tests.documents.support import make_template, signet_company
from tests.factories import make_counterparty, make_user
from tests.helpers import post_form, sign_in

CP1251_CSV = ("ФИО;Почта;Телефон;Сумма;Место\n"
              "Иванов Иван Иванович;ivan@example.com;;1 500,50;г. Москва\n"
              "Мария Силва;maria@example.com;;2500;Лиссабон\n"
              "Без почты;not-an-email;;100;Порто\n"
              "Иванов дубль;ivan@example.com;;100;Тверь\n").encode("cp1251")


def _setup(app) -> tuple[int, int]:
    with app.app_context():
        company, template = signet_company(), make_template()
        make_counterparty(name="Мария Силва (справочник)", email="maria@example.com")
        return company.id, template.id


def _upload(client, company_id, template_id, data: bytes, filename="clients.csv"):
    return post_form(client, "/bulk/new", {
        "template_id": str(template_id), "company_id": str(company_id),
        "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def _batch_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(BulkBatch.id).order_by(BulkBatch.id.desc()))


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_cp1251_sheet_is_checked_row_by_row_then_sent_once(app, admin_client):
    company_id, template_id = _setup(app)
    page = admin_client.get(f"/bulk/new?template={template_id}").get_data(as_text=True)
    assert f'selected value="{template_id}"' in page and "/bulk/example.csv" in page

    uploaded = _upload(admin_client, company_id, template_id, CP1251_CSV)
    assert uploaded.status_code == 303
    batch_id = _batch_id(app)
    check = admin_client.get(f"/bulk/{batch_id}")
    html = check.get_data(as_text=True)
    assert check.status_code == 200
    assert "Иванов Иван Иванович" in html and 'id="row-4" class="row-invalid"' in html
    assert "The same as in row 2" in html  # the duplicate names the earlier row
    assert "matched Мария Силва (справочник)" in html
    assert "new client will be created" in html
    assert "Send 2, skip 2 invalid" in html
    assert '<option value="0" selected>ФИО</option>' in html  # the suggested mapping
    assert _count(app, Document) == 0  # nothing is created before the confirmation

    preview = admin_client.get(f"/bulk/{batch_id}/preview", headers={"HX-Request": "true"})
    assert preview.status_code == 200 and "data:image/" in preview.get_data(as_text=True)
    pdf = admin_client.get(f"/bulk/{batch_id}/preview.pdf")
    assert pdf.data.startswith(b"%PDF") and _count(app, Document) == 0

    confirmed = post_form(admin_client, f"/bulk/{batch_id}/confirm", {"skip_invalid": "1"})
    assert confirmed.status_code == 303
    batch_page = admin_client.get(f"/bulk/{batch_id}").get_data(as_text=True)
    assert "Sending 2 documents." in batch_page  # the in-process jobs ran to the end
    assert 'id="batch-status">done' in batch_page and "hx-trigger" not in batch_page
    with app.app_context():
        numbers = db.session.scalars(select(Document.number)).all()
    assert len(numbers) == 2 and all(number in batch_page for number in numbers)

    again = post_form(admin_client, f"/bulk/{batch_id}/confirm", {"skip_invalid": "1"},
                      follow_redirects=True)
    assert "already confirmed; nothing was sent twice" in again.get_data(as_text=True)
    assert _count(app, Document) == 2

    listing = admin_client.get("/bulk/").get_data(as_text=True)
    assert f"/bulk/{batch_id}" in listing and "clients.csv" in listing


def test_remap_checks_the_rows_again_and_a_column_used_twice_is_refused(app, admin_client):
    company_id, template_id = _setup(app)
    data = b"Who;Where;Money;Town\nMaria;maria@example.com;1500;Lisboa\n"
    _upload(admin_client, company_id, template_id, data)
    batch_id = _batch_id(app)
    assert 'id="row-2" class="row-invalid"' in admin_client.get(f"/bulk/{batch_id}").text

    twice = post_form(admin_client, f"/bulk/{batch_id}/mapping",
                      {"map-name": "0", "map-email": "0"})
    assert twice.status_code == 422
    assert "Each column can be used for one field only." in twice.text
    remapped = post_form(admin_client, f"/bulk/{batch_id}/mapping", {
        "map-name": "0", "map-email": "1", "map-amount": "2", "map-place": "3", "map-kind": ""},
        follow_redirects=True)
    assert remapped.status_code == 200
    assert "row-invalid" not in remapped.text and "Send 1 document" in remapped.text
    with app.app_context():
        assert db.session.get(BulkBatch, batch_id).mapping == {
            "name": 0, "email": 1, "amount": 2, "place": 3}


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"%PDF-1.7 not a sheet", "clients.pdf", "is not a CSV or XLSX spreadsheet"),
    (b"PK\x03\x04broken", "clients.xlsx", "is damaged"),
    (b"", "clients.csv", "Choose the spreadsheet to upload."),
])
def test_a_bad_file_is_refused_on_the_form_and_nothing_is_kept(app, admin_client, data,
                                                                filename, message):
    company_id, template_id = _setup(app)
    if data:
        refused = _upload(admin_client, company_id, template_id, data, filename)
    else:
        refused = post_form(admin_client, "/bulk/new", {
            "template_id": str(template_id), "company_id": str(company_id)})
    assert refused.status_code == 422
    assert message in refused.text and 'id="bulk-upload-form"' in refused.text
    assert _count(app, BulkBatch) == 0


def test_a_file_over_the_limits_gets_the_message_not_a_bare_error(app, admin_client):
    company_id, template_id = _setup(app)
    app.config["SIGNET_BULK_MAX_BYTES"] = 1024
    over_sheet_limit = _upload(admin_client, company_id, template_id,
                               b"Name,Email\n" + b"x,y@example.com\n" * 200)
    assert over_sheet_limit.status_code == 422
    assert "larger than" in over_sheet_limit.text and "bulk-upload-form" in over_sheet_limit.text

    app.config["MAX_CONTENT_LENGTH"] = 8 * 1024
    over_request_limit = _upload(admin_client, company_id, template_id, b"x" * 20_000)
    assert over_request_limit.status_code == 422
    assert "larger than" in over_request_limit.text
    assert 'id="bulk-upload-form"' in over_request_limit.text
    assert _count(app, BulkBatch) == 0


def test_another_users_batch_is_not_found_and_without_permission_forbidden(
        app, admin_client, employee_client):
    company_id, template_id = _setup(app)
    _upload(admin_client, company_id, template_id, CP1251_CSV)
    batch_id = _batch_id(app)
    for url in (f"/bulk/{batch_id}", f"/bulk/{batch_id}/results.csv",
                f"/bulk/{batch_id}/progress", f"/bulk/{batch_id}/preview"):
        assert employee_client.get(url).status_code == 404, url
    assert post_form(employee_client, f"/bulk/{batch_id}/confirm",
                     {"skip_invalid": "1"}).status_code == 404
    assert _count(app, Document) == 0
    assert employee_client.get("/bulk/").status_code == 200  # their own list, empty
    assert f"/bulk/{batch_id}" not in employee_client.get("/bulk/").text

    with app.app_context():
        reader = make_user(email="reader@example.com", name="Reader")
        reader.roles = [Role(name="Reader", grants=[
            RoleGrant(section="documents", action="view", scope="all")])]
        db.session.commit()
    reading = app.test_client()
    sign_in(reading, "reader@example.com")
    for url in ("/bulk/", "/bulk/new", f"/bulk/{batch_id}", "/bulk/example.csv"):
        assert reading.get(url).status_code == 403, url
    assert "/bulk/" not in reading.get("/").text  # no link to what they may not do
    app.config["MAX_CONTENT_LENGTH"] = 1024
    assert _upload(reading, company_id, template_id, b"x" * 4096).status_code == 403
    assert app.test_client().get("/bulk/").status_code == 302  # signed out: the login


def test_a_form_without_its_csrf_token_is_refused(app, admin_client):
    company_id, template_id = _setup(app)
    _upload(admin_client, company_id, template_id, CP1251_CSV)
    batch_id = _batch_id(app)
    assert admin_client.post(f"/bulk/{batch_id}/confirm",
                             data={"skip_invalid": "1"}).status_code == 400
    assert _count(app, Document) == 0


def test_results_download_as_csv_and_xlsx_with_formulas_neutralised(app, admin_client):
    company_id, template_id = _setup(app)
    data = (b'Name,Email,Amount,Place\n"=HYPERLINK(""http://x"")",evil@example.com,10,@SUM(A1)\n'
            b"Ann,ann@example.com,20,Porto\n")
    _upload(admin_client, company_id, template_id, data)
    batch_id = _batch_id(app)
    post_form(admin_client, f"/bulk/{batch_id}/confirm", {})

    as_csv = admin_client.get(f"/bulk/{batch_id}/results.csv")
    assert as_csv.status_code == 200 and "attachment" in as_csv.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert lines[0][:2] == ["row", "status"] and lines[1][2] == "'=HYPERLINK(\"http://x\")"
    assert [line[1] for line in lines[1:]] == ["sent", "sent"]
    as_xlsx = admin_client.get(f"/bulk/{batch_id}/results.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.data)).active
    assert sheet["C2"].value == "'=HYPERLINK(\"http://x\")" and sheet["C2"].data_type == "s"


def test_retry_and_cancel_answer_with_a_notice(app, admin_client):
    company_id, template_id = _setup(app)
    _upload(admin_client, company_id, template_id, CP1251_CSV)
    batch_id = _batch_id(app)
    nothing = post_form(admin_client, f"/bulk/{batch_id}/retry", {}, follow_redirects=True)
    assert "Only a confirmed batch has rows to retry." in nothing.text
    cancelled = post_form(admin_client, f"/bulk/{batch_id}/cancel", {}, follow_redirects=True)
    assert "The batch was cancelled." in cancelled.text
    assert "Retry failed rows" not in cancelled.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(
            BulkRow.batch_id == batch_id, BulkRow.status == "skipped")) == 4
    assert _count(app, Document) == 0


def test_the_example_file_reads_back_with_every_column_recognised(app, admin_client):
    _setup(app)
    for language in ("en", "ru", "pt"):
        answer = admin_client.get("/bulk/example.csv", headers={"Accept-Language": language})
        assert answer.status_code == 200 and answer.data.startswith(b"\xef\xbb\xbf")
        with app.test_request_context(headers={"Accept-Language": language}):
            sheet = read_sheet(answer.data, "example.csv")
            mapped = suggest_mapping(sheet.headers).values()
            assert sorted(mapped) == list(range(len(sheet.headers)))
            assert sheet.rows[1][0] == "company"
    with app.test_request_context():
        assert example_csv().splitlines()[0].startswith("Kind,Name,Email")


def test_the_entry_points_link_to_bulk_send(app, admin_client):
    _company_id, template_id = _setup(app)
    assert "/bulk/" in admin_client.get("/").text
    assert f"/bulk/new?template={template_id}" in admin_client.get(
        f"/templates/{template_id}").text
    assert "/bulk/new" in admin_client.get("/documents/new").text
