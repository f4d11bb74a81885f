"""The landing page after login."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portal.pipeline.dashboard import dashboard_for

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """The dashboard: what waits for this user and their team, the latest activity, shortcuts."""
    return render_template("home/index.html", dashboard=dashboard_for(current_user))


@bp.get("/healthz")
def health():
    """Liveness probe for the reverse proxy and the process manager."""
    return {"status": "ok"}
