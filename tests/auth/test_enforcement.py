"""Permissions beyond the document's own routes: what the create form offers, what the API
lets a draft name, and the lists of other screens that show documents."""

import pytest
from sqlalchemy import update

from portal.auth.models import Role, RoleGrant
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from tests.api.support import Api, make_token
from tests.documents.support import make_template
from tests.factories import make_company, make_counterparty, make_document_row, make_user
from tests.helpers import post_form, sign_in, text_of


def _close(app, section: str, action: str = "view") -> None:
    """The employee role loses one grant (every test user holds that role)."""
    with app.app_context():
        db.session.execute(update(RoleGrant).where(
            RoleGrant.section == section, RoleGrant.action == action).values(scope="none"))
        db.session.commit()


@pytest.fixture
def setting(app, employee):
    with app.app_context():
        company = make_company()
        counterparty = make_counterparty(name="Maria Directory")
        template = make_template(name="Delivery act")
        return {"company": company.id, "counterparty": counterparty.id,
                "template": template.id}


def test_the_create_form_hides_the_directory_and_templates_the_user_may_not_read(
        app, setting, employee_client):
    page = text_of(employee_client.get("/documents/new"))
    assert "Maria Directory" in page and "Delivery act" in page
    _close(app, "contacts")
    _close(app, "templates")
    page = text_of(employee_client.get("/documents/new"))
    assert "Maria Directory" not in page and "Delivery act" not in page
    assert 'name="q"' not in page  # no directory search either
    options = text_of(employee_client.get("/documents/new/counterparties?q=Maria"))
    assert "Maria Directory" not in options
    crafted = post_form(employee_client, "/documents/new/upload", {
        "company_id": setting["company"], "counterparty_id": setting["counterparty"],
        "title": "Crafted"})
    assert crafted.status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Document.id))) == 0


def test_the_api_may_not_name_a_template_or_contact_the_user_may_not_read(app, setting,
                                                                          employee):
    api = Api(app.test_client(), make_token(app, employee["id"]))
    _close(app, "templates")
    response = api.post("/api/v1/documents", json={"company_id": setting["company"],
                                                   "template_id": setting["template"]})
    assert response.status_code == 403
    _close(app, "contacts")
    response = api.post("/api/v1/documents/upload", data={
        "company_id": str(setting["company"]), "counterparty_id": str(setting["counterparty"])})
    assert response.status_code == 403


def test_a_user_who_may_open_no_document_gets_403_from_the_api(app, employee):
    with app.app_context():
        document_id = make_document_row(employee["id"]).id
    api = Api(app.test_client(), make_token(app, employee["id"]))
    assert api.get(f"/api/v1/documents/{document_id}").status_code == 200
    _close(app, "documents")
    assert api.get(f"/api/v1/documents/{document_id}").status_code == 403
    assert api.get("/api/v1/documents/999999").status_code == 403  # same answer: nothing leaks
    _close(app, "vault")
    assert api.get(f"/api/v1/documents/{document_id}/final.pdf").status_code == 403


def test_the_sealing_page_lists_only_documents_the_user_may_see(app, employee):
    with app.app_context():
        keeper = make_user(email="keeper@example.com", name="Seal Keeper")  # own documents
        keeper.roles.append(Role(name="Seal keeper", grants=[
            RoleGrant(section="settings", action="edit", scope="all")]))
        company = make_company()
        mine = make_document_row(keeper.id, company=company, title="Keeper's act",
                                 stage="completed", completed_at=utcnow())
        theirs = make_document_row(employee["id"], company=company, title="Someone's act",
                                   stage="completed", completed_at=utcnow(), number="X-2")
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    client = app.test_client()
    sign_in(client, "keeper@example.com")
    page = text_of(client.get("/admin/sealing"))
    assert f"/documents/{mine_id}" in page and "Keeper&#39;s act" in page
    assert f"/documents/{theirs_id}" not in page and "Someone" not in page
