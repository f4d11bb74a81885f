"""The guard: some active user must always be able to manage permissions.

Managing means viewing and editing the permissions section with scope "all": edit alone is not
enough, since the screens stay shut to someone who may not view them. Roles held through a
department (or a department above it) count as much as roles held directly.
"""

from contextlib import contextmanager

from flask_babel import gettext as _
from sqlalchemy import select

from portal import unit
from portal.auth.inheritance import held_roles
from portal.auth.models import Role, RoleGrant, User
from portal.auth.permissions import forget_grants
from portal.errors import DomainError
from portal.extensions import db

MANAGING = ("view", "edit")


class ManagersLost(DomainError):
    """Raised when a change would leave the portal without anyone able to manage permissions."""

    status = 409

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def permission_manager_ids() -> set[int]:
    """Ids of the active users who may view and edit permissions everywhere (as flushed)."""
    granting = {action: set() for action in MANAGING}
    for role_id, action in db.session.execute(
        select(RoleGrant.role_id, RoleGrant.action).where(
            RoleGrant.section == "permissions", RoleGrant.action.in_(MANAGING),
            RoleGrant.scope == "all")
    ):
        granting[action].add(role_id)
    if not all(granting.values()):
        return set()
    held = roles_held_by_active_users()
    return {user_id for user_id, roles in held.items()
            if all(roles & role_ids for role_ids in granting.values())}


def roles_held_by_active_users() -> dict[int, set[int]]:
    """user id -> ids of the roles they hold, directly or through their departments."""
    held = held_roles(select(User.id).where(User.active.is_(True)))
    return {user_id: {holding.role_id for holding in holdings}
            for user_id, holdings in held.items()}


def _lock_role_changes() -> None:
    """Serialise guarded changes (PostgreSQL): two administrators demoting each other at once
    must not both succeed. FOR NO KEY UPDATE leaves role assignments of other kinds unblocked."""
    db.session.execute(select(Role.id).order_by(Role.id).with_for_update(key_share=True)).all()


@contextmanager
def keeping_permission_managers(actor, refusal=ManagersLost, field: str | None = None):
    """Run the changes made inside the block, then refuse them (rolled back) if they leave
    nobody able to manage permissions, or take that ability from the actor themself."""
    try:
        _lock_role_changes()
        before = permission_manager_ids()
        yield
        db.session.flush()
        after = permission_manager_ids()
        if before and not after:
            raise refusal(_("Nobody active could manage permissions after this change. Give "
                            "another active user a role that may view and edit permissions "
                            "first."), field)
        if actor is not None and actor.id in before and actor.id not in after:
            raise refusal(_("You cannot take away your own permission to manage permissions. "
                            "Ask another administrator to do it."), field)
    except Exception:
        unit.rollback()
        raise
    finally:
        forget_grants()
