"""The board and the list: the page, the filtered columns, "load more" and the refresh poll."""

from flask import abort, make_response, render_template, request
from flask_login import current_user

from portal.auth.permissions import require
from portal.documents.models import STAGES
from portal.documents.services.queries import responsible_choices
from portal.htmx import is_htmx, vary_on_htmx
from portal.models_base import utcnow
from portal.parties.services import list_companies
from portal.pipeline import bp, queries
from portal.pipeline.filters import (
    FOCUS_LABELS,
    FOCUSES,
    WHOSE_LABELS,
    parse_filter,
    whose_choices,
)


def _board_context(board) -> dict:
    context = {"board": board, "rendered_at": utcnow().isoformat()}
    if board.view == "list":
        context["page"] = queries.list_page(current_user, board)
    else:
        context["columns"] = queries.board_columns(current_user, board)
    return context


def _filter_choices() -> dict:
    whose = whose_choices(current_user)
    wide = whose != ("mine",)
    return {
        "whose_choices": [(value, WHOSE_LABELS[value]) for value in whose],
        "companies": list_companies(),
        # Someone who sees only their own documents has nobody else to pick.
        "responsibles": responsible_choices() if wide else [],
        "focus_choices": [(value, FOCUS_LABELS[value]) for value in FOCUSES],
    }


@bp.get("/pipeline")
@require("view", "documents")
def board():
    """The board (or the list): the filtered results alone for htmx, else the whole page."""
    board = parse_filter(request.args, current_user)
    context = _board_context(board)
    if is_htmx():
        return vary_on_htmx(make_response(render_template("pipeline/_results.html", **context)))
    return vary_on_htmx(make_response(render_template(
        "pipeline/board.html", **context, **_filter_choices())))


@bp.get("/pipeline/columns/<stage>")
@require("view", "documents")
def column(stage: str):
    """More cards of one column, after the cursor of the last one shown."""
    if stage not in STAGES:
        abort(404)
    board = parse_filter(request.args, current_user)
    cards, cursor = queries.column_cards(current_user, board, stage, request.args.get("after"))
    return render_template("pipeline/_more_cards.html", board=board, stage=stage, cards=cards,
                           cursor=cursor)


@bp.get("/pipeline/changes")
@require("view", "documents")
def changes():
    """Cards changed since the last render (and fresh counts); 204 when nothing changed."""
    board = parse_filter(request.args, current_user)
    since = queries.parse_since(request.args.get("since"))
    if since is None:
        abort(400)
    rendered_at = utcnow()
    changed, gone = queries.changed_since(current_user, board, since)
    if not changed and not gone:
        return "", 204
    counts = queries.stage_counts(current_user, board)
    return render_template("pipeline/_changes.html", board=board, changed=changed, gone=gone,
                           counts=counts, stages=queries.board_stages(counts),
                           closed_count=queries.closed_count(counts),
                           rendered_at=rendered_at.isoformat())

