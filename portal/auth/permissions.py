"""The single authority on who may do what. Views ask here; none checks roles by hand.

A user's grants come from the roles they hold, their own and those their departments hand down
(inheritance.py says which). Several roles give the widest scope. Grants are read once per
request, so a change made by an administrator applies from the next request on.
"""

from functools import wraps

from flask import abort, g, has_app_context
from flask_login import current_user, login_required
from sqlalchemy import false, or_, select, true

from portal.auth.inheritance import held_role_ids
from portal.auth.models import RoleGrant, User
from portal.extensions import db

SECTIONS = ("documents", "templates", "contacts", "vault", "automation", "settings", "permissions")
ACTIONS = ("view", "create", "edit", "delete", "send")
# Widening order: a wider scope includes every narrower one.
SCOPES = ("none", "own", "department", "subtree", "all")
SCOPE_RANK = {scope: rank for rank, scope in enumerate(SCOPES)}
# Which actions make sense in each section (the role grid shows only these cells).
SECTION_ACTIONS = {
    "documents": ("view", "create", "edit", "delete", "send"),
    "templates": ("view", "create", "edit", "delete"),
    "contacts": ("view", "create", "edit", "delete"),
    "vault": ("view",),
    "automation": ("view", "create", "edit", "delete"),
    "settings": ("view", "create", "edit", "delete"),
    "permissions": ("view", "create", "edit", "delete"),
}
# Sections whose objects belong to someone (their responsible user): scopes below "all" apply.
# Elsewhere any scope but "none" reaches every object of the section.
OWNED_SECTIONS = frozenset({"documents", "vault"})
_GRANTS_KEY = "_signet_grants"


def _check_names(action: str, section: str) -> None:
    if section not in SECTIONS or action not in ACTIONS:
        raise ValueError(f"unknown permission {section}.{action}")


def _load_grants(user) -> dict[tuple[str, str], str]:


    widest: dict[tuple[str, str], str] = {}
    rows = db.session.execute(
        select(RoleGrant.section, RoleGrant.action, RoleGrant.scope)
        .where(RoleGrant.role_id.in_(held_role_ids(user)))
    )
    for section, action, scope in rows:
        key = (section, action)
        if SCOPE_RANK.get(scope, 0) > SCOPE_RANK.get(widest.get(key, "none"), 0):
            widest[key] = scope
    return widest


def grants_of(user) -> dict[tuple[str, str], str]:
    """(section, action) -> the widest scope the user holds (missing means none)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    if not has_app_context():
        return _load_grants(user)
    cache = g.setdefault(_GRANTS_KEY, {})
    if user.id not in cache:
        cache[user.id] = _load_grants(user)
    return cache[user.id]


def forget_grants() -> None:
    """Drop this request's cached grants (after changing roles within the same request)."""
    if has_app_context():
        g.pop(_GRANTS_KEY, None)


def scope_of(user, action: str, section: str) -> str:
    """The widest scope in which `user` may do `action` in `section`."""
    _check_names(action, section)
    return grants_of(user).get((section, action), "none")


def can(user, action: str, section: str, obj=None) -> bool:
    """May `user` do `action` in `section` (on `obj`, when given)?"""
    scope = scope_of(user, action, section)
    if scope == "none":
        return False
    if obj is None or section not in OWNED_SECTIONS or scope == "all":
        return True
    return _within(user, obj, scope)


def _within(user, obj, scope: str) -> bool:
    responsible_id = getattr(obj, "responsible_id", None)
    if responsible_id == user.id:
        return True
    if scope == "own" or user.department_id is None:
        return False
    responsible = getattr(obj, "responsible", None)
    department_id = getattr(responsible, "department_id", None)
    if department_id is None:
        return False
    return department_id in _department_ids(user, scope)


def _department_ids(user, scope: str) -> set[int]:
    """The departments a department-wide scope reaches for this user."""
    if user.department_id is None:
        return set()
    if scope == "department":
        return {user.department_id}
    return {user.department_id} | user.department.descendant_ids()


def visible(user, section: str, model, action: str = "view"):
    """A where-clause limiting `model` rows to those the user may act on (lists, search, counts)."""


    scope = scope_of(user, action, section)
    if scope == "none":
        return false()
    if scope == "all" or section not in OWNED_SECTIONS:
        return true()
    own = model.responsible_id == user.id
    departments = _department_ids(user, scope) if scope != "own" else set()
    if not departments:
        return own
    colleagues = select(User.id).where(User.department_id.in_(departments))
    return or_(own, model.responsible_id.in_(colleagues))


def get_or_404(model, object_id: int, user, action: str, section: str):
    """Load an object the user may act on; 404 when it is missing or not theirs to know of."""

    obj = db.session.get(model, object_id)
    if obj is None or not can(user, "view", section, obj):
        abort(404)
    if not can(user, action, section, obj):
        abort(403)
    return obj


def require(action: str, section: str):
    """Route guard: log in first, then 403 unless the user may do this."""

    def decorator(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if not can(current_user, action, section):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorator


def init_app(app) -> None:
    @app.context_processor
    def permission_helpers():
        return {"can": lambda action, section, obj=None: can(current_user, action, section, obj)}
