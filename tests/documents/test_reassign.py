"""The responsible employee: handing a document over (page, htmx, API, service), losing access
afterwards, the "mine" filter, and the signed PDF download from the document page."""

import re

import pytest

from portal.audit.service import events_for
from portal.auth.models import Role, RoleGrant, User
from portal.auth.roles import SUPERVISOR, give_role
from portal.documents import services
from portal.documents.errors import DocumentRefused
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from portal.storage import store
from tests.api.support import Api, make_token
from tests.documents.support import META, ready_draft, signet_company, user
from tests.factories import make_user
from tests.fixtures import fixture_bytes
from tests.helpers import post_form, sign_in, text_of

HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(app, employee):
    """Emil (an employee, owns the draft), Olga (a colleague), Sue (a supervisor), Dan (gone)."""
    with app.app_context():
        olga = make_user(email="olga@example.com", name="Olga Other")
        sue = make_user(email="sue@example.com", name="Sue Supervisor")
        give_role(sue, SUPERVISOR)
        dan = make_user(email="dan@example.com", name="Dan Departed", active=False)
        db.session.commit()
        draft = ready_draft(employee["id"], company=signet_company())
        return {"emil": employee["id"], "olga": olga.id, "sue": sue.id, "dan": dan.id,
                "draft": draft.id}


def _client(app, email):
    client = app.test_client()
    sign_in(client, email)
    return client


def _responsible(app, document_id) -> int:
    with app.app_context():
        return db.session.get(Document, document_id).responsible_id


def _event_types(app, document_id) -> list[str]:
    with app.app_context():
        return [event.type for event in events_for(document_id)]


# --- the service -------------------------------------------------------------------------------

def test_reassign_records_who_had_it_and_who_has_it(app, people):
    with app.app_context():
        document = services.reassign(user(people["sue"]), META, people["draft"], people["olga"])
        assert document.responsible_id == people["olga"]
        event = events_for(people["draft"])[-1]
        assert event.type == "document.reassigned"
        assert event.details["from_user"]["id"] == people["emil"]
        assert event.details["to_user"] == {"id": people["olga"], "name": "Olga Other",
                                            "email": "olga@example.com"}
        services.reassign(user(people["sue"]), META, people["draft"], str(people["olga"]))
        assert [e.type for e in events_for(people["draft"])].count("document.reassigned") == 1


@pytest.mark.parametrize("wanted", ["dan", None, "", "abc", 10**30, -1])
def test_reassign_refuses_anyone_but_an_active_user(app, people, wanted):
    with app.app_context():
        value = people.get(wanted, wanted) if isinstance(wanted, str) else wanted
        with pytest.raises(DocumentRefused) as refused:
            services.reassign(user(people["sue"]), META, people["draft"], value)
        assert refused.value.errors == {"responsible_id": "Choose an active user."}
    assert _responsible(app, people["draft"]) == people["emil"]


def test_a_sent_document_can_be_handed_over_too(app, people):
    with app.app_context():
        services.send(user(people["emil"]), META, people["draft"])
        document = services.reassign(user(people["sue"]), META, people["draft"], people["olga"])
        assert (document.stage, document.responsible_id) == ("company_signing", people["olga"])


def test_changing_the_responsible_in_the_details_is_a_reassignment(app, people):
    with app.app_context():
        services.update_draft(user(people["emil"]), META, people["draft"], title="New title",
                              responsible_id=people["olga"])
        types = [event.type for event in events_for(people["draft"])]
        assert types[-2:] == ["document.reassigned", "document.updated"]
        assert "responsible_id" not in events_for(people["draft"])[-1].details["changes"]


# --- the document page -------------------------------------------------------------------------

