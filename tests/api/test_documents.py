"""A draft's life through the API: list, read, parties, fields, send, stop, status, PDFs."""

import pytest

from portal.audit.service import events_for
from portal.documents.models import Document
from portal.extensions import db
from tests.api.support import (
    Api,
    error_of,
    make_draft,
    make_token,
    one_page_pdf,
    parties_for_sending,
    signature_fields,
)
from tests.factories import make_document_row, make_user


@pytest.fixture
def api(app, employee):
    return Api(app.test_client(), make_token(app, employee["id"]))


@pytest.fixture
def draft_id(app, employee):
    with app.app_context():
        return make_draft(employee["id"], title="Act of completed work")


def _prepared(api, draft_id) -> dict:
    """Parties and one signature each: ready to send."""
    document = api.put(f"/api/v1/documents/{draft_id}/parties",
                       json={"parties": parties_for_sending()}).get_json()
    response = api.put(f"/api/v1/documents/{draft_id}/fields",
                       json={"fields": signature_fields(document["parties"])})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_list_shows_only_the_users_documents_with_paging(app, api, employee):
    with app.app_context():
        other_id = make_user(email="other@example.com", name="Olga").id
        make_document_row(other_id, title="Not yours")
        for number in range(3):
            make_document_row(employee["id"], title=f"Mine {number}",
                              stage="draft" if number else "stopped")
    body = api.get("/api/v1/documents?per_page=2").get_json()
    assert body["total"] == 3 and body["pages"] == 2 and body["page"] == 1
    assert len(body["items"]) == 2
    titles = {item["title"] for item in body["items"]}
    titles |= {item["title"] for item in api.get("/api/v1/documents?page=2&per_page=2")
               .get_json()["items"]}
    assert titles == {"Mine 0", "Mine 1", "Mine 2"}
    stopped = api.get("/api/v1/documents?stage=stopped").get_json()
    assert [item["title"] for item in stopped["items"]] == ["Mine 0"]


@pytest.mark.parametrize("query, field", [
    ("stage=nonsense", "stage"), ("page=0", "page"), ("per_page=1000", "per_page"),
    ("page=abc", "page"),
])
def test_bad_list_parameters_are_named(api, query, field):
    response = api.get(f"/api/v1/documents?{query}")
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_a_document_reads_with_its_details(api, draft_id):
    response = api.get(f"/api/v1/documents/{draft_id}")
    assert response.status_code == 200
    document = response.get_json()
    assert document["stage"] == "draft" and document["title"] == "Act of completed work"
    assert document["company"]["name"] == "Acme LLC"
    assert document["deadline"].endswith("Z") and document["sent_at"] is None
    assert len(document["source_sha256"]) == 64 and document["final_sha256"] is None
    assert document["links"]["source_pdf"] == f"/api/v1/documents/{draft_id}/source.pdf"
    assert document["parties"] == [] and document["fields"] == []


def test_another_users_document_is_not_found(app, api):
    with app.app_context():
        other_id = make_user(email="other@example.com", name="Olga").id
        foreign_id = make_draft(other_id)
    for response in (
        api.get(f"/api/v1/documents/{foreign_id}"),
        api.get(f"/api/v1/documents/{foreign_id}/source.pdf"),
        api.put(f"/api/v1/documents/{foreign_id}/parties", json=parties_for_sending()),
        api.post(f"/api/v1/documents/{foreign_id}/send"),
        api.get("/api/v1/documents/999999"),
        api.get("/api/v1/documents/99999999999999999999"),
    ):
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    with app.app_context():
        assert db.session.get(Document, foreign_id).parties == []


def test_parties_fields_send_and_status(app, api, draft_id):
    document = _prepared(api, draft_id)
    assert [p["role"] for p in document["parties"]] == ["company", "client"]
    assert [f["type"] for f in document["fields"]] == ["signature", "signature"]

    response = api.post(f"/api/v1/documents/{draft_id}/send")
    assert response.status_code == 200, response.get_json()
    sent = response.get_json()
    assert sent["stage"] == "company_signing" and sent["sent_at"]

    status = api.get(f"/api/v1/documents/{draft_id}/status").get_json()
    assert status["stage"] == "company_signing" and status["final_pdf"] is False
    assert [(p["role"], p["status"]) for p in status["parties"]] == [
        ("company", "sent"), ("client", "waiting")]  # strict order: our signer first

    with app.app_context():
        # The invitation that follows the send is Signet's own doing, not the API caller's.
        events = [e for e in events_for(draft_id) if e.type != "party.invited"]
        assert [e.type for e in events][-1] == "document.sent"
        # The audit trail shows the change came through the API.
        assert {e.actor_type for e in events} == {"api"}


def test_sending_twice_is_a_conflict_and_changes_nothing(app, api, draft_id):
    _prepared(api, draft_id)
    assert api.post(f"/api/v1/documents/{draft_id}/send").status_code == 200
    response = api.post(f"/api/v1/documents/{draft_id}/send")
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert "already sent" in error_of(response)["message"]
    with app.app_context():
        assert [e.type for e in events_for(draft_id)].count("document.sent") == 1


