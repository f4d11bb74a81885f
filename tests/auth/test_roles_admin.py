"""The role screens: list, create, copy, rename, delete, the grid saved cell by cell,
assignments to users and departments, "what can this user do", and the guard that keeps
someone able to manage permissions."""

import re
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from portal.audit.models import AuditEvent
from portal.auth.models import Department, Role, RoleGrant, User
from portal.auth.permissions import SECTION_ACTIONS, scope_of
from portal.auth.roles import ADMINISTRATOR, EMPLOYEE, SUPERVISOR
from portal.extensions import db
from tests.factories import make_department, make_user
from tests.helpers import post_form, sign_in, text_of

HTMX = {"HX-Request": "true"}


# --- helpers ---------------------------------------------------------------------------------

def role_id(app, key: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(Role.id).filter_by(key=key)).scalar_one()


def role_named(app, name: str) -> Role | None:
    with app.app_context():
        role = db.session.execute(db.select(Role).filter_by(name=name)).scalar_one_or_none()
        if role is not None:
            grants = {(g.section, g.action): g.scope for g in role.grants}
            db.session.expunge(role)
            role.scopes = grants
        return role


def scopes_of_role(app, rid: int) -> dict[tuple[str, str], str]:
    with app.app_context():
        rows = db.session.execute(db.select(RoleGrant).filter_by(role_id=rid)).scalars()
        return {(g.section, g.action): g.scope for g in rows}


def role_keys_of(app, user_id: int) -> set[str | None]:
    with app.app_context():
        return {role.key or role.name for role in db.session.get(User, user_id).roles}


def make_role(name: str, grants: dict[tuple[str, str], str]) -> Role:
    role = Role(name=name)
    role.grants = [RoleGrant(section=s, action=a, scope=scope) for (s, a), scope in grants.items()]
    db.session.add(role)
    db.session.commit()
    return role


def set_cell(client, rid, section, action, scope, headers=HTMX):
    return post_form(client, f"/admin/roles/{rid}/grants/{section}/{action}",
                     {f"{section}.{action}": scope}, headers=headers)


def events(app, event_type: str) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(
            db.select(AuditEvent).filter_by(type=event_type).order_by(AuditEvent.id)).scalars()
        return [{"actor_id": e.actor_id, "document_id": e.document_id, **(e.details or {})}
                for e in rows]


def log_in_as(app, user_id: int):
    with app.app_context():
        email = db.session.get(User, user_id).email
    client = app.test_client()
    sign_in(client, email)
    return client


MANAGING = {("permissions", "view"): "all", ("permissions", "edit"): "all"}


# --- the list --------------------------------------------------------------------------------

def test_list_shows_every_role_with_its_holders(app, admin_client, admin):
    with app.app_context():
        sales = make_department("Sales")
        sales.roles.append(db.session.execute(
            db.select(Role).filter_by(key=SUPERVISOR)).scalar_one())
        db.session.commit()
        make_user(email="emp@example.com", department=sales)
    body = text_of(admin_client.get("/admin/roles"))
    for name in ("Employee", "Supervisor", "Administrator"):
        assert name in body
    supervisor = body[body.index(f'id="role-{role_id(app, SUPERVISOR)}"'):]
    counts = re.findall(r'class="role-count">(\d+)<', supervisor)[:2]
    assert counts == ["0", "1"]  # no user holds it directly; one department hands it down
    employee = body[body.index(f'id="role-{role_id(app, EMPLOYEE)}"'):]
    assert re.findall(r'class="role-count">(\d+)<', employee)[:2] == ["2", "0"]


def test_create_a_role_that_allows_nothing_yet(app, admin_client, admin):
    response = post_form(admin_client, "/admin/roles/new",
                         {"name": "  Lawyer  ", "description": "Reviews contracts."})
    assert response.status_code == 302
    lawyer = role_named(app, "Lawyer")
    assert lawyer.description == "Reviews contracts." and lawyer.scopes == {}
    assert response.headers["Location"].endswith(f"/admin/roles/{lawyer.id}")
    page = text_of(admin_client.get(response.headers["Location"]))
    assert "Added the role “Lawyer”." in page
    assert [e["name"] for e in events(app, "role.created")] == ["Lawyer"]
    assert events(app, "role.created")[0]["actor_id"] == admin["id"]
    assert events(app, "role.created")[0]["document_id"] is None


