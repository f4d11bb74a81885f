"""The document pages as a logged-in employee uses them: create, look, edit, send, stop."""

import io
import re

import pytest

from portal.audit.service import events_for
from portal.documents.models import Document, Field
from portal.extensions import db
from tests.documents.support import make_template, ready_draft, signet_company, upload_draft
from tests.factories import make_counterparty, make_user
from tests.fixtures import fixture_bytes
from tests.helpers import csrf_token, post_form, sign_in, text_of

BROWSER = {"User-Agent": "Mozilla/5.0 (Signet test)"}


def only(app, model=Document):
    with app.app_context():
        rows = list(db.session.execute(db.select(model)).scalars())
        assert len(rows) == 1
        return rows[0].id


@pytest.fixture
def setup(app, employee):
    """Our company and a counterparty in the directory; ids only."""
    with app.app_context():
        company = signet_company()
        client = make_counterparty(name="Maria Silva", email="maria@example.com")
        return {"company_id": company.id, "counterparty_id": client.id}


@pytest.fixture
def draft_id(app, employee, setup):
    with app.app_context():
        from portal.parties.models import Company, Counterparty

        return ready_draft(employee["id"], company=db.session.get(Company, setup["company_id"]),
                           counterparty=db.session.get(Counterparty,
                                                       setup["counterparty_id"])).id


@pytest.fixture
def stranger_client(app):
    with app.app_context():
        make_user(email="other@example.com", name="Olga Other")
    client = app.test_client()
    sign_in(client, "other@example.com")
    return client


# --- list and create ---------------------------------------------------------------------------

def test_the_list_shows_only_my_documents(app, employee_client, stranger_client, draft_id):
    page = text_of(employee_client.get("/documents"))
    assert "Act of completed work" in page and "Maria Silva" in page and "Draft" in page
    assert "Act of completed work" not in text_of(stranger_client.get("/documents"))
    fragment = employee_client.get("/documents?page=1", headers={"HX-Request": "true"})
    assert text_of(fragment).lstrip().startswith('<div id="document-list">')
    assert "HX-Request" in fragment.headers["Vary"]


def test_create_from_a_template_with_items(app, employee, employee_client, setup):
    with app.app_context():
        template_id = make_template().id
    page = employee_client.get("/documents/new")
    assert page.status_code == 200 and "Акт выполненных работ" in text_of(page)
    response = post_form(employee_client, "/documents/new", {
        "company_id": setup["company_id"], "template_id": template_id,
        "counterparty_id": setup["counterparty_id"], "place": "Lisboa", "date": "2026-05-04",
        "currency": "EUR", "vat_rate": "23",
        "items-0-name": "Design", "items-0-quantity": "2", "items-0-unit": "h",
        "items-0-price": "100", "items-3-name": "", "items-3-price": "",
        "items-5-name": "Hosting", "items-5-quantity": "1", "items-5-price": "10,50",
    }, headers=BROWSER)
    assert response.status_code == 302, text_of(response)[:3000]
    document_id = only(app)
    assert response.headers["Location"].endswith(f"/documents/{document_id}")
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert [item["name"] for item in document.variables["items"]] == ["Design", "Hosting"]
        assert document.variables["currency"] == "EUR" and len(document.fields) == 3
        event = events_for(document_id)[0]
        assert (event.ip, event.user_agent) == ("127.0.0.1", BROWSER["User-Agent"])


def test_template_form_errors_show_next_to_the_fields_and_keep_the_input(
        app, employee_client, setup):
    with app.app_context():
        template_id = make_template().id
    response = post_form(employee_client, "/documents/new", {
        "company_id": setup["company_id"], "template_id": template_id, "counterparty_id": "",
        "client_kind": "person", "client_name": "", "client_email": "maria@",
        "currency": "EUR", "items-0-name": "Design", "items-0-quantity": "two",
        "items-0-price": "100", "items-4-name": "Hosting", "items-4-price": "-5"})
    page = text_of(response)
    assert response.status_code == 200
    assert "Enter the client" in page and "valid email address" in page
    assert re.search(r'id="items-0-quantity"[^>]*value="two"', page)
    # WTForms renumbers the rows 0, 1 on a re-render; the errors stay with their rows.
    assert 'id="items-1-price-errors"' in page and 'id="items-0-quantity-errors"' in page
    assert db_is_empty(app)