def test_a_supervisor_hands_the_document_over_with_htmx(app, people):
    sue = _client(app, "sue@example.com")
    url = f"/documents/{people['draft']}"
    assert 'id="responsible-panel"' in text_of(sue.get(url))
    response = post_form(sue, f"{url}/responsible", {"responsible_id": people["olga"]},
                         headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith(url)
    page = text_of(sue.get(url))
    assert "Olga Other is now responsible for this document." in page
    assert "Responsible changed" in page and "Emil Employee → Olga Other" in page
    assert _responsible(app, people["draft"]) == people["olga"]


def test_handing_your_own_document_away_takes_you_back_to_the_list(app, people,
                                                                   employee_client):
    url = f"/documents/{people['draft']}"
    response = post_form(employee_client, f"{url}/responsible",
                         {"responsible_id": people["olga"]}, headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith("/documents")
    listing = text_of(employee_client.get("/documents"))
    assert "is now Olga Other&#39;s responsibility and no longer among your documents" in listing
    assert employee_client.get(url).status_code == 404


def test_a_wrong_choice_stays_in_the_panel_and_changes_nothing(app, people, employee_client):
    url = f"/documents/{people['draft']}/responsible"
    fragment = post_form(employee_client, url, {"responsible_id": people["dan"]}, headers=HTMX)
    html = text_of(fragment)
    assert fragment.status_code == 200 and html.lstrip().startswith("<section")
    assert 'id="responsible-panel"' in html and "Choose an active user." in html
    page = post_form(employee_client, url, {"responsible_id": "nobody"})
    assert page.status_code == 200 and "Choose an active user." in text_of(page)
    assert "<h1" in text_of(page)  # without htmx: the whole document page
    assert employee_client.post(url, data={"responsible_id": people["olga"]}).status_code == 400
    assert _responsible(app, people["draft"]) == people["emil"]
    assert "document.reassigned" not in _event_types(app, people["draft"])


def test_only_users_who_may_edit_the_document_hand_it_over(app, people):
    with app.app_context():
        reader = Role(name="Reader", grants=[
            RoleGrant(section="documents", action="view", scope="all"),
            RoleGrant(section="documents", action="edit", scope="own")])
        watcher = make_user(email="walt@example.com", name="Walt Watcher")
        watcher.roles = [reader]
        db.session.commit()
    walt, olga = _client(app, "walt@example.com"), _client(app, "olga@example.com")
    url = f"/documents/{people['draft']}"
    assert 'action="' + url + '/responsible"' not in text_of(walt.get(url))
    assert post_form(walt, f"{url}/responsible",
                     {"responsible_id": people["olga"]}).status_code == 403
    assert post_form(olga, f"{url}/responsible",
                     {"responsible_id": people["olga"]}).status_code == 404
    assert _responsible(app, people["draft"]) == people["emil"]


def test_saving_details_that_hand_the_draft_away_lands_on_the_list(app, people,
                                                                   employee_client):
    url = f"/documents/{people['draft']}/edit"
    response = post_form(employee_client, url, {
        "title": "Act", "responsible_id": people["olga"], "language": "en"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/documents")
    assert _responsible(app, people["draft"]) == people["olga"]


# --- the API -----------------------------------------------------------------------------------

def test_the_api_hands_a_document_over(app, people):
    api = Api(app.test_client(), make_token(app, people["sue"]))
    url = f"/api/v1/documents/{people['draft']}"
    response = api.client.patch(url, json={"responsible_id": people["olga"]},
                                headers=api.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["responsible_id"] == people["olga"] and body["responsible"]["name"] == "Olga Other"
    with app.app_context():
        event = events_for(people["draft"])[-1]
        assert (event.type, event.actor_type) == ("document.reassigned", "api")


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"responsible_id": "dan"}, 422, "responsible_id"),
    ({"responsible_id": 0}, 422, "responsible_id"),
    ({}, 422, "responsible_id"),
    ({"responsible_id": "olga", "title": "Sneaky"}, 422, "title"),
    ("not json", 400, None),
])
def test_the_api_refuses_a_bad_handover(app, people, body, status, field):
    api = Api(app.test_client(), make_token(app, people["sue"]))
    if isinstance(body, dict):
        body = {key: people.get(value, value) if isinstance(value, str) else value
                for key, value in body.items()}
        response = api.client.patch(f"/api/v1/documents/{people['draft']}", json=body,
                                    headers=api.headers)
    else:
        response = api.client.patch(f"/api/v1/documents/{people['draft']}", data=body,
                                    headers=api.headers)
    assert response.status_code == status
    if field:
        assert field in response.get_json()["error"]["fields"]
    assert _responsible(app, people["draft"]) == people["emil"]


def test_after_an_api_handover_the_document_is_out_of_reach(app, people):
    api = Api(app.test_client(), make_token(app, people["emil"]))
    url = f"/api/v1/documents/{people['draft']}"
    assert api.client.patch(url, json={"responsible_id": people["olga"]},
                            headers=api.headers).status_code == 200
    assert api.get(url).status_code == 404
    assert api.client.patch(url, json={"responsible_id": people["emil"]},
                            headers=api.headers).status_code == 404


# --- the list and the signed PDF ---------------------------------------------------------------

def test_the_mine_filter_keeps_only_my_documents(app, people):
    with app.app_context():
        own_id = ready_draft(people["sue"], company=signet_company(legal_name="Own LLC"),
                             title="Sue's own act").id
    sue = _client(app, "sue@example.com")
    everything = text_of(sue.get("/documents"))
    assert f'id="document-{own_id}"' in everything and f'id="document-{people["draft"]}"' \
        in everything and "Emil Employee" in everything
    mine = sue.get("/documents?mine=1", headers=HTMX)
    html = text_of(mine)
    assert html.lstrip().startswith('<div id="document-list">')
    assert f'id="document-{own_id}"' in html and f'id="document-{people["draft"]}"' not in html
    assert 'href="/documents?mine=1" hx-get="/documents?mine=1" aria-current="page"' in html
    assert "You are not responsible for any document." in text_of(
        _client(app, "olga@example.com").get("/documents?mine=1"))


def test_the_signed_pdf_downloads_from_the_document_page(app, people, employee_client):
    url = f"/documents/{people['draft']}"
    assert employee_client.get(f"{url}/final.pdf").status_code == 404  # not signed yet
    assert f"{url}/final.pdf" not in text_of(employee_client.get(url))
    with app.app_context():
        final = store(fixture_bytes("three-pages.pdf"), "application/pdf")
        document = db.session.get(Document, people["draft"])
        document.stage, document.completed_at = "completed", utcnow()
        document.final_sha256 = final.sha256
        db.session.commit()
        number = document.number
    assert f"{url}/final.pdf" in text_of(employee_client.get(url))
    response = employee_client.get(f"{url}/final.pdf")
    assert response.status_code == 200 and response.data == fixture_bytes("three-pages.pdf")
    assert f"{number}.pdf" in response.headers["Content-Disposition"]  # one name everywhere
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_panel_offers_active_users_and_carries_the_csrf_token(app, people,
                                                                  employee_client):
    page = text_of(employee_client.get(f"/documents/{people['draft']}"))
    panel = page[page.index('id="responsible-panel"'):page.index("</section>",
                                                                 page.index("responsible-panel"))]
    # Tokens carry a timestamp: the page's own token is the one its form must carry.
    page_token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert 'name="csrf_token"' in panel and f'value="{page_token}"' in panel
    with app.app_context():
        assert db.session.get(User, people["olga"]).name in panel
        assert db.session.get(User, people["dan"]).name not in panel
