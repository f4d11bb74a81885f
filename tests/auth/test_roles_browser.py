"""The role grid in headless Chromium: a cell saves on change, shows it, and the change bites."""

import os

import pytest
from playwright.sync_api import expect

from portal.auth.models import Role, RoleGrant
from portal.auth.roles import ADMINISTRATOR, EMPLOYEE
from portal.extensions import db
from tests.factories import make_department, make_user
from tests.helpers import browser_log_in, page_width

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("SIGNET_SCREENSHOTS")  # a folder, to look at the pages by eye


def _snap(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"roles-{name}.png"), full_page=True,
                        caret="initial")  # hiding the caret injects a style the CSP refuses


def _role_id(app, key):
    with app.app_context():
        return db.session.execute(db.select(Role.id).filter_by(key=key)).scalar_one()


def _stored(app, role_id, section, action):
    with app.app_context():
        return db.session.execute(db.select(RoleGrant.scope).filter_by(
            role_id=role_id, section=section, action=action)).scalar() or "none"


def test_a_cell_saves_on_change_and_applies_at_once(app, admin, employee, desktop, browser,
                                                    live_server):
    employee_role = _role_id(app, EMPLOYEE)
    browser_log_in(desktop, admin["email"], admin["password"])
    desktop.goto(f"/admin/roles/{employee_role}")
    _snap(desktop, "grid-1280")

    cell = desktop.locator("#cell-permissions-view")
    desktop.select_option("#grant-permissions-view", "all")
    expect(cell).to_have_class("grant-cell is-saved")
    expect(cell.locator(".grant-state")).to_have_text("Saved")
    assert _stored(app, employee_role, "permissions", "view") == "all"
    _snap(desktop, "grid-saved-1280")

    # The employee, in a browser of their own, reaches the role screens on their next click.
    context = browser.new_context(base_url=live_server.url)
    try:
        colleague = context.new_page()
        browser_log_in(colleague, employee["email"], employee["password"])
        assert colleague.goto("/admin/roles").status == 200
        desktop.select_option("#grant-permissions-view", "none")
        expect(cell).to_have_class("grant-cell is-saved")
        assert colleague.goto("/admin/roles").status == 403
    finally:
        context.close()
    assert desktop.console_errors == []


def test_a_refused_cell_says_why_and_shows_the_stored_value(app, admin, desktop):
    administrator = _role_id(app, ADMINISTRATOR)
    browser_log_in(desktop, admin["email"], admin["password"])
    desktop.goto(f"/admin/roles/{administrator}")
    desktop.select_option("#grant-permissions-edit", "none")
    cell = desktop.locator("#cell-permissions-edit")
    expect(cell).to_have_class("grant-cell is-failed")
    expect(cell).to_contain_text("Nobody active could manage permissions")
    expect(desktop.locator("#grant-permissions-edit")).to_have_value("all")
    assert _stored(app, administrator, "permissions", "edit") == "all"
    expect(desktop.locator("#toast")).to_be_hidden()  # the cell says it; no generic toast
    _snap(desktop, "grid-refused-1280")


def test_the_grid_becomes_cards_on_a_phone(app, admin, phone):
    employee_role = _role_id(app, EMPLOYEE)
    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto(f"/admin/roles/{employee_role}")
    _fits(phone, "grid")
    phone.select_option("#grant-documents-edit", "subtree")
    expect(phone.locator("#cell-documents-edit .grant-state")).to_have_text("Saved")
    assert _stored(app, employee_role, "documents", "edit") == "subtree"
    _snap(phone, "grid-390")
    for path in ("/admin/roles", f"/admin/users/{admin['id']}/access",
                 f"/admin/roles/{employee_role}/delete"):
        assert phone.goto(path).ok, path
        _fits(phone, path)
        _snap(phone, path.strip("/").replace("/", "-") + "-390")
    # Russian labels are the longest: the grid and the list must still fit.
    phone.click("button[name=locale][value=ru]")
    for path in (f"/admin/roles/{employee_role}", "/admin/roles"):
        phone.goto(path)
        _fits(phone, path)
    assert phone.console_errors == []


# Nothing may stick out on the right, not even inside a box that hides its overflow.
STICKING_OUT = """() => Array.from(document.querySelectorAll('main *'))
  .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 1)
  .map(e => e.tagName + '.' + e.className)"""


def _fits(page, path):
    assert page_width(page) <= 390, path
    assert page.evaluate(STICKING_OUT) == [], path


def test_access_and_role_list_at_desktop_width(app, admin, desktop):
    with app.app_context():
        sales = make_department("Sales")
        sales.roles.append(db.session.execute(
            db.select(Role).filter_by(key=EMPLOYEE)).scalar_one())
        db.session.commit()
        user_id = make_user(email="s@example.com", name="Sara Sales", department=sales).id
    browser_log_in(desktop, admin["email"], admin["password"])
    for path, name in (("/admin/roles", "list"), (f"/admin/users/{user_id}/access", "access"),
                       ("/admin/users", "users"), ("/admin/departments", "departments"),
                       (f"/admin/users/{user_id}/edit", "user-edit")):
        assert desktop.goto(path).ok, path
        _snap(desktop, f"{name}-1280")
    assert desktop.console_errors == []
