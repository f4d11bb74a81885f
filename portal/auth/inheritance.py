"""Which roles a user holds: their own, and those of their department and every one above it.

The one rule of inheritance. What a request may do (permissions.py), who can still manage
permissions (role_guard.py) and which role gives what on the access page (role_access.py) all
ask here, so a role handed down by a department counts the same everywhere.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, select

from portal.auth.models import Department, Role, User, department_roles, user_roles
from portal.extensions import db


@dataclass(frozen=True)
class Holding:
    """One role a user holds: directly (department_id None) or through that department."""

    role_id: int
    department_id: int | None = None


def held_roles(user_ids: Iterable[int] | Select) -> dict[int, list[Holding]]:
    """user id -> the roles they hold as the database has them (pending changes flushed).

    Their own roles come first, then each department's from the nearest up, by role name
    within each; a role held several ways appears once per way. A handful of queries, however
    many users are asked about (`user_ids` may be a select of ids)."""
    if not isinstance(user_ids, Select):
        user_ids = list(user_ids)
    departments = dict(db.session.execute(
        select(User.id, User.department_id).where(User.id.in_(user_ids))).all())
    held: dict[int, list[Holding]] = {user_id: [] for user_id in departments}
    for user_id, role_id in db.session.execute(
        select(user_roles.c.user_id, user_roles.c.role_id).join(Role)
        .where(user_roles.c.user_id.in_(user_ids)).order_by(Role.name, Role.id)
    ):
        held[user_id].append(Holding(role_id))
    lineages = _department_lineages()
    for user_id, department_id in departments.items():
        held[user_id].extend(lineages.get(department_id, ()))
    return held


def _department_lineages() -> dict[int, list[Holding]]:
    """department id -> the roles it and every department above it hand down, nearest first."""
    parents = dict(db.session.execute(select(Department.id, Department.parent_id)).all())
    own: dict[int, list[int]] = {}
    for department_id, role_id in db.session.execute(
        select(department_roles.c.department_id, department_roles.c.role_id).join(Role)
        .order_by(Role.name, Role.id)
    ):
        own.setdefault(department_id, []).append(role_id)
    lineages = {}
    for department_id in parents:
        lineage, node, seen = [], department_id, set()
        while node is not None and node not in seen:  # a broken (cyclic) tree must not hang us
            seen.add(node)
            lineage.extend(Holding(role_id, node) for role_id in own.get(node, ()))
            node = parents.get(node)
        lineages[department_id] = lineage
    return lineages


def held_role_ids(user) -> set[int]:
    """Ids of every role the user holds, however they hold it."""
    return {holding.role_id for holding in held_roles([user.id]).get(user.id, ())}
