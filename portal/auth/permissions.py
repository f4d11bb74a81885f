"""The single authority on who may do what. Views ask here; none checks roles by hand."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

SECTIONS = ("documents", "templates", "contacts", "vault", "automation", "settings", "permissions")
ACTIONS = ("view", "create", "edit", "delete", "send")

# Until roles and grants arrive, every active employee works with the shared areas, reads
# settings and templates, and handles their own documents; administrators do everything.
EMPLOYEE_GRANTS = {
    ("contacts", "view"),
    ("contacts", "create"),
    ("contacts", "edit"),
    ("contacts", "delete"),
    ("settings", "view"),
    ("templates", "view"),
    ("documents", "view"),
    ("documents", "create"),
    ("documents", "edit"),
    ("documents", "delete"),
    ("documents", "send"),
}
# Sections whose objects belong to someone: an employee reaches only their own.
OWNED_SECTIONS = {"documents"}


def can(user, action: str, section: str, obj=None) -> bool:
    """May `user` do `action` in `section` (on `obj`, when given)?"""
    if section not in SECTIONS or action not in ACTIONS:
        raise ValueError(f"unknown permission {section}.{action}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin:
        return True
    if (section, action) not in EMPLOYEE_GRANTS:
        return False
    return obj is None or section not in OWNED_SECTIONS or _owns(user, obj)


def _owns(user, obj) -> bool:
    return user.id in (getattr(obj, "responsible_id", None), getattr(obj, "created_by_id", None))


def visible(user, section: str, model):
    """A where-clause limiting `model` rows to those the user may view (lists, search, counts)."""
    from sqlalchemy import false, or_, true

    if not can(user, "view", section):
        return false()
    if user.is_admin or section not in OWNED_SECTIONS:
        return true()
    return or_(model.responsible_id == user.id, model.created_by_id == user.id)


def get_or_404(model, object_id: int, user, action: str, section: str):
    """Load an object the user may act on; 404 when it is missing or not theirs to know of."""
    from portal.extensions import db

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