def db_is_empty(app) -> bool:
    with app.app_context():
        return db.session.execute(db.select(Document)).first() is None


def test_rows_and_the_client_picker_are_fragments(app, employee_client, setup):
    row = text_of(employee_client.get("/documents/new/items/row?items-0-name=a&items-7-price=1"))
    assert 'name="items-8-name"' in row and row.lstrip().startswith("<tr")
    with app.app_context():
        make_counterparty(name="ООО «Вектор»", kind="company", email="v@example.com")
    options = text_of(employee_client.get(
        f"/documents/new/counterparties?q=вект&counterparty_id={setup['counterparty_id']}"))
    assert "Вектор" in options and "Maria Silva" in options  # the chosen one stays
    assert 'id="counterparty-options"' in options
    assert employee_client.get("/documents/removed").status_code == 200


def upload(client, setup, data: bytes, filename="act.pdf", **extra):
    form = {"company_id": str(setup["company_id"]), "title": "Signed act",
            "counterparty_id": str(setup["counterparty_id"]),
            "file": (io.BytesIO(data), filename), **extra}
    return post_form(client, "/documents/new/upload", form,
                     content_type="multipart/form-data")


def test_an_upload_creates_a_draft(app, employee_client, setup):
    assert employee_client.get("/documents/new/upload").status_code == 200
    response = upload(employee_client, setup, fixture_bytes("rotated-90.pdf"))
    assert response.status_code == 302
    with app.app_context():
        document = db.session.get(Document, only(app))
        assert document.title == "Signed act" and document.source_filename == "act.pdf"


@pytest.mark.parametrize("fixture, words", [
    ("broken-truncated.pdf", "damaged"),
    ("encrypted-empty-password.pdf", "password"),
    ("text-file.pdf", "not a PDF"),
])
def test_a_bad_upload_shows_why_next_to_the_file(app, employee_client, setup, fixture, words):
    response = upload(employee_client, setup, fixture_bytes(fixture))
    page = text_of(response)
    assert response.status_code == 200
    errors = re.search(r'id="file-errors">(.*?)</ul>', page, re.S)
    assert errors and words.lower() in errors.group(1).lower()
    assert db_is_empty(app)


def test_an_oversize_upload_is_refused_with_its_limit(make_app, employee, setup):
    app = make_app(SIGNET_UPLOAD_MAX_BYTES=2000)
    client = app.test_client()
    sign_in(client, employee["email"])
    page = text_of(upload(client, setup, fixture_bytes("three-pages.pdf")))
    assert "larger than" in page
    assert db_is_empty(app)


# --- the document page -------------------------------------------------------------------------

def test_the_document_page_shows_parties_fields_history_and_actions(employee_client, draft_id):
    page = text_of(employee_client.get(f"/documents/{draft_id}"))
    for text in ("Anna Petrova", "Maria Silva", "Signature", "Created", "Fields placed",
                 "Send for signing", "Delete the draft", "Place the fields",
                 "hx-disabled-elt"):
        assert text in page, text


def test_the_source_pdf_downloads_with_the_number_in_its_name(app, employee_client, draft_id):
    response = employee_client.get(f"/documents/{draft_id}/source.pdf")
    with app.app_context():
        number = db.session.get(Document, draft_id).number
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="{number}.pdf"')


