"""Companies and counterparties screens (placeholder until built)."""

from flask import Blueprint

from portal.auth.permissions import require

bp = Blueprint("parties", __name__)


@bp.get("/counterparties")
@require("view", "contacts")
def counterparties():
    """List counterparties."""
    return "counterparties"


@bp.get("/companies")
@require("view", "settings")
def companies():
    """List companies."""
    return "companies"