@pytest.mark.parametrize(("name", "message"), [
    ("ADMINISTRATOR", "There is already a role called “ADMINISTRATOR”."),
    ("   ", "This field is required."),
    ("x" * 81, "Field cannot be longer than 80 characters."),
])
def test_bad_role_names_are_refused(app, admin_client, name, message):
    with app.app_context():
        before = db.session.execute(db.select(db.func.count(Role.id))).scalar()
    response = post_form(admin_client, "/admin/roles/new", {"name": name})
    assert response.status_code == 200
    assert message in text_of(response)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Role.id))).scalar() == before


def test_cyrillic_names_clash_in_any_case(app, admin_client):
    assert post_form(admin_client, "/admin/roles/new", {"name": "Юрист"}).status_code == 302
    response = post_form(admin_client, "/admin/roles/new", {"name": "ЮРИСТ"})
    assert "There is already a role called “ЮРИСТ”." in text_of(response)


def test_copy_keeps_grants_and_picks_a_free_name(app, admin_client):
    supervisor = role_id(app, SUPERVISOR)
    first = post_form(admin_client, f"/admin/roles/{supervisor}/copy")
    second = post_form(admin_client, f"/admin/roles/{supervisor}/copy")
    assert first.status_code == second.status_code == 302
    copy, copy_2 = role_named(app, "Copy of Supervisor"), role_named(app, "Copy of Supervisor (2)")
    assert copy.scopes == copy_2.scopes == scopes_of_role(app, supervisor)
    assert copy.key is None  # a copy is an ordinary role
    assert events(app, "role.created")[0]["copied_from"] == supervisor


def test_rename_and_describe(app, admin_client):
    with app.app_context():
        rid = make_role("Lawyer", {}).id
    response = post_form(admin_client, f"/admin/roles/{rid}/edit",
                         {"name": "Legal counsel", "description": "Checks every contract."})
    assert response.status_code == 302
    role = role_named(app, "Legal counsel")
    assert role.description == "Checks every contract."
    assert events(app, "role.updated")[0]["name"] == ["Lawyer", "Legal counsel"]


def test_renaming_to_a_taken_name_is_refused(app, admin_client):
    with app.app_context():
        rid = make_role("Lawyer", {}).id
    response = post_form(admin_client, f"/admin/roles/{rid}/edit", {"name": "employee"})
    assert "There is already a role called “employee”." in text_of(response)
    assert role_named(app, "Lawyer") is not None


def test_built_in_role_shown_translated_keeps_its_stored_name(app, admin_client, admin):
    with app.app_context():
        db.session.get(User, admin["id"]).locale = "ru"
        db.session.commit()
    employee = role_id(app, EMPLOYEE)
    page = text_of(admin_client.get(f"/admin/roles/{employee}"))
    shown = re.search(r'name="name"[^>]*value="([^"]+)"', page).group(1)
    assert shown != "Employee"  # the Russian name
    description = re.search(r'<textarea[^>]*name="description"[^>]*>\s*([^<]*)<', page).group(1)
    response = post_form(admin_client, f"/admin/roles/{employee}/edit",
                         {"name": shown, "description": description.strip()})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Role, employee).name == "Employee"
    assert events(app, "role.updated") == []


# --- deleting --------------------------------------------------------------------------------

def test_delete_a_role_nobody_holds(app, admin_client):
    with app.app_context():
        rid = make_role("Lawyer", {("documents", "view"): "own"}).id
    page = text_of(admin_client.get(f"/admin/roles/{rid}/delete"))
    assert "Nobody holds this role." in page and 'name="replacement"' not in page
    response = post_form(admin_client, f"/admin/roles/{rid}/delete")
    assert response.status_code == 302
    assert role_named(app, "Lawyer") is None
    assert scopes_of_role(app, rid) == {}
    assert events(app, "role.deleted")[0]["name"] == "Lawyer"


