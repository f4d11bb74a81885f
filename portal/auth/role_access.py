"""What a user may do, cell by cell, and which role (held how) gives each cell.

The roles come from inheritance.py, as permissions.py's do (own roles plus those the user's
department and every department above it hand down); the widest scope wins.
"""

from dataclasses import dataclass

from portal.auth.inheritance import Holding, held_roles
from portal.auth.models import Department, Role, User
from portal.auth.permissions import ACTIONS, SCOPE_RANK, SECTION_ACTIONS, SECTIONS
from portal.extensions import db


@dataclass(frozen=True)
class RoleSource:
    """A role the user holds: directly (department None) or through `department`."""

    role: Role
    department: Department | None = None


@dataclass
class AccessCell:
    section: str
    action: str
    scope: str
    givers: list[RoleSource]  # the sources granting exactly this (widest) scope


@dataclass
class AccessRow:
    section: str
    cells: list[AccessCell | None]  # one per ACTIONS entry; None where the section lacks it


def role_sources(user: User) -> list[RoleSource]:
    """The user's own roles, then those of their department and of each one above it."""
    return _sources(held_roles([user.id]).get(user.id, []))


def inherited_roles_of(users) -> dict[int, list[RoleSource]]:
    """user id -> the roles each holds through departments only (badges beside their own)."""
    held = held_roles([user.id for user in users])
    return {user.id: _inherited_only(_sources(held.get(user.id, []))) for user in users}


def _inherited_only(sources: list[RoleSource]) -> list[RoleSource]:
    # A role held directly is shown once, as the user's own; one several departments hand
    # down is shown as the nearest one's.
    own = {source.role for source in sources if source.department is None}
    seen, result = set(), []
    for source in sources:
        if source.department is not None and source.role not in own | seen:
            seen.add(source.role)
            result.append(source)
    return result


def _sources(holdings: list[Holding]) -> list[RoleSource]:
    get = db.session.get
    return [RoleSource(get(Role, holding.role_id),
                       get(Department, holding.department_id)
                       if holding.department_id is not None else None)
            for holding in holdings]


def effective_access(user: User) -> list[AccessRow]:
    """The user's grid: the widest scope per cell and the roles that give it."""
    sources = role_sources(user)
    scopes = [(source, {(g.section, g.action): g.scope for g in source.role.grants})
              for source in sources]
    rows = []
    for section in SECTIONS:
        cells = []
        for action in ACTIONS:
            if action not in SECTION_ACTIONS[section]:
                cells.append(None)
                continue
            cells.append(_cell(section, action, scopes))
        rows.append(AccessRow(section, cells))
    return rows


def _cell(section: str, action: str, scopes) -> AccessCell:
    held = [(source, grants.get((section, action), "none")) for source, grants in scopes]
    widest = max((scope for _, scope in held), key=lambda s: SCOPE_RANK.get(s, 0),
                 default="none")
    if SCOPE_RANK.get(widest, 0) == 0:
        return AccessCell(section, action, "none", [])
    return AccessCell(section, action, widest,
                      [source for source, scope in held if scope == widest])
