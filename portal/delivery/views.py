"""The outbox viewer (placeholder until built)."""

from flask import Blueprint

from portal.auth.permissions import require

bp = Blueprint("outbox", __name__)


@bp.get("/outbox")
@require("edit", "settings")
def index():
    """List messages."""
    return "outbox"