def test_deleting_a_role_in_use_needs_a_replacement_and_moves_its_holders(app, admin_client):
    with app.app_context():
        lawyer = make_role("Lawyer", {("documents", "view"): "all"})
        legal = make_department("Legal")
        legal.roles.append(lawyer)
        holder = make_user(email="l@example.com", name="Lena Lawyer")
        holder.roles = [lawyer]
        db.session.commit()
        rid, legal_id, holder_id = lawyer.id, legal.id, holder.id
    page = text_of(admin_client.get(f"/admin/roles/{rid}/delete"))
    assert "1 user holds this role" in page and 'name="replacement"' in page
    refused = post_form(admin_client, f"/admin/roles/{rid}/delete", {"replacement": ""})
    assert "choose the role they get instead" in text_of(refused)
    assert role_named(app, "Lawyer") is not None
    supervisor = role_id(app, SUPERVISOR)
    done = post_form(admin_client, f"/admin/roles/{rid}/delete", {"replacement": str(supervisor)})
    assert done.status_code == 302
    assert role_named(app, "Lawyer") is None
    assert role_keys_of(app, holder_id) == {SUPERVISOR}
    with app.app_context():
        assert [r.key for r in db.session.get(Department, legal_id).roles] == [SUPERVISOR]
    deleted = events(app, "role.deleted")[0]
    assert deleted["replacement_id"] == supervisor and deleted["users"] == [holder_id]


def test_a_role_cannot_replace_itself(app, admin_client, employee):
    employee_role = role_id(app, EMPLOYEE)
    response = post_form(admin_client, f"/admin/roles/{employee_role}/delete",
                         {"replacement": str(employee_role)})
    assert "Not a valid choice" in text_of(response)
    assert role_keys_of(app, employee["id"]) == {EMPLOYEE}


def test_a_built_in_role_may_be_deleted_when_someone_still_manages(app, admin_client, employee):
    employee_role, supervisor = role_id(app, EMPLOYEE), role_id(app, SUPERVISOR)
    response = post_form(admin_client, f"/admin/roles/{employee_role}/delete",
                         {"replacement": str(supervisor)})
    assert response.status_code == 302
    assert role_keys_of(app, employee["id"]) == {SUPERVISOR}
    # New users then start with no role ticked.
    assert 'checked' not in re.search(
        r'<fieldset class="role-choices.*?</fieldset>',
        text_of(admin_client.get("/admin/users/new")), re.S).group(0)


def test_deleting_the_only_managing_role_is_refused(app, admin_client, admin):
    administrator, supervisor = role_id(app, ADMINISTRATOR), role_id(app, SUPERVISOR)
    response = post_form(admin_client, f"/admin/roles/{administrator}/delete",
                         {"replacement": str(supervisor)})
    assert response.status_code == 200
    assert "Nobody active could manage permissions after this change." in text_of(response)
    assert ADMINISTRATOR in role_keys_of(app, admin["id"])
    assert events(app, "role.deleted") == []


# --- the grid --------------------------------------------------------------------------------

def test_grid_offers_a_picker_only_where_the_action_exists(app, admin_client):
    body = text_of(admin_client.get(f"/admin/roles/{role_id(app, EMPLOYEE)}"))
    pickers = set(re.findall(r'<select id="grant-(\w+)-(\w+)"', body))
    assert pickers == {(s, a) for s, actions in SECTION_ACTIONS.items() for a in actions}
    documents = re.search(r'<select id="grant-documents-view".*?</select>', body, re.S).group(0)
    assert re.findall(r'value="(\w+)"', documents) == ["none", "own", "department", "subtree",
                                                       "all"]
    assert re.search(r'value="own"\s+selected', documents)  # the employee's own documents
    templates = re.search(r'<select id="grant-templates-edit".*?</select>', body, re.S).group(0)
    assert re.findall(r'value="(\w+)"', templates) == ["none", "all"]
    assert "Allowed" in templates and "Not allowed" in templates
    assert 'hx-post="/admin/roles/' in documents and 'hx-trigger="change"' in documents
    assert "Users and permissions" in body and "Signed documents" in body
    assert "Save the permissions" in body  # inside <noscript>: the grid without JavaScript


