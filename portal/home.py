"""The landing page after login."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """The dashboard: shortcuts to the areas this user can reach."""
    return render_template("home/index.html")


@bp.get("/healthz")
def health():
    """Liveness probe for the reverse proxy and the process manager."""
    return {"status": "ok"}
