"""Rules screens: the rules board beside the pipeline, the HTMX rule forms, the run log."""

from flask import Blueprint, render_template

from portal.auth.permissions import require

bp = Blueprint("automation", __name__, url_prefix="/automation")


@bp.get("/")
@require("view", "automation")
def index():
    return render_template("automation/rules.html")


@bp.get("/runs")
@require("view", "automation")
def runs():
    return render_template("automation/runs.html")