def test_a_cell_saves_with_htmx_and_comes_back_saved(app, admin_client, admin):
    employee_role = role_id(app, EMPLOYEE)
    response = set_cell(admin_client, employee_role, "documents", "view", "department")
    body = text_of(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<td class="grant-cell is-saved" id="cell-documents-view"')
    assert re.search(r'value="department"\s+selected', body) and "Saved" in body
    assert scopes_of_role(app, employee_role)[("documents", "view")] == "department"
    changed = events(app, "role.updated")[0]
    assert changed["grants"] == [{"section": "documents", "action": "view", "from": "own",
                                  "to": "department"}]
    assert changed["actor_id"] == admin["id"] and changed["document_id"] is None
    # Back to none: the grant row goes away, nothing else moves.
    set_cell(admin_client, employee_role, "documents", "view", "none")
    scopes = scopes_of_role(app, employee_role)
    assert ("documents", "view") not in scopes and scopes[("documents", "edit")] == "own"


@pytest.mark.parametrize(("section", "action", "scope", "message"), [
    ("documents", "view", "everything", "is not a choice for documents: view"),
    ("templates", "view", "own", "is not a choice for templates: view"),
    ("documents", "view", "", "is not a choice"),
    ("nowhere", "view", "all", "There is no section “nowhere”."),
    ("vault", "delete", "all", "The section “vault” has no action “delete”."),
])
def test_a_bad_cell_is_refused_with_400_and_nothing_changes(app, admin_client, section, action,
                                                           scope, message):
    employee_role = role_id(app, EMPLOYEE)
    before = scopes_of_role(app, employee_role)
    for headers in (HTMX, {}):  # the picker's request, and a plain form post
        response = set_cell(admin_client, employee_role, section, action, scope, headers)
        assert response.status_code == 400
        assert message in text_of(response)
    assert scopes_of_role(app, employee_role) == before
    assert events(app, "role.updated") == []


def test_a_cell_posted_without_htmx_goes_back_to_the_grid(app, admin_client):
    employee_role = role_id(app, EMPLOYEE)
    response = set_cell(admin_client, employee_role, "vault", "view", "all", headers={})
    assert response.status_code == 302
    assert scopes_of_role(app, employee_role)[("vault", "view")] == "all"


def test_unknown_role_is_404(admin_client):
    assert admin_client.get("/admin/roles/9999").status_code == 404
    assert set_cell(admin_client, 9999, "documents", "view", "all").status_code == 404


def test_whole_grid_saves_without_javascript(app, admin_client):
    employee_role = role_id(app, EMPLOYEE)
    form = {f"{s}.{a}": "none" for s, actions in SECTION_ACTIONS.items() for a in actions}
    form.update({"documents.view": "subtree", "templates.edit": "all", "vault.view": "own"})
    response = post_form(admin_client, f"/admin/roles/{employee_role}/grants", form,
                         follow_redirects=True)
    assert "Saved what “Employee” allows." in text_of(response)
    assert scopes_of_role(app, employee_role) == {
        ("documents", "view"): "subtree", ("templates", "edit"): "all", ("vault", "view"): "own"}
    assert len(events(app, "role.updated")) == 1


def test_whole_grid_with_one_bad_cell_changes_nothing(app, admin_client):
    employee_role = role_id(app, EMPLOYEE)
    before = scopes_of_role(app, employee_role)
    response = post_form(admin_client, f"/admin/roles/{employee_role}/grants",
                         {"documents.view": "all", "documents.fly": "all"})
    assert response.status_code == 400
    assert "has no action “fly”" in text_of(response)
    assert scopes_of_role(app, employee_role) == before


def test_a_changed_grant_applies_from_the_next_request(app, admin_client, employee,
                                                       employee_client):
    employee_role = role_id(app, EMPLOYEE)
    assert employee_client.get("/admin/roles").status_code == 403
    assert "/admin/roles" not in text_of(employee_client.get("/"))
    set_cell(admin_client, employee_role, "permissions", "view", "all")
    assert employee_client.get("/admin/roles").status_code == 200
    assert "/admin/roles" in text_of(employee_client.get("/"))
    # View only: the grid shows, its pickers are disabled and changing a cell is refused.
    grid = text_of(employee_client.get(f"/admin/roles/{employee_role}"))
    assert "You may look at this role but not change it." in grid and "hx-post" not in grid
    assert set_cell(employee_client, employee_role, "documents", "view", "all").status_code == 403
    set_cell(admin_client, employee_role, "permissions", "view", "none")
    assert employee_client.get("/admin/roles").status_code == 403


# --- the guard -------------------------------------------------------------------------------

def test_taking_the_last_managing_grant_is_refused_in_the_cell(app, admin_client):
    administrator = role_id(app, ADMINISTRATOR)
    response = set_cell(admin_client, administrator, "permissions", "edit", "none")
    body = text_of(response)
    assert response.status_code == 409
    assert response.headers["X-Signet-Fragment"] == "grant-cell"
    assert 'class="grant-cell is-failed"' in body
    assert "Nobody active could manage permissions after this change." in body
    assert re.search(r'value="all"\s+selected', body)  # the stored value, back in the picker
    assert scopes_of_role(app, administrator)[("permissions", "edit")] == "all"


def test_nobody_can_take_their_own_managing_away(app, admin_client, admin):
    with app.app_context():
        keeper = make_role("Keeper", MANAGING)
        me = db.session.get(User, admin["id"])
        me.roles = [keeper]
        other = make_user(email="second@example.com", name="Second Admin", is_admin=True)
        keeper_id, other_id = keeper.id, other.id
    response = set_cell(admin_client, keeper_id, "permissions", "view", "none")
    assert response.status_code == 409
    assert "You cannot take away your own permission to manage permissions." in text_of(response)
    assert scopes_of_role(app, keeper_id)[("permissions", "view")] == "all"
    # Someone else may.
    other_client = log_in_as(app, other_id)
    assert set_cell(other_client, keeper_id, "permissions", "view", "none").status_code == 200


def test_the_guard_counts_roles_handed_down_by_departments(app, admin_client, admin):
    with app.app_context():
        top = make_department("Management")
        it = make_department("IT", parent=top)
        top.roles.append(db.session.execute(
            db.select(Role).filter_by(key=ADMINISTRATOR)).scalar_one())
        me = db.session.get(User, admin["id"])
        me.roles, me.department = [], it
        db.session.commit()
        top_id, it_id = top.id, it.id
    # The admin manages only through Management -> IT: taking the role off the top department,
    # or moving IT out of it, would leave nobody.
    refused = post_form(admin_client, f"/admin/departments/{top_id}/edit",
                        {"name": "Management", "parent": "", "roles": []})
    assert "Nobody active could manage permissions after this change." in text_of(refused)
    moved = post_form(admin_client, f"/admin/departments/{it_id}/edit",
                      {"name": "IT", "parent": "", "roles": []})
    assert "Nobody active could manage permissions" in text_of(moved)
    with app.app_context():
        assert db.session.get(Department, it_id).parent_id == top_id
        assert [r.key for r in db.session.get(Department, top_id).roles] == [ADMINISTRATOR]
    assert admin_client.get("/admin/roles").status_code == 200


def test_leaving_the_managing_department_yourself_is_refused(app, admin_client, admin):
    from tests.auth.test_admin_users import edit_form, user_by_id

    with app.app_context():
        it = make_department("IT")
        it.roles.append(db.session.execute(
            db.select(Role).filter_by(key=ADMINISTRATOR)).scalar_one())
        make_user(email="second@example.com", name="Second Admin", is_admin=True)
        me = db.session.get(User, admin["id"])
        me.roles, me.department = [], it
        db.session.commit()
    me = user_by_id(app, admin["id"])
    response = post_form(admin_client, f"/admin/users/{admin['id']}/edit",
                         edit_form(me, department=""))
    assert "You cannot take away your own permission to manage permissions." in text_of(response)
    with app.app_context():
        assert db.session.get(User, admin["id"]).department.name == "IT"


def test_deactivating_the_last_manager_is_refused(app, admin, admin_client):
    # Someone who may edit users but not manage permissions (no view) tries it.
    with app.app_context():
        clerk = make_user(email="clerk@example.com", name="Clerk")
        clerk.roles = [make_role("Clerk", {("permissions", "edit"): "all"})]
        db.session.commit()
        clerk_id = clerk.id
    clerk_client = log_in_as(app, clerk_id)
    response = post_form(clerk_client, f"/admin/users/{admin['id']}/deactivate",
                         follow_redirects=True)
    assert "Nobody active could manage permissions after this change." in text_of(response)
    with app.app_context():
        assert db.session.get(User, admin["id"]).active


@pytest.mark.postgres
def test_two_administrators_cannot_demote_each_other_at_once(app, database_url):
    """The guard locks the roles first: a change committed meanwhile is seen, not missed."""
    from portal.auth.users import UserFields, update_user

    with app.app_context():
        first = make_user(email="a@example.com", name="Anna", is_admin=True)
        second = make_user(email="b@example.com", name="Boris", is_admin=True)
        first_id, second_id = first.id, second.id
        administrator = role_id(app, ADMINISTRATOR)
    outcome = []

    def demote_second():
        with app.app_context(), app.test_request_context():
            actor = db.session.get(User, first_id)
            fields = UserFields(email="b@example.com", name="Boris", role_ids=[])
            try:
                update_user(actor, second_id, fields)
                outcome.append("saved")
            except Exception as refused:  # noqa: BLE001 (reported below)
                outcome.append(getattr(refused, "message", repr(refused)))
            finally:
                db.session.remove()

    engine = create_engine(database_url)
    try:
        with engine.connect() as other:
            other.execute(text("SELECT id FROM roles ORDER BY id FOR NO KEY UPDATE"))
            other.execute(text("DELETE FROM user_roles WHERE user_id = :u AND role_id = :r"),
                          {"u": first_id, "r": administrator})
            worker = threading.Thread(target=demote_second)
            worker.start()
            _wait_until_blocked(other)
            other.commit()  # Anna is no longer an administrator; the worker goes on
            worker.join(30)
    finally:
        engine.dispose()
    assert outcome == ["Nobody active could manage permissions after this change. Give another "
                       "active user a role that may view and edit permissions first."]
    assert ADMINISTRATOR in role_keys_of(app, second_id)


def _wait_until_blocked(connection, deadline_seconds=20.0):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        waiting = connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()")).scalar()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the demotion never waited for the lock")


