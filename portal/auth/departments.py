"""Department services: the tree, the rules that keep it a tree, and the roles it hands down."""

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from portal import unit
from portal.audit.service import RequestMeta
from portal.auth.models import Department, User
from portal.auth.role_guard import keeping_permission_managers
from portal.auth.role_services import record_assignment, roles_by_ids
from portal.errors import DomainError
from portal.extensions import db

NAME_MAX = 120


class DepartmentRefused(DomainError):
    """A department rule refused the change; `field` names the form field it concerns."""

    status = 200

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class TreeNode:
    department: Department
    member_count: int
    children: list["TreeNode"] = field(default_factory=list)


def department_tree() -> list[TreeNode]:
    """Every department as nested nodes (two queries, whatever the depth), roots first."""
    departments = _all_departments()
    counts = member_counts()
    nodes = {d.id: TreeNode(d, counts.get(d.id, 0)) for d in departments}
    roots = []
    for department in departments:
        node = nodes[department.id]
        parent = nodes.get(department.parent_id)
        (parent.children if parent else roots).append(node)
    return roots


def member_counts() -> dict[int, int]:
    """Number of users (active or not) directly in each department."""
    rows = db.session.execute(
        db.select(User.department_id, func.count(User.id))
        .where(User.department_id.is_not(None))
        .group_by(User.department_id)
    )
    return dict(rows.all())


def department_choices(exclude: Department | None = None) -> list[tuple[int, str]]:
    """(id, "Parent / Child") for selects, sorted by path; `exclude` drops it and its subtree."""
    departments = _all_departments()
    skipped = set()
    if exclude is not None:
        skipped = {exclude.id} | exclude.descendant_ids()
    choices = [(d.id, d.path) for d in departments if d.id not in skipped]
    return sorted(choices, key=lambda choice: choice[1].casefold())


def get_department(department_id: int) -> Department:
    """The department, or a 404 domain error."""
    department = db.session.get(Department, department_id)
    if department is None:
        raise DomainError(_("This department does not exist (any more)."), 404)
    return department


def create_department(name: str, parent_id: int | None, role_ids: list[int] | None = None, *,
                      actor: User | None = None, meta: RequestMeta | None = None) -> Department:
    """Add a department under `parent_id` (or at the top), handing `role_ids` to its members."""
    parent = _parent_or_refuse(parent_id)
    name = _checked_name(name, parent, None)
    department = Department(name=name, parent=parent)
    department.roles = roles_by_ids(role_ids, DepartmentRefused)
    db.session.add(department)
    db.session.flush()
    record_assignment(actor, meta, [], list(department.roles), department_id=department.id,
                      department=department.name)
    unit.commit()
    return department


def update_department(department_id: int, name: str, parent_id: int | None,
                      role_ids: list[int] | None = None, *, actor: User | None = None,
                      meta: RequestMeta | None = None) -> Department:
    """Rename and/or move a department and set its roles (None keeps them).

    Moving under itself or its subtree is refused; so is a move or a change of roles that
    leaves nobody able to manage permissions."""
    # A move changes what every member inherits: the guard watches it as much as the roles.
    with keeping_permission_managers(actor, DepartmentRefused, "roles"):
        department = get_department(department_id)
        before = list(department.roles)
        parent = _parent_or_refuse(parent_id)
        if parent is not None and (
            parent.id == department.id or parent.id in department.descendant_ids()
        ):
            raise DepartmentRefused(
                _("A department cannot be placed inside itself or one of its subdepartments."),
                "parent",
            )
        department.name = _checked_name(name, parent, department)
        department.parent = parent
        if role_ids is not None:
            department.roles = roles_by_ids(role_ids, DepartmentRefused)
        record_assignment(actor, meta, before, list(department.roles),
                          department_id=department.id, department=department.name)
    unit.commit()
    return department


def delete_department(department_id: int) -> str:
    """Delete an empty department; return its name for the confirmation message."""
    department = get_department(department_id)
    members = member_counts().get(department.id, 0)
    if members:
        raise DepartmentRefused(ngettext(
            "“%(name)s” has %(num)d member. Move them to another department first.",
            "“%(name)s” has %(num)d members. Move them to another department first.",
            members,
            name=department.name,
        ))
    children = len(department.children)
    if children:
        raise DepartmentRefused(ngettext(
            "“%(name)s” has %(num)d subdepartment. Move or delete it first.",
            "“%(name)s” has %(num)d subdepartments. Move or delete them first.",
            children,
            name=department.name,
        ))
    name = department.name
    db.session.delete(department)
    unit.commit()
    return name


def _all_departments() -> list[Department]:
    return list(db.session.execute(
        db.select(Department).options(selectinload(Department.roles)).order_by(Department.name)
    ).scalars())


def _parent_or_refuse(parent_id: int | None) -> Department | None:
    if parent_id is None:
        return None
    parent = db.session.get(Department, parent_id)
    if parent is None:
        raise DepartmentRefused(_("The chosen parent department no longer exists."), "parent")
    return parent


def _checked_name(name: str, parent: Department | None, department: Department | None) -> str:
    """The cleaned name, unless it is empty, too long or taken by a sibling."""
    name = " ".join((name or "").split())
    if not name:
        raise DepartmentRefused(_("Enter a name."), "name")
    if len(name) > NAME_MAX:
        raise DepartmentRefused(
            _("The name can be at most %(max)d characters long.", max=NAME_MAX), "name"
        )
    # Compared in Python: SQLite's lower() folds ASCII only, and names may be Cyrillic.
    siblings = db.session.execute(
        db.select(Department.id, Department.name).where(
            Department.parent_id == parent.id if parent else Department.parent_id.is_(None)
        )
    ).all()
    own_id = department.id if department else None
    if any(sid != own_id and sname.casefold() == name.casefold() for sid, sname in siblings):
        raise DepartmentRefused(
            _("There is already a department called “%(name)s” here.", name=name), "name"
        )
    return name