def test_a_sent_document_cannot_be_edited(api, draft_id):
    document = _prepared(api, draft_id)
    api.post(f"/api/v1/documents/{draft_id}/send")
    response = api.put(f"/api/v1/documents/{draft_id}/fields", json={"fields": []})
    assert response.status_code == 409
    assert "can no longer be edited" in error_of(response)["message"]
    response = api.put(f"/api/v1/documents/{draft_id}/parties", json=parties_for_sending())
    assert response.status_code == 409
    assert len(api.get(f"/api/v1/documents/{draft_id}").get_json()["fields"]) == \
        len(document["fields"])


def test_sending_an_unready_draft_lists_what_is_missing(api, draft_id):
    response = api.post(f"/api/v1/documents/{draft_id}/send")
    assert response.status_code == 422
    assert "Add our company's signer." in error_of(response)["message"]
    assert api.get(f"/api/v1/documents/{draft_id}").get_json()["stage"] == "draft"


def test_stop_needs_a_reason_and_an_open_document(api, draft_id):
    response = api.post(f"/api/v1/documents/{draft_id}/stop", json={"reason": "Wrong price"})
    assert response.status_code == 409  # a draft is not out for signing
    _prepared(api, draft_id)
    api.post(f"/api/v1/documents/{draft_id}/send")
    response = api.post(f"/api/v1/documents/{draft_id}/stop", json={})
    assert response.status_code == 422 and "reason" in error_of(response)["fields"]
    response = api.post(f"/api/v1/documents/{draft_id}/stop", json={"reason": "Wrong price"})
    assert response.status_code == 200
    stopped = response.get_json()
    assert stopped["stage"] == "stopped" and stopped["stop_reason"] == "Wrong price"
    response = api.post(f"/api/v1/documents/{draft_id}/stop", json={"reason": "Again"})
    assert response.status_code == 409 and "already stopped" in error_of(response)["message"]


def test_a_field_outside_the_page_is_refused_with_its_name(api, draft_id):
    document = api.put(f"/api/v1/documents/{draft_id}/parties",
                       json=parties_for_sending()).get_json()
    fields = signature_fields(document["parties"])
    fields[1]["x"] = 0.9  # 0.9 + 0.3 > 1
    response = api.put(f"/api/v1/documents/{draft_id}/fields", json={"fields": fields})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert "inside the page" in error["fields"]["fields[1].position"]
    fields[1]["x"], fields[1]["page"] = 0.5, 7
    response = api.put(f"/api/v1/documents/{draft_id}/fields", json=fields)
    assert "fields[1].page" in error_of(response)["fields"]
    assert api.get(f"/api/v1/documents/{draft_id}").get_json()["fields"] == []


def test_a_party_without_a_contact_is_refused(api, draft_id):
    parties = parties_for_sending()
    parties[1]["email"] = ""
    response = api.put(f"/api/v1/documents/{draft_id}/parties", json={"parties": parties})
    assert response.status_code == 422
    assert "parties[1].email" in error_of(response)["fields"]


@pytest.mark.parametrize("body", [
    b"{not json", b"", b"[1, 2", b'{"a": "\xff"}',  # the last: not UTF-8
])
def test_bad_json_is_a_400(api, draft_id, body):
    response = api.put(f"/api/v1/documents/{draft_id}/parties", data=body,
                       content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] in {"invalid_json", "bad_request"}


@pytest.mark.parametrize("body", [{"parties": "everyone"}, [1, 2], {"parties": [None]}])
def test_wrong_shapes_are_a_422(api, draft_id, body):
    response = api.put(f"/api/v1/documents/{draft_id}/parties", json=body)
    assert response.status_code == 422 and error_of(response)["fields"]


def test_the_source_pdf_downloads_and_the_final_is_404_until_it_exists(api, draft_id):
    response = api.get(f"/api/v1/documents/{draft_id}/source.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == one_page_pdf()
    assert "attachment" in response.headers["Content-Disposition"]
    response = api.get(f"/api/v1/documents/{draft_id}/final.pdf")
    assert response.status_code == 404
    assert "no final PDF yet" in error_of(response)["message"]


def test_a_document_without_a_pdf_has_no_source(app, api, employee):
    with app.app_context():
        bare_id = make_document_row(employee["id"]).id
    response = api.get(f"/api/v1/documents/{bare_id}/source.pdf")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_text_with_a_nul_character_is_refused_not_a_crash(api, draft_id):
    parties = parties_for_sending()
    parties[1]["name"] = "Maria\u0000Silva"
    response = api.put(f"/api/v1/documents/{draft_id}/parties", json=parties)
    assert response.status_code == 422 and "NUL" in error_of(response)["message"]
    assert api.get(f"/api/v1/documents/{draft_id}").get_json()["parties"] == []


def test_absurdly_nested_json_is_a_400(api, draft_id):
    response = api.put(f"/api/v1/documents/{draft_id}/parties", data="[" * 100_000,
                       content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"


def test_what_the_user_may_not_do_is_a_403(api, app):
    from portal.auth.models import RoleGrant
    from portal.extensions import db

    with app.app_context():  # the employee role loses "create documents"
        db.session.execute(db.update(RoleGrant).where(
            RoleGrant.section == "documents", RoleGrant.action == "create").values(scope="none"))
        db.session.commit()
    response = api.post("/api/v1/documents", json={"company_id": 1, "template_id": 1})
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