# --- assignments -----------------------------------------------------------------------------

def test_user_form_shows_every_role_as_a_checkbox(app, admin_client, employee):
    page = text_of(admin_client.get(f"/admin/users/{employee['id']}/edit"))
    boxes = re.findall(r'<input([^>]*)name="roles"([^>]*)>', page)
    assert len(boxes) == 3
    ticked = [b for b in boxes if "checked" in "".join(b)]
    assert len(ticked) == 1 and f'value="{role_id(app, EMPLOYEE)}"' in "".join(ticked[0])
    assert 'name="is_admin"' not in page
    new = text_of(admin_client.get("/admin/users/new"))
    assert re.search(rf'checked[^>]*value="{role_id(app, EMPLOYEE)}"|'
                     rf'value="{role_id(app, EMPLOYEE)}"[^>]*checked', new)


def test_new_user_gets_the_ticked_roles_and_it_is_audited(app, admin_client):
    supervisor = role_id(app, SUPERVISOR)
    response = post_form(admin_client, "/admin/users/new", {
        "email": "sam@example.com", "name": "Sam Super", "department": "", "setup": "password",
        "password": "a long new password", "confirm": "a long new password",
        "roles": [str(supervisor)]})
    assert response.status_code == 302
    with app.app_context():
        sam = db.session.execute(db.select(User).filter_by(email="sam@example.com")).scalar_one()
        assert [r.key for r in sam.roles] == [SUPERVISOR]
        assert scope_of(sam, "view", "documents") == "all"
    assigned = events(app, "role.assigned")[0]
    assert assigned["added"] == ["Supervisor"] and assigned["email"] == "sam@example.com"


