"""Role services: the list of roles, each role's grid of grants, copying and deleting roles.

Every change is audited and goes through the guard that keeps someone able to manage permissions.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import unit
from portal.audit.catalogue import ROLE_ASSIGNED, ROLE_CREATED, ROLE_DELETED, ROLE_UPDATED
from portal.audit.service import RequestMeta, record
from portal.auth.models import Role, RoleGrant, department_roles, user_roles
from portal.auth.permissions import ACTIONS, SECTION_ACTIONS, SECTIONS
from portal.auth.role_guard import keeping_permission_managers
from portal.auth.role_labels import role_description, role_label, scope_choices
from portal.auth.roles import EMPLOYEE
from portal.errors import DomainError
from portal.extensions import db

NAME_MAX = 80
DESCRIPTION_MAX = 300
_SHOWN_INPUT_MAX = 40  # how much of a rejected value a message repeats


class RoleRefused(DomainError):
    """A role rule refused the change; `field` names the form field it concerns, if any."""

    status = 409

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class GrantInvalid(DomainError):
    """A grant cell that does not exist, or a scope the cell does not offer."""

    status = 400


@dataclass
class RoleSummary:
    role: Role
    user_count: int
    department_count: int

    @property
    def in_use(self) -> bool:
        return bool(self.user_count or self.department_count)


@dataclass
class GridCell:
    section: str
    action: str
    scope: str
    choices: tuple[str, ...]


@dataclass
class GridRow:
    section: str
    cells: list[GridCell | None]  # one per ACTIONS entry; None where the section lacks it


# --- reading ---------------------------------------------------------------------------------

def all_roles() -> list[Role]:
    """Every role, by name."""
    roles = db.session.execute(select(Role)).scalars().all()
    return sorted(roles, key=lambda role: role_label(role).casefold())


def role_choices() -> list[tuple[int, str]]:
    """(id, name) of every role, for checkboxes and selects."""
    return [(role.id, role_label(role)) for role in all_roles()]


def default_role_ids() -> list[int]:
    """What a new user starts with: the built-in Employee role, while it exists."""
    role_id = db.session.execute(select(Role.id).where(Role.key == EMPLOYEE)).scalar()
    return [role_id] if role_id is not None else []


def list_roles() -> list[RoleSummary]:
    """Every role with how many users and departments hold it."""
    users = dict(db.session.execute(
        select(user_roles.c.role_id, func.count()).group_by(user_roles.c.role_id)).all())
    departments = dict(db.session.execute(
        select(department_roles.c.role_id, func.count()).group_by(department_roles.c.role_id)
    ).all())
    return [RoleSummary(role, users.get(role.id, 0), departments.get(role.id, 0))
            for role in all_roles()]


def get_role(role_id: int) -> Role:
    """The role, or a 404 domain error."""
    role = db.session.get(Role, role_id)
    if role is None:
        raise DomainError(_("This role does not exist (any more)."), 404)
    return role


def summary_of(role: Role) -> RoleSummary:
    return RoleSummary(role, len(role.users), len(role.departments))


def grant_grid(role: Role) -> list[GridRow]:
    """The role's grants as rows of sections and columns of actions."""
    scopes = {(grant.section, grant.action): grant.scope for grant in role.grants}
    return [
        GridRow(section, [
            GridCell(section, action, scopes.get((section, action), "none"),
                     scope_choices(section)) if action in SECTION_ACTIONS[section] else None
            for action in ACTIONS
        ])
        for section in SECTIONS
    ]


def grid_cell(role: Role, section: str, action: str) -> GridCell:
    """One cell of the grid (the section and action must exist)."""
    stored = next((g.scope for g in role.grants if (g.section, g.action) == (section, action)),
                  "none")
    return GridCell(section, action, stored, scope_choices(section))


# --- creating, renaming, copying -------------------------------------------------------------

def create_role(actor, meta: RequestMeta, name: str, description: str = "") -> Role:
    """A new role that allows nothing until its grid is filled in."""
    role = Role(name=_checked_name(name), description=_checked_description(description))
    db.session.add(role)
    db.session.flush()
    record(ROLE_CREATED, None, actor, meta, role_id=role.id, name=role.name)
    _commit_unique_name()
    return role


