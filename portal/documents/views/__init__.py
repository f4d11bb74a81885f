"""The documents pages: list, create, the document page, parties, placement editor."""

from flask import Blueprint

from portal.documents.labels import template_context

bp = Blueprint("documents", __name__)


@bp.app_context_processor
def document_labels():
    return template_context()


# Routes register themselves on `bp` when their modules are imported.
from portal.documents.views import (  # noqa: E402,F401
    create,
    document,
    listing,
    parties,
    placement,
    responsible,
)
