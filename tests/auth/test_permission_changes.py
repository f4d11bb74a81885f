"""Grants live in the database and are read per request: a changed grant, a role given to a
department, and several roles at once all show on the very next request."""

import pytest
from sqlalchemy import delete, insert, update

from portal.auth.models import Role, RoleGrant, User, department_roles
from portal.extensions import db
from tests.api.support import Api, make_token
from tests.factories import make_company, make_department, make_document_row, make_user
from tests.helpers import sign_in


def _role(name: str, scope: str) -> Role:
    role = Role(name=name)
    role.grants = [RoleGrant(section="documents", action="view", scope=scope),
                   RoleGrant(section="vault", action="view", scope=scope)]
    db.session.add(role)
    db.session.commit()
    return role


def _roleless(email: str, department) -> User:
    """A user holding no role of their own (make_user gives everyone the employee's role)."""
    user = make_user(email=email, name=email.split("@")[0].title(), department=department)
    user.roles.clear()
    db.session.commit()
    return user


def _client(app, email: str):
    client = app.test_client()
    sign_in(client, email)
    return client


@pytest.fixture
def office(app):
    """Sales > Key accounts, and Support; a document of a colleague in each of the first two."""
    with app.app_context():
        sales = make_department("Sales")
        key_accounts = make_department("Key accounts", parent=sales)
        support = make_department("Support")
        company = make_company()
        in_sales = make_user(email="sally@example.com", name="Sally", department=sales)
        in_key = make_user(email="kim@example.com", name="Kim", department=key_accounts)
        return {
            "sales": sales.id, "key_accounts": key_accounts.id, "support": support.id,
            "sales_document": make_document_row(in_sales.id, company=company).id,
            "key_document": make_document_row(in_key.id, company=company,
                                               number="KEY-1").id,
        }


def test_a_changed_grant_applies_from_the_next_request(app, office):
    with app.app_context():
        role = _role("Switchable", "own")
        user = _roleless("sam@example.com", None)
        user.department_id = office["sales"]
        user.roles.append(role)
        db.session.commit()
        role_id, user_id = role.id, user.id
    client = _client(app, "sam@example.com")
    api = Api(app.test_client(), make_token(app, user_id))
    url = f"/documents/{office['sales_document']}"

    def set_scope(scope: str) -> None:
        with app.app_context():
            db.session.execute(update(RoleGrant).where(
                RoleGrant.role_id == role_id, RoleGrant.section == "documents",
                RoleGrant.action == "view").values(scope=scope))
            db.session.commit()

    assert client.get(url).status_code == 404  # own only: a colleague's document is unknown
    set_scope("department")
    assert client.get(url).status_code == 200
    assert api.get(f"/api/v1{url}").status_code == 200
    assert client.get(f"/documents/{office['key_document']}").status_code == 404
    set_scope("subtree")
    assert client.get(f"/documents/{office['key_document']}").status_code == 200
    set_scope("none")
    assert client.get(url).status_code == 403  # the documents screens are closed now
    assert api.get(f"/api/v1{url}").status_code == 403


def test_a_role_given_to_a_department_reaches_its_subdepartments(app, office):
    with app.app_context():
        role = _role("Team view", "department")
        db.session.execute(insert(department_roles).values(department_id=office["sales"],
                                                           role_id=role.id))
        role_id = role.id
        _roleless("kate@example.com", None).department_id = office["key_accounts"]
        _roleless("steve@example.com", None).department_id = office["support"]
        db.session.commit()
    kate = _client(app, "kate@example.com")  # Key accounts, below Sales: inherits the role
    steve = _client(app, "steve@example.com")  # Support: outside the tree
    assert kate.get(f"/documents/{office['key_document']}").status_code == 200
    assert kate.get(f"/documents/{office['sales_document']}").status_code == 404
    assert steve.get(f"/documents/{office['key_document']}").status_code == 403
    with app.app_context():
        db.session.execute(delete(department_roles).where(department_roles.c.role_id == role_id))
        db.session.commit()
    assert kate.get(f"/documents/{office['key_document']}").status_code == 403


def test_several_roles_give_the_widest_scope(app, office):
    with app.app_context():
        wide = _role("Sales desk", "department")
        user = make_user(email="eve@example.com", name="Eve")  # the employee's "own"
        user.department_id = office["sales"]
        user.roles.append(wide)
        db.session.commit()
    eve = _client(app, "eve@example.com")
    assert eve.get(f"/documents/{office['sales_document']}").status_code == 200
    assert eve.get(f"/documents/{office['key_document']}").status_code == 404