def copy_role(actor, meta: RequestMeta, role_id: int) -> Role:
    """A new role named "Copy of X" with X's description and grants."""
    source = get_role(role_id)
    copy = Role(name=_free_copy_name(role_label(source)), description=source.description)
    copy.grants = [RoleGrant(section=g.section, action=g.action, scope=g.scope)
                   for g in source.grants]
    db.session.add(copy)
    db.session.flush()
    record(ROLE_CREATED, None, actor, meta, role_id=copy.id, name=copy.name,
           copied_from=source.id)
    _commit_unique_name()
    return copy


def update_role(actor, meta: RequestMeta, role_id: int, name: str, description: str) -> Role:
    """Rename a role and change its description."""
    role = get_role(role_id)
    # A built-in role's form shows its translated name: sending it back unchanged keeps the
    # stored name, so the role stays translated for everyone.
    new_name = role.name if _same_text(name, role_label(role)) else _checked_name(name, role)
    new_description = _checked_description(description)
    if new_description == role_description(role):
        new_description = role.description
    changes = {key: [old, new] for key, old, new in (
        ("name", role.name, new_name), ("description", role.description, new_description))
        if old != new}
    if changes:
        role.name, role.description = new_name, new_description
        record(ROLE_UPDATED, None, actor, meta, role_id=role.id, **changes)
        _commit_unique_name()
    return role


def _same_text(typed: str, shown: str) -> bool:
    return " ".join((typed or "").split()) == shown


def _checked_name(name: str, role: Role | None = None) -> str:
    """The cleaned name, unless it is empty, too long or already another role's."""
    name = " ".join((name or "").split())
    if not name:
        raise RoleRefused(_("Enter a name."), "name")
    if len(name) > NAME_MAX:
        raise RoleRefused(_("The name can be at most %(max)d characters long.", max=NAME_MAX),
                          "name")
    if _name_taken(name, role):
        raise RoleRefused(_("There is already a role called “%(name)s”.", name=name), "name")
    return name


def _name_taken(name: str, role: Role | None) -> bool:
    # Compared in Python against stored and shown names: Cyrillic case folding, and a built-in
    # role shown translated must not get a namesake.
    with db.session.no_autoflush:
        others = [r for r in db.session.execute(select(Role)).scalars() if r is not role]
    wanted = name.casefold()
    return any(wanted in (other.name.casefold(), role_label(other).casefold())
               for other in others)


def _checked_description(description: str) -> str:
    description = " ".join((description or "").split())
    if len(description) > DESCRIPTION_MAX:
        raise RoleRefused(_("The description can be at most %(max)d characters long.",
                            max=DESCRIPTION_MAX), "description")
    return description


def _free_copy_name(label: str) -> str:
    base = _("Copy of %(name)s", name=label)[:NAME_MAX]
    candidate, number = base, 2
    while _name_taken(candidate, None):
        suffix = f" ({number})"
        candidate, number = base[:NAME_MAX - len(suffix)] + suffix, number + 1
    return candidate


def _commit_unique_name() -> None:
    # The unique index is the last word when two administrators pick the same name at once.
    try:
        unit.commit()
    except IntegrityError as clash:
        unit.rollback()
        raise RoleRefused(_("Another role already has this name."), "name") from clash


# --- grants ----------------------------------------------------------------------------------

def checked_cell(section: str, action: str) -> None:
    """Refuse (400) a section or action the grid does not have."""
    if section not in SECTION_ACTIONS:
        raise GrantInvalid(_("There is no section “%(section)s”.",
                             section=section[:_SHOWN_INPUT_MAX]))
    if action not in SECTION_ACTIONS[section]:
        raise GrantInvalid(_("The section “%(section)s” has no action “%(action)s”.",
                             section=section, action=action[:_SHOWN_INPUT_MAX]))


