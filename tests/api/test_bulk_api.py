"""Bulk send through the API: a batch from JSON rows or a file, every bad input refused with
its message and nothing kept, and a good batch sent to the end (jobs run in-process)."""

import json
from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal.auth.models import Role, RoleGrant
from portal.bulk.models import BulkBatch
from portal.documents.models import Document
from portal.extensions import db
from tests.api.support import Api, error_of, make_token
from tests.documents.support import make_template, signet_company
from tests.factories import make_user

URL = "/api/v1/bulk/batches"
MARIA = {"name": "Maria Silva", "email": "maria@example.com", "amount": 1500, "place": "Lisboa"}
IVAN = {"name": "Ivan Petrov", "email": "ivan@example.com", "amount": "2500.50",
        "place": "Moscow"}


@pytest.fixture
def api(app, employee):
    return Api(app.test_client(), make_token(app, employee["id"]))


@pytest.fixture
def ids(app):
    with app.app_context():
        return {"template_id": make_template().id, "company_id": signet_company().id}


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def _create(api, ids, rows, **options):
    return api.post(URL, json={**ids, "rows": rows, **options})


def test_json_rows_confirmed_at_once_are_created_and_sent(app, api, ids):
    response = _create(api, ids, [MARIA, IVAN], confirm=True)
    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    assert response.headers["Location"].endswith(f"{URL}/{batch['id']}")
    assert batch["status"] == "done" and batch["counts"]["sent"] == 2
    assert batch["mapping"]["email"] == "email"  # each key taken by its name
    assert [row["row"] for row in batch["rows"]["items"]] == [1, 2]
    assert all(row["document_number"] and row["status"] == "sent"
               for row in batch["rows"]["items"])
    with app.app_context():
        documents = db.session.scalars(select(Document)).all()
        clients = sorted(d.parties_with_role("client")[0].email for d in documents)
        assert clients == ["ivan@example.com", "maria@example.com"]
        assert all(document.sent_at for document in documents)

    again = api.get(f"{URL}/{batch['id']}?status=sent&per_page=1&page=2")
    page = again.get_json()["rows"]
    assert (page["total"], page["pages"], page["items"][0]["row"]) == (2, 2, 2)


