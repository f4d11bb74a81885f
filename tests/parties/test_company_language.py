"""A company's documents language: set on the company form, and a new document from a template
in that language starts with that company."""

import re

import pytest

from portal.doctemplates.builtin import install_builtin_templates
from portal.extensions import db
from portal.parties.models import Company
from tests.factories import make_company
from tests.helpers import post_form, text_of
from tests.parties.support import company_form


def _company_options(page: str) -> list[dict]:
    """The attributes of each option of "Our company"."""
    select = re.search(r'<select[^>]*name="company_id".*?</select>', page, re.S).group(0)
    return [dict(re.findall(r'([\w-]+)(?:="([^"]*)")?', attrs))
            for attrs in re.findall(r"<option([^>]*)>", select)]


def _selected_company(page: str) -> int:
    picked = [option for option in _company_options(page) if "selected" in option]
    assert len(picked) == 1, picked
    return int(picked[0]["value"])


def test_the_company_form_keeps_the_language_and_refuses_an_unknown_one(app, admin_client):
    assert post_form(admin_client, "/companies/new",
                     company_form(language="pt")).status_code == 302
    with app.app_context():
        company = db.session.execute(db.select(Company)).scalar_one()
        assert company.language == "pt"
    assert "Português" in text_of(admin_client.get(f"/companies/{company.id}"))

    refused = text_of(post_form(admin_client, "/companies/new", company_form(language="xx")))
    assert 'id="language-errors"' in refused and "Choose one of the offered languages." in refused


@pytest.fixture
def companies_and_templates(app):
    with app.app_context():
        ids = {language: make_company(legal_name=name, language=language).id
               for language, name in (("", "Any Co"), ("en", "English Ltd"),
                                      ("ru", "ООО «Русская»"), ("pt", "Portuguesa, Lda."))}
        templates = {t.builtin_key: t.id for t in install_builtin_templates()}
    return ids, templates


def test_a_template_in_a_language_starts_with_the_company_of_that_language(
        admin_client, companies_and_templates):
    companies, templates = companies_and_templates
    for language in ("ru", "pt", "en"):
        page = text_of(admin_client.get(f"/documents/new?template={templates[f'act-{language}']}"))
        assert _selected_company(page) == companies[language], language
        # Each option says its language, for the page to switch when the template changes.
        languages = {int(o["value"]): o["data-language"] for o in _company_options(page)}
        assert languages == {company_id: code for code, company_id in companies.items()}


def test_without_a_company_in_the_language_the_first_company_is_chosen(app, admin_client):
    with app.app_context():
        first = make_company(legal_name="Alpha LLC").id
        make_company(legal_name="Beta LLC", language="en")
        russian = next(t.id for t in install_builtin_templates() if t.builtin_key == "act-ru")
    page = text_of(admin_client.get(f"/documents/new?template={russian}"))
    assert _selected_company(page) == first
