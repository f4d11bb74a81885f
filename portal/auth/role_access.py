"""What a user may do, cell by cell, and which role (held how) gives each cell.

It follows the rule of permissions.py: own roles plus the roles of the user's department and of
every department above it; the widest scope wins.
"""

from dataclasses import dataclass

from portal.auth.models import Department, Role, User
from portal.auth.permissions import ACTIONS, SCOPE_RANK, SECTION_ACTIONS, SECTIONS


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
    sources = [RoleSource(role) for role in user.roles]
    for department in department_chain(user):
        sources.extend(RoleSource(role, department) for role in department.roles)
    return sources


def department_chain(user: User) -> list[Department]:
    """The user's department and every department above it, nearest first."""
    chain, node = [], user.department
    while node is not None and node not in chain:  # a cyclic tree must not hang the page
        chain.append(node)
        node = node.parent
    return chain


def inherited_roles(user: User) -> list[RoleSource]:
    """Roles the user holds through departments only (for badges beside their own roles)."""
    own = set(user.roles)
    seen, result = set(), []
    for source in role_sources(user):
        if source.department is not None and source.role not in own | seen:
            seen.add(source.role)
            result.append(source)
    return result


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
