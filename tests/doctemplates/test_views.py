"""Template screens: list, view, create, edit, copy, (de)activate, delete, live preview."""

import re

import pytest

from portal.doctemplates.builtin import install_builtin_templates
from portal.doctemplates.models import DocumentTemplate
from portal.extensions import db
from tests.factories import make_document_row
from tests.helpers import post_form, text_of

ACT = """<h1>Act {{ document.number }}</h1>
<p>{{ counterparty.name }}: {{ totals.gross|money(currency) }}</p>
<p>{{ anchor("company.signature") }} {{ anchor("client.signature") }}</p>
"""
HTMX = {"HX-Request": "true"}


def _form(**changes) -> dict:
    return {"name": "Our act", "kind": "act", "language": "ru", "body_html": ACT, **changes}


def _templates(app) -> list[DocumentTemplate]:
    with app.app_context():
        templates = db.session.execute(
            db.select(DocumentTemplate).order_by(DocumentTemplate.id)).scalars().all()
        db.session.expunge_all()
        return templates


@pytest.fixture
def shipped(app):
    """The nine shipped templates; returns {builtin_key: id}."""
    with app.app_context():
        return {template.builtin_key: template.id for template in install_builtin_templates()}


@pytest.fixture
def own_template(app, admin):
    with app.app_context():
        template = DocumentTemplate(name="Own act", kind="act", language="en", body_html=ACT,
                                    default_layout=[], created_by_id=admin["id"])
        db.session.add(template)
        db.session.commit()
        return template.id


def test_admin_creates_a_template(app, admin_client):
    page = text_of(admin_client.get("/templates/new"))
    assert 'name="body_html"' in page and 'hx-post="/templates/preview"' in page
    assert "input changed delay:800ms" in page and "Variables and helpers" in page
    response = post_form(admin_client, "/templates/new", _form())
    assert response.status_code == 302
    [template] = _templates(app)
    assert response.headers["Location"].endswith(f"/templates/{template.id}")
    assert (template.name, template.kind, template.language, template.active) == (
        "Our act", "act", "ru", True)
    assert template.body_html == ACT and template.builtin_key is None
    listing = text_of(admin_client.get("/templates/"))
    assert "Our act" in listing and "Русский" in listing and "active" in listing


def test_a_template_with_a_syntax_error_is_not_saved(app, admin_client):
    response = post_form(admin_client, "/templates/new",
                         _form(body_html="<p>ok</p>\n{% for item in items %}\n<p>x</p>"))
    assert response.status_code == 200
    page = text_of(response)
    assert "Line 2: Syntax error" in page
    assert "Syntax error" in page and "&lt;p&gt;ok&lt;/p&gt;" in page  # the text is kept
    response = post_form(admin_client, "/templates/new",
                         _form(name="", body_html='{% include "/etc/passwd" %}'))
    page = text_of(response)
    assert response.status_code == 200 and "Give the template a name." in page
    assert _templates(app) == []


def test_admin_edits_a_template(app, admin_client, own_template):
    page = text_of(admin_client.get(f"/templates/{own_template}/edit"))
    assert 'value="Own act"' in page and "Act {{ document.number }}" in page
    response = post_form(admin_client, f"/templates/{own_template}/edit",
                         _form(name="Renamed act", language="pt"))
    assert response.status_code == 302
    [template] = _templates(app)
    assert (template.name, template.language) == ("Renamed act", "pt")


def test_shipped_templates_are_copied_not_edited(app, admin_client, shipped):
    act_ru = shipped["act-ru"]
    response = admin_client.get(f"/templates/{act_ru}/edit")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/templates/{act_ru}")
    view_page = text_of(admin_client.get(response.headers["Location"]))
    assert "Make a copy and edit the copy" in view_page
    response = post_form(admin_client, f"/templates/{act_ru}/copy")
    assert response.status_code == 302
    copy = _templates(app)[-1]
    assert response.headers["Location"].endswith(f"/templates/{copy.id}/edit")
    original = next(t for t in _templates(app) if t.id == act_ru)
    assert copy.name == "Copy of Акт выполненных работ" and copy.builtin_key is None
    assert copy.body_html == original.body_html and copy.default_layout == original.default_layout
    assert (copy.kind, copy.language, copy.active) == ("act", "ru", True)
    assert post_form(admin_client, f"/templates/{copy.id}/edit",
                     _form(name="Мой акт")).status_code == 302


def test_deactivate_and_activate(app, admin_client, own_template):
    response = post_form(admin_client, f"/templates/{own_template}/deactivate")
    assert response.status_code == 302
    assert _templates(app)[0].active is False
    page = text_of(admin_client.get(f"/templates/{own_template}"))
    assert "inactive" in page and f"/templates/{own_template}/activate" in page
    post_form(admin_client, f"/templates/{own_template}/activate")
    assert _templates(app)[0].active is True


def test_delete_an_unused_template(app, admin_client, own_template):
    response = post_form(admin_client, f"/templates/{own_template}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/templates/")
    assert _templates(app) == []
    assert "Template “Own act” deleted." in text_of(admin_client.get("/templates/"))


