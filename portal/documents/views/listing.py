"""The list of documents: all the user may see, or only those they are responsible for."""

from flask import make_response, render_template, request
from flask_login import current_user

from portal.auth.permissions import require
from portal.documents.services import documents_page
from portal.documents.views import bp
from portal.documents.views.common import page_number
from portal.htmx import is_htmx, vary_on_htmx


@bp.get("/documents")
@require("view", "documents")
def index():
    """The user's documents, most recently changed first (the list alone for htmx)."""
    mine = request.args.get("mine") == "1"
    page = documents_page(current_user, page_number(request.args), mine=mine)
    template = "documents/_list.html" if is_htmx() else "documents/index.html"
    return vary_on_htmx(make_response(render_template(template, page=page, mine=mine)))
