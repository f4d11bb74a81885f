"""The department tree: create, rename, move, delete, and the rules that keep it a tree."""

import re

from portal.auth.models import Department
from portal.extensions import db
from tests.factories import make_department, make_user
from tests.helpers import post_form, text_of

HTMX = {"HX-Request": "true"}


def add(client, name, parent_id=None, **kwargs):
    return post_form(client, "/admin/departments/new",
                     {"name": name, "parent": str(parent_id or "")}, **kwargs)


def edit(client, department_id, name, parent_id=None, **kwargs):
    return post_form(client, f"/admin/departments/{department_id}/edit",
                     {"name": name, "parent": str(parent_id or "")}, **kwargs)


def department(app, name) -> Department | None:
    with app.app_context():
        found = db.session.execute(db.select(Department).filter_by(name=name)).scalar_one_or_none()
        if found is None:
            return None
        db.session.expunge(found)
        return found


def tree(app):
    with app.app_context():
        rows = db.session.execute(db.select(Department)).scalars().all()
        return {d.name: (d.parent.name if d.parent else None) for d in rows}


def test_create_a_tree_of_three_levels(app, admin_client):
    assert add(admin_client, "Management").status_code == 302
    management = department(app, "Management")
    add(admin_client, "Sales", management.id)
    add(admin_client, "Key accounts", department(app, "Sales").id)
    assert tree(app) == {"Management": None, "Sales": "Management", "Key accounts": "Sales"}
    page = text_of(admin_client.get("/admin/departments"))
    assert "Added the department “Key accounts”." in page
    shown = page[page.index('id="department-tree"'):]
    # Nested lists: the grandchild sits two <ul> levels below the root.
    assert re.search(r'<ul class="tree">\s*<li>.*<strong>Management</strong>.*?<ul>.*?'
                     r"<strong>Sales</strong>.*?<ul>.*?<strong>Key accounts</strong>", shown, re.S)
    assert shown.count("0 members") == 3


def test_member_count_is_shown(app, admin_client):
    with app.app_context():
        sales = make_department("Sales")
        make_user(email="a@example.com", department=sales)
        make_user(email="b@example.com", department=sales)
    assert "2 members" in text_of(admin_client.get("/admin/departments"))


def test_add_with_htmx_swaps_the_tree_and_resets_the_form(app, admin_client):
    response = add(admin_client, "Legal", headers=HTMX)
    body = text_of(response)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#department-tree"
    assert body.lstrip().startswith('<section id="department-tree"')
    assert "Added the department “Legal”." in body
    assert 'id="department-new"' in body and 'hx-swap-oob="true"' in body
    assert "<html" not in body


def test_name_is_required_and_limited(app, admin_client):
    empty = add(admin_client, "   ")
    assert empty.status_code == 200 and "This field is required." in text_of(empty)
    long = add(admin_client, "x" * 121)
    assert "Field cannot be longer than 120 characters." in text_of(long)
    assert tree(app) == {}


def test_duplicate_sibling_name_is_refused_in_any_case(app, admin_client):
    with app.app_context():
        top = make_department("Management")
        make_department("Sales", parent=top)
        top_id = top.id
    response = add(admin_client, "  SALES ", top_id)
    assert response.status_code == 200
    assert "There is already a department called “SALES” here." in text_of(response)
    # The same name elsewhere in the tree is fine.
    assert add(admin_client, "Sales").status_code == 302
    with app.app_context():
        assert db.session.execute(
            db.select(db.func.count()).where(Department.name == "Sales")).scalar() == 2


