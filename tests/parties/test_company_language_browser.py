"""In Chromium: choosing a template in another language switches "Our company" to the company
of that language, until the user picks a company."""

import pytest
from playwright.sync_api import expect

from portal.doctemplates.builtin import install_builtin_templates
from tests.factories import make_company
from tests.helpers import browser_log_in

pytestmark = pytest.mark.browser


def test_the_template_picks_the_company_of_its_language(app, desktop, admin):
    with app.app_context():
        english = make_company(legal_name="English Ltd", language="en").id
        russian = make_company(legal_name="ООО «Русская»", language="ru").id
        install_builtin_templates()
    browser_log_in(desktop, admin["email"], admin["password"])
    desktop.goto("/documents/new")
    template, company = desktop.get_by_label("Template"), desktop.get_by_label("Our company")

    template.select_option(label="Акт выполненных работ")
    expect(company).to_have_value(str(russian))
    template.select_option(label="Act of completed work")
    expect(company).to_have_value(str(english))

    company.select_option(str(russian))  # the user's own choice stays
    template.select_option(label="Auto de execução de serviços")
    template.select_option(label="Act of completed work")
    expect(company).to_have_value(str(russian))
    assert desktop.console_errors == []