def test_a_file_is_checked_confirmed_with_invalid_rows_skipped_and_confirmed_once(
        app, api, ids):
    text = ("Name;Email;Amount;Place\nMaria Silva;maria@example.com;1500;Lisboa\n"
            "Bad Row;not-an-email;100;Porto\n")
    form = {"file": (BytesIO(text.encode("cp1251")), "clients.csv"),
            "template_id": str(ids["template_id"]), "company_id": str(ids["company_id"])}
    response = api.post(URL, data=form, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    assert (batch["status"], batch["counts"]["valid"], batch["counts"]["invalid"]) == (
        "validated", 1, 1)
    [bad] = api.get(f"{URL}/{batch['id']}?status=invalid").get_json()["rows"]["items"]
    assert bad["row"] == 3 and "email" in bad["errors"]
    assert _count(app, Document) == 0  # nothing before the confirmation

    refused = api.post(f"{URL}/{batch['id']}/confirm", json={})
    assert refused.status_code == 422 and "1 row has errors" in error_of(refused)["message"]
    confirmed = api.post(f"{URL}/{batch['id']}/confirm", json={"skip_invalid": True})
    assert confirmed.status_code == 200, confirmed.get_json()
    counts = confirmed.get_json()["counts"]
    assert (counts["sent"], counts["skipped"], confirmed.get_json()["status"]) == (1, 1, "done")
    twice = api.post(f"{URL}/{batch['id']}/confirm", json={"skip_invalid": True})
    assert twice.status_code == 409 and "already" in error_of(twice)["message"]
    assert _count(app, Document) == 1
    retried = api.post(f"{URL}/{batch['id']}/retry")
    assert retried.status_code == 200 and retried.get_json()["retried"] == 0


def test_bad_rows_to_confirm_at_once_are_each_named_and_nothing_is_kept(app, api, ids):
    rows = [MARIA, {**MARIA, "name": "Maria Again"}, {"name": "Bad", "email": "not-an-email",
                                                      "amount": 1, "place": "Porto"}]
    response = _create(api, ids, rows, confirm=True)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "rows_invalid" and "2 rows have errors" in error["message"]
    assert "row 1" in error["fields"]["rows[2].email"]  # the duplicate names the first
    assert set(error["fields"]) == {"rows[2].email", "rows[3].email"}
    assert _count(app, BulkBatch) == 0 and _count(app, Document) == 0


@pytest.mark.parametrize(("body", "status", "field_or_text"), [
    ("{not json", 400, "not valid JSON"),
    ('{"rows": [{"name": "Maria"}]}', 422, "template_id"),
    ('{"template_id": 1, "company_id": 1, "rows": {"name": "x"}}', 422, "rows"),
    ('{"template_id": 1, "company_id": 1, "rows": [], "confirm": "maybe"}', 422, "confirm"),
    ('{"template_id": 1, "company_id": 1, "rows": [], "mapping": [1]}', 422, "mapping"),
])
def test_a_malformed_request_is_refused_with_its_message(app, api, body, status, field_or_text):
    response = api.post(URL, data=body, content_type="application/json")
    assert response.status_code == status
    error = error_of(response)
    assert field_or_text in (error.get("fields") or {}) or field_or_text in error["message"]
    assert _count(app, BulkBatch) == 0


@pytest.mark.parametrize(("rows", "text"), [
    ([], "at least one row"),
    (["Maria"], "Row 1 is not an object"),
    ([MARIA, {"name": {"first": "Ivan"}}], "Row 2, “name”: give text or a number"),
    ([{"name": "x" * 2001}], "Row 1: a value is longer than 2000"),
    ([{f"key{n}": n for n in range(101)}], "more than 100 different keys"),
])
def test_rows_that_cannot_be_read_are_refused(app, api, ids, rows, text):
    response = _create(api, ids, rows)
    assert response.status_code == 422 and text in error_of(response)["message"]
    assert _count(app, BulkBatch) == 0


def test_too_many_rows_unknown_template_and_a_huge_body_are_refused(app, api, ids):
    app.config["SIGNET_BULK_MAX_ROWS"] = 2
    too_many = _create(api, ids, [MARIA, IVAN, MARIA])
    assert too_many.status_code == 422
    assert "at most 2" in error_of(too_many)["message"]

    unknown = _create(api, {**ids, "template_id": 999_999}, [MARIA])
    assert unknown.status_code == 422 and "template" in error_of(unknown)["message"]

    app.config["SIGNET_BULK_MAX_BYTES"] = 1000
    huge = api.post(URL, data=json.dumps({**ids, "rows": [MARIA] * 2000}),
                    content_type="application/json")
    assert huge.status_code == 413 and "MB" in error_of(huge)["message"]
    assert _count(app, BulkBatch) == 0


def test_a_file_that_is_not_a_spreadsheet_is_refused_with_the_readers_message(app, api, ids):
    form = {"file": (BytesIO(b"%PDF-1.7 not a sheet"), "clients.pdf"),
            "template_id": str(ids["template_id"]), "company_id": str(ids["company_id"])}
    response = api.post(URL, data=form, content_type="multipart/form-data")
    assert response.status_code == 422 and "CSV or XLSX" in error_of(response)["message"]
    no_file = api.post(URL, data={"template_id": "1", "company_id": "1"},
                       content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in error_of(no_file)["fields"]
    assert _count(app, BulkBatch) == 0


def test_with_russian_accept_language_the_message_is_translated(api, ids):
    response = api.client.post(URL, json={**ids, "rows": ["x"]},
                               headers={**api.headers, "Accept-Language": "ru"})
    assert response.status_code == 422
    assert error_of(response)["message"] == "Строка 1 — не объект ({...})."


def test_another_users_batch_is_not_found_and_a_reader_may_not_send_in_bulk(app, api, ids):
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True)
        reader = make_user(email="reader@example.com", name="Reader")
        reader.roles = [Role(name="Reader", grants=[
            RoleGrant(section="documents", action="view", scope="all")])]
        db.session.commit()
        boss_id, reader_id = boss.id, reader.id
    boss_api = Api(app.test_client(), make_token(app, boss_id))
    batch_id = _create(boss_api, ids, [MARIA]).get_json()["id"]
    for method, path in (("get", ""), ("post", "/confirm"), ("post", "/cancel"),
                         ("post", "/retry")):
        response = getattr(api, method)(f"{URL}/{batch_id}{path}")
        assert response.status_code == 404, (path, response.get_json())
    assert api.get(f"{URL}/99999999999").status_code == 404

    reader_api = Api(app.test_client(), make_token(app, reader_id))
    refused = _create(reader_api, ids, [MARIA])
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert reader_api.get(f"{URL}/{batch_id}").status_code == 403
    assert _count(app, BulkBatch) == 1


def test_a_batch_can_be_remapped_then_cancelled_and_nothing_is_sent(app, api, ids):
    rows = [{"Who": "Maria Silva", "Where to write": "maria@example.com", "Money": "1500",
             "Town": "Lisboa"}]
    batch = _create(api, ids, rows).get_json()
    assert batch["counts"]["invalid"] == 1
    bad = api.put(f"{URL}/{batch['id']}/mapping", json={"mapping": {"email": "No such"}})
    assert bad.status_code == 422
    remapped = api.put(f"{URL}/{batch['id']}/mapping", json={"mapping": {
        "name": "Who", "email": "Where to write", "amount": "Money", "place": "Town"}})
    assert remapped.status_code == 200, remapped.get_json()
    assert remapped.get_json()["counts"]["valid"] == 1
    assert remapped.get_json()["mapping"]["email"] == "Where to write"

    cancelled = api.post(f"{URL}/{batch['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert api.post(f"{URL}/{batch['id']}/confirm").status_code == 409
    assert api.post(f"{URL}/{batch['id']}/cancel").status_code == 409
    assert _count(app, Document) == 0


def test_values_for_every_row_fill_what_rows_leave_empty_and_bad_ones_are_named(app, api, ids):
    without_place = [{key: value for key, value in MARIA.items() if key != "place"}]
    refused = _create(api, ids, without_place, values={"currency": "euros"})
    assert refused.status_code == 422
    assert "three-letter" in json.dumps(refused.get_json(), ensure_ascii=False)
    assert _count(app, BulkBatch) == 0

    response = _create(api, ids, [*without_place, IVAN], confirm=True,
                       values={"place": "Porto", "currency": "eur"})
    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    assert batch["values"] == {"place": "Porto", "currency": "EUR"}
    with app.app_context():
        places = {d.parties_with_role("client")[0].email: d.variables["place"]
                  for d in db.session.scalars(select(Document))}
    assert places == {"maria@example.com": "Porto", "ivan@example.com": "Moscow"}