def _checked_scope(section: str, action: str, scope: str) -> str:
    checked_cell(section, action)
    if scope not in scope_choices(section):
        raise GrantInvalid(_("“%(scope)s” is not a choice for %(section)s: %(action)s.",
                             scope=(scope or "")[:_SHOWN_INPUT_MAX], section=section,
                             action=action))
    return scope


def set_grant(actor, meta: RequestMeta, role_id: int, section: str, action: str,
              scope: str) -> str:
    """Set one cell of a role's grid; return the scope now stored."""
    return set_grants(actor, meta, role_id, {(section, action): scope})[(section, action)]


def set_grants(actor, meta: RequestMeta, role_id: int,
               scopes: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """Set several cells at once (all or none); return the scopes now stored for them."""
    scopes = {(s, a): _checked_scope(s, a, scope) for (s, a), scope in scopes.items()}
    role = get_role(role_id)
    with keeping_permission_managers(actor, RoleRefused):
        changes = _apply_scopes(role, scopes)
        if changes:
            record(ROLE_UPDATED, None, actor, meta, role_id=role.id, name=role.name,
                   grants=changes)
    unit.commit()
    return scopes


def _apply_scopes(role: Role, scopes: dict[tuple[str, str], str]) -> list[dict]:
    """Change the role's grant rows; describe what changed (for the audit trail)."""
    rows = {(grant.section, grant.action): grant for grant in role.grants}
    changes = []
    for (section, action), scope in scopes.items():
        row = rows.get((section, action))
        before = row.scope if row is not None else "none"
        if before == scope:
            continue
        if row is None:
            role.grants.append(RoleGrant(section=section, action=action, scope=scope))
        elif scope == "none":
            role.grants.remove(row)  # a missing grant means none: no rows of nothing
        else:
            row.scope = scope
        changes.append({"section": section, "action": action, "from": before, "to": scope})
    return changes


# --- deleting --------------------------------------------------------------------------------

def delete_role(actor, meta: RequestMeta, role_id: int, replacement_id: int | None) -> str:
    """Delete a role; its users and departments get `replacement_id` instead (needed if any)."""
    with keeping_permission_managers(actor, RoleRefused):
        role = get_role(role_id)
        users, departments = list(role.users), list(role.departments)
        replacement = None
        if users or departments:
            replacement = _replacement_or_refuse(role, replacement_id)
            for holder in [*users, *departments]:
                if replacement not in holder.roles:
                    holder.roles.append(replacement)
        name = role.name
        record(ROLE_DELETED, None, actor, meta, role_id=role.id, name=name,
               replacement_id=replacement.id if replacement else None,
               users=[user.id for user in users],
               departments=[department.id for department in departments])
        db.session.delete(role)
    unit.commit()
    return name


def _replacement_or_refuse(role: Role, replacement_id: int | None) -> Role:
    if replacement_id is None:
        raise RoleRefused(_("Users or departments hold “%(name)s”: choose the role they get "
                            "instead.", name=role_label(role)), "replacement")
    replacement = db.session.get(Role, replacement_id)
    if replacement is None or replacement.id == role.id:
        raise RoleRefused(_("Choose another existing role as the replacement."), "replacement")
    return replacement


# --- assignments -----------------------------------------------------------------------------

def roles_by_ids(role_ids, refusal=RoleRefused, field: str = "roles") -> list[Role]:
    """The roles with these ids, refusing any that no longer exists."""
    wanted = set(role_ids or ())
    if not wanted:
        return []
    with db.session.no_autoflush:
        roles = db.session.execute(select(Role).where(Role.id.in_(wanted))).scalars().all()
    if len(roles) != len(wanted):
        raise refusal(_("One of the chosen roles no longer exists. Reload the page."), field)
    return sorted(roles, key=lambda role: role.name.casefold())


def record_assignment(actor, meta: RequestMeta | None, before: list[Role], after: list[Role],
                      **holder) -> None:
    """Audit a change of the roles a user or department holds (nothing when none changed)."""
    added = sorted(role.name for role in after if role not in before)
    removed = sorted(role.name for role in before if role not in after)
    if added or removed:
        record(ROLE_ASSIGNED, None, actor, meta, added=added, removed=removed, **holder)