def test_page_images_are_served_and_cached_privately(employee_client, draft_id):
    response = employee_client.get(f"/documents/{draft_id}/pages/1.img?w=500")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, max-age=86400"
    again = employee_client.get(f"/documents/{draft_id}/pages/1.img?w=500",
                                headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert employee_client.get(f"/documents/{draft_id}/pages/2.img").status_code == 404


def test_another_employee_cannot_see_or_touch_the_document(stranger_client, draft_id):
    token = csrf_token(stranger_client)
    for url in ("", "/source.pdf", "/pages/1.img", "/fields", "/fields.json", "/parties",
                "/edit"):
        assert stranger_client.get(f"/documents/{draft_id}{url}").status_code == 404, url
    patched = stranger_client.patch(f"/documents/{draft_id}/fields/1", json={"x": 0.1},
                                    headers={"X-CSRFToken": token})
    assert patched.status_code == 404
    sent = post_form(stranger_client, f"/documents/{draft_id}/send")
    assert sent.status_code == 404


# --- the placement editor and its JSON ---------------------------------------------------------

def test_the_editor_page_has_the_pages_and_the_script(employee_client, draft_id):
    page = text_of(employee_client.get(f"/documents/{draft_id}/fields"))
    assert 'id="placement"' in page and "/static/js/placement.js" in page
    assert f"/documents/{draft_id}/pages/1.img" in page
    assert "<script>" not in page and ' style="' not in page


def test_fields_json_add_move_refuse_and_delete(app, employee_client, draft_id):
    headers = {"X-CSRFToken": csrf_token(employee_client)}
    data = employee_client.get(f"/documents/{draft_id}/fields.json").get_json()
    assert data["page_count"] == 1 and len(data["fields"]) == 2
    client_party = next(p for p in data["parties"] if p["role"] == "client")
    assert client_party["may_stamp"] is False
    added = employee_client.post(f"/documents/{draft_id}/fields", headers=headers, json={
        "party_id": client_party["id"], "type": "text", "page": 1, "x": 0.1, "y": 0.1,
        "w": 0.3, "h": 0.04, "label": "Position"})
    assert added.status_code == 201
    field = added.get_json()["field"]
    url = f"/documents/{draft_id}/fields/{field['id']}"
    moved = employee_client.patch(url, headers=headers, json={"x": 0.4, "y": 0.5})
    assert moved.get_json()["field"]["x"] == 0.4
    refused = employee_client.patch(url, headers=headers, json={"x": 0.9})
    body = refused.get_json()
    assert refused.status_code == 422 and "inside the page" in body["error"]
    assert body["field"]["x"] == 0.4  # the editor snaps the field back here
    stamp = employee_client.patch(url, headers=headers, json={"type": "stamp"})
    assert stamp.status_code == 422 and "stamp" in stamp.get_json()["errors"]["type"]
    assert employee_client.delete(url, headers=headers).get_json() == {"deleted": field["id"]}
    with app.app_context():
        assert db.session.get(Field, field["id"]) is None


def test_replacing_all_fields_and_a_request_without_csrf(app, employee_client, draft_id):
    headers = {"X-CSRFToken": csrf_token(employee_client)}
    data = employee_client.get(f"/documents/{draft_id}/fields.json").get_json()
    kept = data["fields"][:1]
    response = employee_client.put(f"/documents/{draft_id}/fields", headers=headers,
                                   json={"fields": kept})
    assert response.status_code == 200 and len(response.get_json()["fields"]) == 1
    bad = employee_client.put(f"/documents/{draft_id}/fields", headers=headers,
                              json={"fields": [{**kept[0], "page": 4}]})
    assert bad.status_code == 422 and "0.page" in bad.get_json()["errors"]
    forged = employee_client.post(f"/documents/{draft_id}/fields", json=kept[0])
    assert forged.status_code == 400


# --- parties, details, send, stop --------------------------------------------------------------

def test_the_parties_editor_shows_errors_beside_fields_and_saves(app, employee_client, draft_id):
    page = text_of(employee_client.get(f"/documents/{draft_id}/parties"))
    assert 'value="Maria Silva"' in page and 'value="Anna Petrova"' in page
    with app.app_context():
        document = db.session.get(Document, draft_id)
        ours, theirs = document.parties
        form = {"company-id": ours.id, "company-name": "Anna Petrova",
                "company-email": "director@signet.example", "company-channel": "email",
                "client-id": theirs.id, "client-kind": "person", "client-name": "Maria Silva",
                "client-email": "", "client-phone": "", "client-channel": "email",
                "copies-0-name": "Accounting", "copies-0-email": "books@example.com"}
    response = post_form(employee_client, f"/documents/{draft_id}/parties", form)
    page = text_of(response)
    assert response.status_code == 200
    assert re.search(r'id="client-email-errors"><li>Enter an email address', page)
    form.update({"client-email": "maria@example.com", "with_approver": "y",
                 "approver-name": "Boris", "approver-email": "boris@example.com",
                 "approver-channel": "email"})
    response = post_form(employee_client, f"/documents/{draft_id}/parties", form)
    assert response.status_code == 302
    with app.app_context():
        roles = [p.role for p in db.session.get(Document, draft_id).parties]
        assert roles == ["approver", "company", "client", "cc"]


def test_details_are_edited_with_checks(app, employee_client, draft_id):
    page = text_of(employee_client.get(f"/documents/{draft_id}/edit"))
    assert "Act of completed work" in page
    response = post_form(employee_client, f"/documents/{draft_id}/edit", {
        "title": "", "responsible_id": "999", "language": "en", "deadline": "2001-01-01T10:00"})
    page = text_of(response)
    assert "Give the document a title" in page and "5 minutes" in page


def test_send_refusal_shows_the_problems_in_the_panel(app, employee, employee_client, setup):
    with app.app_context():
        document_id = upload_draft(employee["id"]).id  # no fields yet
    response = post_form(employee_client, f"/documents/{document_id}/send",
                         headers={"HX-Request": "true"})
    page = text_of(response)
    assert response.status_code == 200 and 'id="send-panel"' in page
    assert "Place a signature field for Maria Silva." in page


def test_send_then_a_second_click_then_stop(app, employee_client, draft_id):
    first = post_form(employee_client, f"/documents/{draft_id}/send",
                      headers={"HX-Request": "true", **BROWSER})
    assert first.headers["HX-Redirect"] == f"/documents/{draft_id}"
    second = post_form(employee_client, f"/documents/{draft_id}/send")
    assert second.status_code == 302
    page = text_of(employee_client.get(f"/documents/{draft_id}"))
    assert "already sent" in page and "Company signing" in page and "Stop the signing" in page
    edit = employee_client.get(f"/documents/{draft_id}/fields", follow_redirects=True)
    assert "can no longer be edited" in text_of(edit)

    no_reason = post_form(employee_client, f"/documents/{draft_id}/stop", {"reason": " "},
                          headers={"HX-Request": "true"})
    assert no_reason.status_code == 200 and "Say why" in text_of(no_reason)
    stopped = post_form(employee_client, f"/documents/{draft_id}/stop",
                        {"reason": "Wrong amount"}, headers={"HX-Request": "true"})
    assert stopped.headers["HX-Redirect"] == f"/documents/{draft_id}"
    with app.app_context():
        assert db.session.get(Document, draft_id).stage == "stopped"
        types = [event.type for event in events_for(draft_id)]
        assert types.count("document.sent") == 1 and types[-1] == "document.stopped"
        sent = next(event for event in events_for(draft_id) if event.type == "document.sent")
        assert sent.user_agent == BROWSER["User-Agent"] and sent.ip == "127.0.0.1"


def test_deleting_a_draft(app, employee_client, draft_id):
    response = post_form(employee_client, f"/documents/{draft_id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == "/documents"
    with app.app_context():
        assert db.session.get(Document, draft_id) is None


def test_save_layout_needs_the_templates_edit_permission(app, employee_client, draft_id):
    response = post_form(employee_client, f"/documents/{draft_id}/layout")
    assert response.status_code == 403
