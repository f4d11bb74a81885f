"""Publishing, the links pages and the API: who may, what is refused, what is shown."""

from datetime import timedelta

from sqlalchemy import select

from portal.api.tokens import create_token
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from portal.links.models import PublicLink
from portal.models_base import utcnow
from tests.documents.support import make_template, signet_company
from tests.factories import make_user
from tests.helpers import post_form, sign_in, text_of
from tests.links.support import LAYOUT, publish


def _template_and_company(app):
    with app.app_context():
        template = make_template(default_layout=LAYOUT, name="Offer")
        company = signet_company()
        return template.id, company.id


def test_publishing_from_the_template_page_shows_the_url_and_qr(app, admin, admin_client):
    template_id, company_id = _template_and_company(app)
    assert "Publish as a link" in text_of(admin_client.get(f"/templates/{template_id}"))
    form = admin_client.get(f"/links/new/{template_id}")
    assert form.status_code == 200
    response = post_form(admin_client, f"/links/new/{template_id}", {
        "title": "Standard offer", "company_id": str(company_id), "channel": "email",
        "max_uses": "10", "allowed_domains": "example.com", "per_address_limit": "3"})
    assert response.status_code == 302, text_of(response)[:600]
    page = text_of(admin_client.get(response.headers["Location"]))
    assert "Standard offer" in page and 'src="data:image/png;base64,' in page
    with app.app_context():
        link = db.session.scalar(select(PublicLink))
        assert (link.max_uses, link.allowed_domains, link.uses) == (10, ["example.com"], 0)
        assert len(link.token_hash) == 64 and link.token_hash not in link.token_sealed
        token = link.token_sealed
    assert token not in page  # the sealed token never reaches a page; the URL does
    listing = text_of(admin_client.get("/links/"))
    assert "Standard offer" in listing and "0 / 10" in listing


def test_publishing_refuses_bad_values_with_messages(app, admin, admin_client):
    template_id, company_id = _template_and_company(app)
    response = post_form(admin_client, f"/links/new/{template_id}", {
        "title": "x", "company_id": str(company_id), "channel": "email",
        "allowed_domains": "not a domain!", "expires_at": "2001-01-01T00:00"})
    html = text_of(response)
    assert response.status_code == 422
    assert "The expiry must be in the future." in html and "is not an email domain" in html
    with app.app_context():
        bare = make_template(default_layout=[], name="No layout")
        bare_id = bare.id
    refused = post_form(admin_client, f"/links/new/{bare_id}", {
        "title": "x", "company_id": str(company_id), "channel": "email"})
    assert refused.status_code == 422 and "no signature field" in text_of(refused)
    with app.app_context():
        assert db.session.scalar(select(PublicLink)) is None


def test_pause_resume_and_delete_are_recorded(app, admin, admin_client, client):
    with app.app_context():
        published = publish(admin["id"])
    url = f"/links/{published.link_id}"
    assert post_form(admin_client, f"{url}/pause").status_code == 302
    assert client.get(published.url).status_code == 410
    assert post_form(admin_client, f"{url}/resume").status_code == 302
    assert client.get(published.url).status_code == 200
    assert post_form(admin_client, f"{url}/delete").status_code == 302
    assert client.get(published.url).status_code == 404
    with app.app_context():
        kinds = db.session.scalars(select(AuditEvent.type).order_by(AuditEvent.id)).all()
    assert kinds == ["link.published", "link.paused", "link.resumed", "link.deleted"]


def test_another_user_or_one_without_the_right_cannot_see_or_change_a_link(
        app, admin, employee, employee_client):
    with app.app_context():
        published = publish(admin["id"])
        template_id = db.session.get(PublicLink, published.link_id).template_id
    # An employee sends their own documents: they see their own links, not the admin's.
    assert "Standard offer" not in text_of(employee_client.get("/links/"))
    assert employee_client.get(f"/links/{published.link_id}").status_code == 404
    assert post_form(employee_client, f"/links/{published.link_id}/pause").status_code == 404
    assert post_form(employee_client, f"/links/{published.link_id}/delete").status_code == 404
    with app.app_context():
        assert db.session.get(PublicLink, published.link_id).active is True
        _no_roles(make_user(email="reader@example.com", name="Rita Reader"))
    reader = app.test_client()
    sign_in(reader, "reader@example.com")
    assert reader.get("/links/").status_code == 403
    assert reader.get(f"/links/new/{template_id}").status_code == 403