def test_a_used_template_is_deactivated_not_deleted(app, admin, admin_client, own_template):
    with app.app_context():
        make_document_row(admin["id"], template_id=own_template)
    page = text_of(admin_client.get(f"/templates/{own_template}"))
    assert "cannot be deleted; deactivate it instead" in page
    assert f"/templates/{own_template}/delete" not in page
    response = post_form(admin_client, f"/templates/{own_template}/delete",
                         follow_redirects=True)
    assert "1 document(s) were made from this template" in text_of(response)
    assert len(_templates(app)) == 1


def test_shipped_templates_cannot_be_deleted(app, admin_client, shipped):
    response = post_form(admin_client, f"/templates/{shipped['invoice-en']}/delete",
                         follow_redirects=True)
    assert "Shipped templates cannot be deleted" in text_of(response)
    assert len(_templates(app)) == 9


def test_view_shows_the_default_layout_and_loads_the_preview(admin_client, shipped):
    page = text_of(admin_client.get(f"/templates/{shipped['contract-pt']}"))
    assert "Contrato de prestação de serviços" in page
    assert "client.signature" in page and "Assinatura" in page and "Nome e cargo" in page
    assert f'hx-get="/templates/{shipped["contract-pt"]}/preview"' in page
    fragment = admin_client.get(f"/templates/{shipped['contract-pt']}/preview", headers=HTMX)
    html = text_of(fragment)
    assert fragment.status_code == 200 and html.lstrip().startswith('<div id="template-preview"')
    assert html.count('src="data:image/jpeg;base64,') == 2  # two pages
    assert "client.requisites" in html


def test_live_preview_shows_pages_and_anchors(admin_client):
    response = post_form(admin_client, "/templates/preview",
                         {"body_html": ACT, "kind": "act", "language": "ru"}, headers=HTMX)
    html = text_of(response)
    assert response.status_code == 200
    assert html.count('<img src="data:image/jpeg;base64,') == 1
    assert "company.signature" in html and "client.signature" in html and "1 page" in html


def test_live_preview_shows_a_syntax_error_with_its_line(admin_client):
    response = post_form(admin_client, "/templates/preview",
                         {"body_html": "<p>a</p>\n<p>{{ totals.gross|money( }}</p>",
                          "kind": "invoice", "language": "en"}, headers=HTMX)
    html = text_of(response)
    assert response.status_code == 200
    assert "Line 2" in html and "Syntax error" in html and "<img" not in html
    response = post_form(admin_client, "/templates/preview",
                         {"body_html": "{{ ''.__class__.__mro__ }}", "kind": "x",
                          "language": "xx"}, headers=HTMX)
    assert "Not allowed in a document template" in text_of(response)


def test_sample_pdfs_download(admin_client, employee_client, shipped):
    response = post_form(admin_client, "/templates/preview.pdf",
                         {"body_html": ACT, "kind": "act", "language": "en"})
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].startswith("attachment")
    response = employee_client.get(f"/templates/{shipped['act-en']}/sample.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_employee_sees_templates_but_cannot_change_them(employee_client, own_template):
    home = text_of(employee_client.get("/"))
    assert 'href="/templates/"' in home
    listing = text_of(employee_client.get("/templates/"))
    assert "Own act" in listing and "New template" not in listing
    page = text_of(employee_client.get(f"/templates/{own_template}"))
    assert "Own act" in page and "/edit" not in page and "Deactivate" not in page
    for url in ("/templates/new", f"/templates/{own_template}/edit"):
        assert employee_client.get(url).status_code == 403
    for url in ("/templates/new", f"/templates/{own_template}/edit",
                f"/templates/{own_template}/copy", f"/templates/{own_template}/delete",
                f"/templates/{own_template}/deactivate", "/templates/preview",
                "/templates/preview.pdf"):
        assert post_form(employee_client, url, _form()).status_code == 403, url


def test_anonymous_visitors_are_sent_to_log_in(client, own_template):
    for url in ("/templates/", f"/templates/{own_template}", "/templates/new",
                f"/templates/{own_template}/sample.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_posts_without_csrf_are_refused(app, admin_client, own_template):
    assert admin_client.post("/templates/new", data=_form()).status_code == 400
    assert admin_client.post(f"/templates/{own_template}/delete").status_code == 400
    assert admin_client.post("/templates/preview", data=_form(), headers=HTMX).status_code == 400
    assert len(_templates(app)) == 1


def test_unknown_template_is_404(admin_client):
    assert admin_client.get("/templates/999").status_code == 404
    assert post_form(admin_client, "/templates/999/copy").status_code == 404


def test_install_templates_command_is_idempotent(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["signet", "install-templates"])
        assert result.exit_code == 0 and "9 shipped templates" in result.output
    templates = _templates(app)
    assert len(templates) == 9 and all(t.active and t.default_layout for t in templates)
    assert re.fullmatch(r"(act|invoice|contract)-(en|ru|pt)", templates[0].builtin_key)
