"""The built-in roles and how a user comes to hold them."""

from sqlalchemy import select

from portal.auth.models import Role, RoleGrant, User
from portal.auth.permissions import SECTION_ACTIONS, forget_grants
from portal.extensions import db

EMPLOYEE, SUPERVISOR, ADMINISTRATOR = "employee", "supervisor", "administrator"


def _everything(scope: str) -> dict[tuple[str, str], str]:
    return {(section, action): scope
            for section, actions in SECTION_ACTIONS.items() for action in actions}


def _shared_areas(documents_scope: str) -> dict[tuple[str, str], str]:
    grants = {("documents", action): documents_scope for action in SECTION_ACTIONS["documents"]}
    grants.update({("vault", "view"): documents_scope, ("templates", "view"): "all",
                   ("settings", "view"): "all"})
    grants.update({("contacts", action): "all" for action in SECTION_ACTIONS["contacts"]})
    return grants


# key -> (name, description, grants). Written into the database by the migration and by
# ensure_default_roles(); administrators may edit them afterwards.
DEFAULT_ROLES = {
    EMPLOYEE: ("Employee", "Works with their own documents; uses templates and contacts.",
               _shared_areas("own")),
    SUPERVISOR: ("Supervisor", "Sees and handles every document; edits templates.",
                 {**_shared_areas("all"), ("templates", "create"): "all",
                  ("templates", "edit"): "all", ("templates", "delete"): "all",
                  ("automation", "view"): "all"}),
    ADMINISTRATOR: ("Administrator", "Everything, including settings and permissions.",
                    _everything("all")),
}


def ensure_default_roles() -> dict[str, Role]:
    """Create the built-in roles that are missing (no commit); return them by key."""
    # No autoflush: a new user being built (not in the session yet) asks for its roles here.
    with db.session.no_autoflush:
        existing = {role.key: role for role in db.session.execute(
            select(Role).where(Role.key.in_(DEFAULT_ROLES))).scalars()}
    # Created earlier in this transaction but not flushed yet: the query above cannot see them.
    existing.update({obj.key: obj for obj in db.session.new
                     if isinstance(obj, Role) and obj.key in DEFAULT_ROLES})
    for key, (name, description, grants) in DEFAULT_ROLES.items():
        if key in existing:
            continue
        role = Role(key=key, name=name, description=description)
        role.grants = [RoleGrant(section=section, action=action, scope=scope)
                       for (section, action), scope in grants.items()]
        db.session.add(role)
        existing[key] = role
    return existing


def role_by_key(key: str) -> Role:
    """A built-in role, created when missing."""
    return ensure_default_roles()[key]


def give_role(user: User, key: str) -> None:
    """Let the user hold a built-in role (no commit)."""
    role = role_by_key(key)
    if role not in user.roles:
        user.roles.append(role)
    forget_grants()