def _no_roles(user: User) -> None:
    user.roles.clear()
    db.session.commit()


def _bearer(app, user_id: int) -> dict:
    with app.app_context():
        _token, secret = create_token(db.session.get(User, user_id), "links test")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_publishes_and_lists_links(app, admin, client):
    template_id, company_id = _template_and_company(app)
    headers = _bearer(app, admin["id"])
    expires = (utcnow() + timedelta(days=7)).isoformat()
    created = client.post("/api/v1/links", headers=headers, json={
        "template_id": template_id, "company_id": company_id, "title": "API offer",
        "channel": "email", "expires_at": expires, "max_uses": 5,
        "allowed_domains": ["example.com"], "place": "Lisboa", "vat_rate": 23,
        "items": [{"name": "Logo", "quantity": 2, "price": "600.00"}]})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    # The template is Russian: its currency unless one is given.
    assert body["document_values"] == {"place": "Lisboa", "vat_rate": "23", "currency": "RUB",
                                       "items": [{"name": "Logo", "quantity": "2", "unit": "",
                                                  "price": "600.00"}]}
    assert body["url"].startswith("http") and "/p/" in body["url"]
    assert (body["max_uses"], body["uses"], body["state"]) == (5, 0, "open")
    assert client.get("/p/" + body["url"].split("/p/", 1)[1]).status_code == 200
    listed = client.get("/api/v1/links", headers=headers).get_json()["items"]
    assert [item["title"] for item in listed] == ["API offer"]

    refused = client.post("/api/v1/links", headers=headers, json={
        "template_id": template_id, "company_id": company_id, "channel": "fax",
        "max_uses": "many"})
    assert refused.status_code == 422, refused.get_json()
    assert set(refused.get_json()["error"]["fields"]) == {"channel", "max_uses"}
    expired = client.post("/api/v1/links", headers=headers, json={
        "template_id": template_id, "company_id": company_id,
        "expires_at": "2001-01-01T00:00:00Z"})
    assert expired.status_code == 422 and "expires_at" in expired.get_json()["error"]["fields"]

    offer = client.post("/api/v1/links", headers=headers, json={
        "template_id": template_id, "company_id": company_id, "presigned": True})
    assert offer.status_code == 201, offer.get_json()
    assert (offer.get_json()["presigned"], offer.get_json()["state"]) == (True, "unsigned")
    not_a_flag = client.post("/api/v1/links", headers=headers, json={
        "template_id": template_id, "company_id": company_id, "presigned": "yes"})
    assert not_a_flag.status_code == 422
    assert set(not_a_flag.get_json()["error"]["fields"]) == {"presigned"}
    unpriced = client.post("/api/v1/links", headers=headers, json={
        "template_id": template_id, "company_id": company_id,
        "items": [{"name": "", "price": "-1"}]})
    assert unpriced.status_code == 422, unpriced.get_json()
    assert {"items[0].name", "items[0].price"} <= set(unpriced.get_json()["error"]["fields"])


def test_the_api_refuses_a_user_without_the_right(app, client):
    with app.app_context():
        reader = make_user(email="reader@example.com", name="Rita Reader")
        _no_roles(reader)
        reader_id = reader.id
    headers = _bearer(app, reader_id)
    assert client.get("/api/v1/links", headers=headers).status_code == 403
    assert client.post("/api/v1/links", headers=headers, json={}).status_code == 403


def test_a_deactivated_creators_links_take_no_visitors(app, admin, employee, client):
    with app.app_context():
        published = publish(employee["id"])
        db.session.get(User, employee["id"]).active = False
        db.session.commit()
    response = client.get(published.url)
    assert response.status_code == 410 and "This link is paused" in text_of(response)


def test_a_template_with_links_is_not_deleted_and_its_page_says_why(app, admin, admin_client):
    with app.app_context():
        published = publish(admin["id"])
        template_id = db.session.get(PublicLink, published.link_id).template_id
    page = text_of(admin_client.get(f"/templates/{template_id}"))
    assert "1 public link publishes this template, so it cannot be deleted" in page
    assert f"/templates/{template_id}/delete" not in page
    refused = post_form(admin_client, f"/templates/{template_id}/delete",
                        follow_redirects=True)
    assert "1 public link publishes this template" in text_of(refused)
    with app.app_context():
        assert db.session.get(PublicLink, published.link_id) is not None

    post_form(admin_client, f"/links/{published.link_id}/delete")
    deleted = post_form(admin_client, f"/templates/{template_id}/delete")
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith("/templates/")
