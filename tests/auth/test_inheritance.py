"""One rule of inheritance (portal.auth.inheritance): what it says, and that permissions, the
guard and the access page all hold the roles it names."""

from sqlalchemy import update

from portal.auth.inheritance import Holding, held_roles
from portal.auth.models import Department, Role, RoleGrant, User
from portal.auth.permissions import SCOPE_RANK, grants_of
from portal.auth.role_access import inherited_roles_of, role_sources
from portal.auth.role_guard import roles_held_by_active_users
from portal.extensions import db
from tests.factories import make_department, make_user


def _role(name: str, **grants: str) -> Role:
    """A role granting `documents.<action>` at the given scopes."""
    role = Role(name=name)
    role.grants = [RoleGrant(section="documents", action=action, scope=scope)
                   for action, scope in grants.items()]
    db.session.add(role)
    return role


def _tree():
    """Head office (Auditor) > Sales (Seller) > Key accounts (Key seller); Kim, in Key accounts,
    also holds Reviewer herself. Ids by name."""
    head = make_department("Head office")
    sales = make_department("Sales", parent=head)
    key = make_department("Key accounts", parent=sales)
    auditor, seller = _role("Auditor", view="all"), _role("Seller", view="department")
    key_seller, reviewer = _role("Key seller", edit="own"), _role("Reviewer", send="own")
    head.roles, sales.roles, key.roles = [auditor], [seller], [key_seller]
    kim = make_user(email="kim@example.com", name="Kim", department=key)
    kim.roles = [reviewer]
    db.session.commit()
    return {"head": head.id, "sales": sales.id, "key": key.id, "kim": kim.id,
            **{role.name: role.id for role in (auditor, seller, key_seller, reviewer)}}


def test_own_roles_come_first_then_each_department_from_the_nearest_up(app):
    with app.app_context():
        ids = _tree()
        held = held_roles([ids["kim"]])

    assert held == {ids["kim"]: [
        Holding(ids["Reviewer"]),
        Holding(ids["Key seller"], ids["key"]),
        Holding(ids["Seller"], ids["sales"]),
        Holding(ids["Auditor"], ids["head"]),
    ]}


def test_a_user_without_department_holds_their_own_roles_only(app):
    with app.app_context():
        ids = _tree()
        loner = make_user(email="lone@example.com", name="Lone")
        held = held_roles([loner.id, ids["kim"]])
        employee_role = loner.roles[0].id

    assert held[loner.id] == [Holding(employee_role)]
    assert len(held[ids["kim"]]) == 4


def test_a_cyclic_tree_still_answers(app):
    with app.app_context():
        ids = _tree()
        # A tree broken outside the portal's rules: Head office placed under Key accounts.
        db.session.execute(update(Department).where(Department.id == ids["head"])
                           .values(parent_id=ids["key"]))
        db.session.commit()
        held = held_roles([ids["kim"]])[ids["kim"]]

    assert [holding.department_id for holding in held] == [None, ids["key"], ids["sales"],
                                                           ids["head"]]


def test_permissions_grant_exactly_what_the_held_roles_give(app):
    with app.app_context():
        ids = _tree()
        kim = db.session.get(User, ids["kim"])
        widest: dict[tuple[str, str], str] = {}
        for holding in held_roles([kim.id])[kim.id]:
            for grant in db.session.get(Role, holding.role_id).grants:
                key = (grant.section, grant.action)
                if SCOPE_RANK[grant.scope] > SCOPE_RANK[widest.get(key, "none")]:
                    widest[key] = grant.scope
        grants = grants_of(kim)

    assert grants == widest
    assert grants[("documents", "view")] == "all"  # from Head office, two levels up


def test_the_guard_counts_the_held_roles_of_active_users_only(app):
    with app.app_context():
        ids = _tree()
        gone = make_user(email="gone@example.com", name="Gone", active=False).id
        counted = roles_held_by_active_users()
        held = held_roles([ids["kim"]])[ids["kim"]]

    assert counted[ids["kim"]] == {holding.role_id for holding in held}
    assert gone not in counted


def test_the_access_page_and_badges_show_the_held_roles(app):
    with app.app_context():
        ids = _tree()
        kim = db.session.get(User, ids["kim"])
        sources = [(source.role.id, source.department.id if source.department else None)
                   for source in role_sources(kim)]
        badges = [source.role.name for source in inherited_roles_of([kim])[kim.id]]
        held = held_roles([kim.id])[kim.id]

    assert sources == [(holding.role_id, holding.department_id) for holding in held]
    assert badges == ["Key seller", "Seller", "Auditor"]