def test_unknown_role_id_is_refused_on_the_user_form(app, admin_client, employee):
    from tests.auth.test_admin_users import edit_form, user_by_id

    response = post_form(admin_client, f"/admin/users/{employee['id']}/edit",
                         edit_form(user_by_id(app, employee["id"]), roles=["9999"]))
    assert response.status_code == 200
    assert "not a valid choice" in text_of(response)
    assert role_keys_of(app, employee["id"]) == {EMPLOYEE}


def test_department_roles_are_chosen_shown_and_inherited(app, admin_client):
    supervisor = role_id(app, SUPERVISOR)
    response = post_form(admin_client, "/admin/departments/new",
                         {"name": "Sales", "parent": "", "roles": [str(supervisor)]})
    assert response.status_code == 302
    with app.app_context():
        sales = db.session.execute(db.select(Department).filter_by(name="Sales")).scalar_one()
        key_accounts = make_department("Key accounts", parent=sales)
        member = make_user(email="k@example.com", name="Kim Keyaccount",
                           department=key_accounts)
        member.roles = []
        db.session.commit()
        assert scope_of(member, "edit", "templates") == "all"  # from two levels up
        sales_id, member_id = sales.id, member.id
    tree = text_of(admin_client.get("/admin/departments"))
    node = tree[tree.index(f'id="department-{sales_id}"'):]
    assert re.search(r'class="badge role-badge"[^>]*>Supervisor<', node[:1500])
    users = text_of(admin_client.get("/admin/users"))
    assert re.search(r"Supervisor · Sales", users)
    inline = text_of(admin_client.get(f"/admin/departments/{sales_id}/edit", headers=HTMX))
    assert re.search(rf'checked[^>]*value="{supervisor}"|value="{supervisor}"[^>]*checked',
                     inline)
    # Taking the role away (htmx, inline form) takes it from the members too.
    post_form(admin_client, f"/admin/departments/{sales_id}/edit",
              {"name": "Sales", "parent": "", "roles": []}, headers=HTMX)
    with app.app_context():
        assert scope_of(db.session.get(User, member_id), "edit", "templates") == "none"
    assigned = events(app, "role.assigned")
    assert assigned[-1]["removed"] == ["Supervisor"] and assigned[-1]["department"] == "Sales"