def test_duplicate_name_error_comes_back_inside_the_form_for_htmx(app, admin_client):
    with app.app_context():
        make_department("Отдел продаж")
    response = add(admin_client, "отдел ПРОДАЖ", headers=HTMX)
    body = text_of(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<form id="department-new"')
    assert "There is already a department called" in body
    assert 'value="отдел ПРОДАЖ"' in body
    assert "HX-Retarget" not in response.headers


def test_rename(app, admin_client):
    with app.app_context():
        sales_id = make_department("Sales").id
    inline = admin_client.get(f"/admin/departments/{sales_id}/edit", headers=HTMX)
    assert text_of(inline).lstrip().startswith(f'<form id="department-{sales_id}"')
    assert 'value="Sales"' in text_of(inline)
    response = edit(admin_client, sales_id, "Sales & Marketing", headers=HTMX)
    assert response.headers["HX-Retarget"] == "#department-tree"
    assert "Sales &amp; Marketing" in text_of(response)
    assert tree(app) == {"Sales & Marketing": None}


def test_rename_page_works_without_javascript(app, admin_client):
    with app.app_context():
        sales_id = make_department("Sales").id
    page = admin_client.get(f"/admin/departments/{sales_id}/edit")
    assert "<html" in text_of(page) and 'value="Sales"' in text_of(page)
    response = edit(admin_client, sales_id, "Revenue", follow_redirects=True)
    assert "Saved the department “Revenue”." in text_of(response)


def test_move_under_another_parent(app, admin_client):
    with app.app_context():
        management = make_department("Management")
        sales = make_department("Sales", parent=management)
        make_department("Key accounts", parent=sales)
        operations_id, sales_id = make_department("Operations").id, sales.id
    assert edit(admin_client, sales_id, "Sales", operations_id).status_code == 302
    assert tree(app) == {"Management": None, "Operations": None, "Sales": "Operations",
                         "Key accounts": "Sales"}
    assert edit(admin_client, sales_id, "Sales", None).status_code == 302
    assert tree(app)["Sales"] is None


def test_moving_into_itself_or_a_descendant_is_refused(app, admin_client):
    with app.app_context():
        management = make_department("Management")
        sales = make_department("Sales", parent=management)
        key_accounts = make_department("Key accounts", parent=sales)
        ids = management.id, sales.id, key_accounts.id
    management_id, sales_id, key_id = ids
    before = tree(app)
    # The edit form does not even offer these parents...
    page = text_of(admin_client.get(f"/admin/departments/{management_id}/edit"))
    options = re.search(r'<select[^>]*name="parent".*?</select>', page, re.S).group(0)
    assert f'value="{key_id}"' not in options
    # ...and a forged request is refused with a message.
    for parent in (management_id, sales_id, key_id):
        response = edit(admin_client, management_id, "Management", parent)
        assert response.status_code == 200
        assert "Not a valid choice" in text_of(response)
    assert tree(app) == before


def test_cycle_is_refused_by_the_service(app):
    from portal.auth.departments import DepartmentRefused, update_department

    with app.app_context(), app.test_request_context():
        top = make_department("Top")
        child = make_department("Child", parent=top)
        try:
            update_department(top.id, "Top", child.id)
        except DepartmentRefused as refused:
            assert "inside itself or one of its subdepartments" in refused.message
        else:
            raise AssertionError("a cycle was accepted")
        db.session.rollback()
        assert db.session.get(Department, top.id).parent_id is None


def test_delete_with_members_is_refused_and_says_how_many(app, admin_client):
    with app.app_context():
        sales = make_department("Sales")
        for n in range(3):
            make_user(email=f"u{n}@example.com", department=sales)
        sales_id = sales.id
    response = post_form(admin_client, f"/admin/departments/{sales_id}/delete", headers=HTMX)
    body = text_of(response)
    assert response.status_code == 200
    assert "“Sales” has 3 members. Move them to another department first." in body
    assert 'flash-error' in body
    assert department(app, "Sales") is not None


def test_delete_with_subdepartments_is_refused(app, admin_client):
    with app.app_context():
        top = make_department("Management")
        make_department("Sales", parent=top)
        top_id = top.id
    response = post_form(admin_client, f"/admin/departments/{top_id}/delete",
                         follow_redirects=True)
    assert "“Management” has 1 subdepartment. Move or delete it first." in text_of(response)
    assert department(app, "Management") is not None


def test_delete_an_empty_department(app, admin_client):
    with app.app_context():
        top = make_department("Management")
        sales_id = make_department("Sales", parent=top).id
    response = post_form(admin_client, f"/admin/departments/{sales_id}/delete",
                         follow_redirects=True)
    assert "Deleted the department “Sales”." in text_of(response)
    assert tree(app) == {"Management": None}


def test_unknown_department_gives_404(admin_client):
    assert admin_client.get("/admin/departments/999/edit").status_code == 404
    assert post_form(admin_client, "/admin/departments/999/delete").status_code == 404


def test_add_subdepartment_preselects_the_parent(app, admin_client):
    with app.app_context():
        sales_id = make_department("Sales").id
    response = admin_client.get(f"/admin/departments/new?parent={sales_id}", headers=HTMX)
    assert f'<option selected value="{sales_id}">' in text_of(response) or \
        f'value="{sales_id}" selected' in text_of(response)
