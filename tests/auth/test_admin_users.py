"""Administration of users: list, create, edit, deactivate, and who may do it."""

import pytest

from portal.auth.models import Role, User
from portal.auth.roles import ADMINISTRATOR, EMPLOYEE
from portal.extensions import db
from tests.factories import make_department, make_user
from tests.helpers import login, post_form, text_of

NEW_PASSWORD = "a long new password"


def new_user_form(**overrides) -> dict:
    data = {
        "email": "new.person@example.com",
        "name": "New Person",
        "position": "Accountant",
        "phone": "",
        "department": "",
        "setup": "password",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def edit_form(user: User, **overrides) -> dict:
    """The edit form as the page would post it; `roles` is a list of role ids (the boxes ticked)."""
    data = {
        "email": user.email,
        "name": user.name,
        "position": user.position or "",
        "phone": user.phone or "",
        "department": str(user.department_id or ""),
        "roles": [str(role.id) for role in user.roles],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def role_id(app, key: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(Role.id).filter_by(key=key)).scalar_one()


def without_admin(app, user: User) -> list[str]:
    administrator = role_id(app, ADMINISTRATOR)
    return [str(role.id) for role in user.roles if role.id != administrator]


def find_user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def user_by_id(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


# --- list ------------------------------------------------------------------------------------

def test_user_list_shows_role_status_and_department(app, admin_client, admin):
    with app.app_context():
        sales = make_department("Sales", parent=make_department("Management"))
        make_user(email="emp@example.com", name="Emil Employee", department=sales)
        make_user(email="gone@example.com", name="Gina Gone", active=False)
        pending = make_user(email="inv@example.com", name="Ivan Invited")
        pending.password_hash = None
        pending.invite_token_hash = "x" * 64
        db.session.commit()
    body = text_of(admin_client.get("/admin/users?status=all"))
    assert "Emil Employee" in body and "Management / Sales" in body
    assert "Administrator" in body and "Employee" in body
    assert "Deactivated" in body
    assert "Invitation pending" in body
    assert "never" in body  # nobody but the admin has logged in


def test_status_filter_is_in_the_url(app, admin_client):
    with app.app_context():
        make_user(email="gone@example.com", name="Gina Gone", active=False)
        make_user(email="emp@example.com", name="Emil Employee")
    active = text_of(admin_client.get("/admin/users"))
    assert "Emil Employee" in active and "Gina Gone" not in active
    deactivated = text_of(admin_client.get("/admin/users?status=deactivated"))
    assert "Gina Gone" in deactivated and "Emil Employee" not in deactivated
    assert 'value="deactivated" selected' in deactivated


def test_search_as_you_type_returns_the_list_fragment(app, admin_client):
    with app.app_context():
        make_user(email="olga@example.com", name="Ольга Смирнова")
        make_user(email="emp@example.com", name="Emil Employee")
    response = admin_client.get("/admin/users?q=ольга", headers={"HX-Request": "true"})
    body = text_of(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="user-list">')
    assert "Ольга Смирнова" in body and "Emil Employee" not in body
    assert "HX-Request" in response.headers["Vary"]
    nothing = text_of(admin_client.get("/admin/users?q=zzz", headers={"HX-Request": "true"}))
    assert "No user matches" in nothing


def test_full_page_search_keeps_the_query(admin_client):
    body = text_of(admin_client.get("/admin/users?q=ada"))
    assert "<html" in body and 'value="ada"' in body and "Ada Admin" in body


# --- create ----------------------------------------------------------------------------------

def test_admin_creates_a_user_with_a_password_who_can_then_log_in(app, admin_client):
    with app.app_context():
        department_id = make_department("Sales").id
    response = post_form(admin_client, "/admin/users/new", new_user_form(
        email="  New.Person@Example.COM ", phone="+44 20 7946 0000",
        department=str(department_id),
    ))
    assert response.status_code == 302
    assert "New Person can now log in." in text_of(admin_client.get("/admin/users"))
    user = find_user(app, "new.person@example.com")
    assert user.phone == "+442079460000"
    assert user.department_id == department_id
    assert [role.key for role in user.roles] == [] and user.invite_token_hash is None
    newcomer = app.test_client()
    login(newcomer, "new.person@example.com", NEW_PASSWORD)
    assert "New Person" in text_of(newcomer.get("/"))


def test_duplicate_email_in_another_case_is_refused_and_values_kept(app, admin_client, employee):
    with app.app_context():
        department_id = make_department("Sales").id
    response = post_form(admin_client, "/admin/users/new", new_user_form(
        email="EMP@Example.com", name="Second Emil", position="Driver",
        department=str(department_id)))
    body = text_of(response)
    assert response.status_code == 200
    assert "Another user already has this email address." in body
    assert 'value="Second Emil"' in body and 'value="Driver"' in body
    assert 'value="EMP@Example.com"' in body or 'value="emp@example.com"' in body
    assert f'<option selected value="{department_id}">' in body
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 2


def test_bad_phone_is_refused_with_a_field_error(app, admin_client):
    response = post_form(admin_client, "/admin/users/new", new_user_form(phone="12345"))
    body = text_of(response)
    assert response.status_code == 200
    assert 'id="field-phone"' in body and "phone number" in body
    assert 'value="12345"' in body
    assert find_user(app, "new.person@example.com") is None


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("short", "short", "Use at least 10 characters."),
    (NEW_PASSWORD, "something else", "The two passwords differ."),
    ("", "", "Enter a password, or choose to send an invitation."),
])
def test_bad_password_is_refused(app, admin_client, password, confirm, message):
    response = post_form(admin_client, "/admin/users/new",
                         new_user_form(password=password, confirm=confirm))
    assert message in text_of(response)
    assert find_user(app, "new.person@example.com") is None


def test_empty_form_shows_required_fields(admin_client):
    response = post_form(admin_client, "/admin/users/new", new_user_form(email="", name=""))
    assert text_of(response).count("This field is required.") == 2


def test_unknown_department_is_refused(app, admin_client):
    response = post_form(admin_client, "/admin/users/new", new_user_form(department="9999"))
    assert response.status_code == 200
    assert "Not a valid choice" in text_of(response)
    assert find_user(app, "new.person@example.com") is None


def test_new_user_form_offers_departments_by_path(app, admin_client):
    with app.app_context():
        make_department("Key accounts", parent=make_department("Sales"))
    body = text_of(admin_client.get("/admin/users/new"))
    assert "Sales / Key accounts" in body
    assert "Send an invitation by email" in body and "Set a password now" in body


# --- edit ------------------------------------------------------------------------------------

def test_admin_edits_a_user(app, admin_client, employee):
    with app.app_context():
        department_id = make_department("Legal").id
    user = user_by_id(app, employee["id"])
    response = post_form(admin_client, f"/admin/users/{user.id}/edit", edit_form(
        user, name="Emil Renamed", email="Emil.New@Example.com", phone="+351 912 345 678",
        department=str(department_id),
        roles=[str(role_id(app, EMPLOYEE)), str(role_id(app, ADMINISTRATOR))]))
    assert response.status_code == 302
    changed = user_by_id(app, employee["id"])
    assert (changed.name, changed.email, changed.phone) == (
        "Emil Renamed", "emil.new@example.com", "+351912345678")
    assert changed.department_id == department_id and changed.is_admin


def test_edit_to_an_email_taken_by_another_user_is_refused(app, admin_client, admin, employee):
    user = user_by_id(app, employee["id"])
    response = post_form(admin_client, f"/admin/users/{user.id}/edit",
                         edit_form(user, email="Admin@Example.com", name="Typed Name"))
    body = text_of(response)
    assert "Another user already has this email address." in body
    assert 'value="Typed Name"' in body
    assert user_by_id(app, employee["id"]).email == "emp@example.com"


def test_unknown_user_gives_404(admin_client):
    assert admin_client.get("/admin/users/9999/edit").status_code == 404


def test_deactivation_ends_the_users_open_session_and_blocks_login(app, admin_client,
                                                                   employee, employee_client):
    assert employee_client.get("/").status_code == 200
    response = post_form(admin_client, f"/admin/users/{employee['id']}/deactivate")
    assert response.status_code == 302
    assert "is deactivated" in text_of(admin_client.get(response.headers["Location"]))
    assert employee_client.get("/").status_code == 302
    again = post_form(app.test_client(), "/login",
                      {"email": employee["email"], "password": employee["password"]})
    assert "deactivated" in text_of(again)


def test_reactivated_user_can_log_in_again(app, admin_client, employee):
    post_form(admin_client, f"/admin/users/{employee['id']}/deactivate")
    post_form(admin_client, f"/admin/users/{employee['id']}/reactivate")
    assert user_by_id(app, employee["id"]).active
    login(app.test_client(), employee["email"], employee["password"])


def test_admin_cannot_deactivate_themself(app, admin_client, admin):
    with app.app_context():
        make_user(email="second@example.com", name="Second Admin", is_admin=True)
    response = post_form(admin_client, f"/admin/users/{admin['id']}/deactivate",
                         follow_redirects=True)
    assert "You cannot deactivate your own account." in text_of(response)
    assert user_by_id(app, admin["id"]).active
    assert admin_client.get("/admin/users").status_code == 200


def test_the_last_administrator_cannot_be_demoted(app, admin_client, admin):
    user = user_by_id(app, admin["id"])
    response = post_form(admin_client, f"/admin/users/{admin['id']}/edit",
                         edit_form(user, roles=without_admin(app, user), name="Ada Changed"))
    body = text_of(response)
    assert response.status_code == 200
    assert "Nobody active could manage permissions after this change." in body
    unchanged = user_by_id(app, admin["id"])
    assert unchanged.is_admin and unchanged.name == "Ada Admin"


def test_admin_cannot_remove_their_own_admin_role(app, admin_client, admin):
    with app.app_context():
        make_user(email="second@example.com", name="Second Admin", is_admin=True)
    user = user_by_id(app, admin["id"])
    response = post_form(admin_client, f"/admin/users/{admin['id']}/edit",
                         edit_form(user, roles=without_admin(app, user)))
    assert "You cannot take away your own permission to manage permissions." in text_of(response)
    assert user_by_id(app, admin["id"]).is_admin


def test_another_administrator_can_be_demoted(app, admin_client):
    with app.app_context():
        second_id = make_user(email="second@example.com", name="Second Admin", is_admin=True).id
    second = user_by_id(app, second_id)
    response = post_form(admin_client, f"/admin/users/{second_id}/edit",
                         edit_form(second, roles=without_admin(app, second)))
    assert response.status_code == 302
    assert not user_by_id(app, second_id).is_admin


def test_admin_sets_a_new_password_and_old_sessions_end(app, admin_client, employee,
                                                        employee_client):
    response = post_form(admin_client, f"/admin/users/{employee['id']}/password",
                         {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert employee_client.get("/").status_code == 302
    login(app.test_client(), employee["email"], NEW_PASSWORD)


def test_too_short_new_password_is_refused(app, admin_client, employee):
    response = post_form(admin_client, f"/admin/users/{employee['id']}/password",
                         {"password": "short", "confirm": "short"})
    assert response.status_code == 200
    assert "Use at least 10 characters." in text_of(response)
    login(app.test_client(), employee["email"], employee["password"])


# --- who may ---------------------------------------------------------------------------------

ADMIN_PAGES = [
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{id}/edit",
    "/admin/departments",
    "/admin/departments/new",
    "/admin/departments/{dept}/edit",
]
ADMIN_POSTS = [
    "/admin/users/new",
    "/admin/users/{id}/edit",
    "/admin/users/{id}/password",
    "/admin/users/{id}/deactivate",
    "/admin/users/{id}/reactivate",
    "/admin/users/{id}/resend-invitation",
    "/admin/departments/new",
    "/admin/departments/{dept}/edit",
    "/admin/departments/{dept}/delete",
]


def _urls(app, employee, templates):
    with app.app_context():
        dept = make_department("Sales").id
    return [url.format(id=employee["id"], dept=dept) for url in templates]


def test_employee_gets_403_on_every_admin_screen_and_action(app, employee, employee_client):
    for url in _urls(app, employee, ADMIN_PAGES):
        assert employee_client.get(url).status_code == 403, url
    for url in _urls(app, employee, ADMIN_POSTS):
        response = post_form(employee_client, url, new_user_form(name="Hacked"))
        assert response.status_code == 403, url
    assert user_by_id(app, employee["id"]).name == "Emil Employee"
    assert find_user(app, "new.person@example.com") is None


def test_employee_does_not_see_admin_links(employee_client):
    body = text_of(employee_client.get("/"))
    assert "/admin/users" not in body and "/admin/departments" not in body


def test_anonymous_visitor_is_sent_to_login(app, client, employee):
    for url in _urls(app, employee, ADMIN_PAGES):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_post_without_csrf_token_is_refused(app, admin_client):
    response = admin_client.post("/admin/users/new", data=new_user_form())
    assert response.status_code == 400
    assert "Form expired" in text_of(response)
    assert find_user(app, "new.person@example.com") is None