# --- what can this user do -------------------------------------------------------------------

def test_access_page_shows_the_widest_scope_and_where_it_comes_from(app, admin_client):
    with app.app_context():
        sales = make_department("Sales", parent=make_department("Management"))
        sales.parent.roles.append(db.session.execute(
            db.select(Role).filter_by(key=SUPERVISOR)).scalar_one())
        user = make_user(email="e@example.com", name="Eve", department=sales)
        db.session.commit()
        user_id = user.id
    body = text_of(admin_client.get(f"/admin/users/{user_id}/access"))
    documents = re.search(r'id="access-documents-view".*?</td>', body, re.S).group(0)
    assert "All" in documents and "Supervisor" in documents and "Management" in documents
    assert "Employee" not in documents  # own documents only: not the widest
    settings = re.search(r'id="access-settings-edit".*?</td>', body, re.S).group(0)
    assert "Not allowed" in settings
    assert "through the department Management" in body and "given to the user" in body
    # The page agrees with the authority, cell by cell.
    with app.app_context():
        user = db.session.get(User, user_id)
        for section, actions in SECTION_ACTIONS.items():
            for action in actions:
                cell = re.search(rf'id="access-{section}-{action}".*?</td>', body, re.S).group(0)
                expected = scope_of(user, action, section)
                assert f"scope-{expected}" in cell, (section, action)


def test_access_is_linked_from_the_user_list_and_page(app, admin_client, employee):
    link = f"/admin/users/{employee['id']}/access"
    assert link in text_of(admin_client.get("/admin/users"))
    assert link in text_of(admin_client.get(f"/admin/users/{employee['id']}/edit"))


def test_deactivated_user_is_told_to_do_nothing(app, admin_client):
    with app.app_context():
        gone_id = make_user(email="g@example.com", name="Gone", active=False).id
    body = text_of(admin_client.get(f"/admin/users/{gone_id}/access"))
    assert "This account is deactivated" in body


# --- who may ---------------------------------------------------------------------------------

ROLE_PAGES = ["/admin/roles", "/admin/roles/{role}", "/admin/roles/{role}/delete",
              "/admin/users/{user}/access"]
ROLE_POSTS = ["/admin/roles/new", "/admin/roles/{role}/copy", "/admin/roles/{role}/edit",
              "/admin/roles/{role}/grants", "/admin/roles/{role}/grants/documents/view",
              "/admin/roles/{role}/delete"]


def _urls(app, employee, templates):
    rid = role_id(app, ADMINISTRATOR)
    return [url.format(role=rid, user=employee["id"]) for url in templates]


def test_employee_gets_403_everywhere(app, employee, employee_client):
    for url in _urls(app, employee, ROLE_PAGES):
        assert employee_client.get(url).status_code == 403, url
    before = scopes_of_role(app, role_id(app, ADMINISTRATOR))
    for url in _urls(app, employee, ROLE_POSTS):
        response = post_form(employee_client, url, {"name": "Hacked", "documents.view": "none"})
        assert response.status_code == 403, url
    assert scopes_of_role(app, role_id(app, ADMINISTRATOR)) == before
    assert role_named(app, "Hacked") is None


def test_anonymous_visitor_is_sent_to_login(app, client, employee):
    for url in _urls(app, employee, ROLE_PAGES):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_post_without_csrf_token_is_refused(app, admin_client):
    employee_role = role_id(app, EMPLOYEE)
    response = admin_client.post(f"/admin/roles/{employee_role}/grants/documents/view",
                                 data={"documents.view": "all"}, headers=HTMX)
    assert response.status_code == 400
    assert scopes_of_role(app, employee_role)[("documents", "view")] == "own"


def test_menu_lists_roles_for_administrators(admin_client):
    assert 'href="/admin/roles"' in text_of(admin_client.get("/"))

