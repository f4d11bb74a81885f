"""The single authority on who may do what. Views ask here; none checks roles by hand."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

SECTIONS = ("documents", "templates", "contacts", "vault", "automation", "settings", "permissions")
ACTIONS = ("view", "create", "edit", "delete", "send")

# Until roles and grants arrive, every active employee works with the shared areas and
# reads settings; administrators do everything.
EMPLOYEE_GRANTS = {
    ("contacts", "view"),
    ("contacts", "create"),
    ("contacts", "edit"),
    ("contacts", "delete"),
    ("settings", "view"),
}


def can(user, action: str, section: str, obj=None) -> bool:
    """May `user` do `action` in `section` (on `obj`, when given)?"""
    if section not in SECTIONS or action not in ACTIONS:
        raise ValueError(f"unknown permission {section}.{action}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin:
        return True
    return (section, action) in EMPLOYEE_GRANTS


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
