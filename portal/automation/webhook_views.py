"""Admin screens for webhook endpoints: register, edit, the delivery log and "send again"."""

from flask import Blueprint, render_template

from portal.auth.permissions import require

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


@bp.get("/")
@require("view", "settings")
def index():
    return render_template("webhooks/index.html")
