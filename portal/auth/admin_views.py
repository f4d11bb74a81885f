"""Administration of users and departments (placeholder until built)."""

from flask import Blueprint

from portal.auth.permissions import require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@require("view", "permissions")
def users():
    """List users."""
    return "users"


@bp.get("/departments")
@require("view", "permissions")
def departments():
    """Department tree."""
    return "departments"
