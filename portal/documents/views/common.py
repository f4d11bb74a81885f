"""Helpers shared by the document views."""

from flask_login import current_user

from portal.auth.permissions import get_or_404
from portal.documents.models import Document


def document_for(document_id: int, action: str = "view") -> Document:
    """The document if the user may know of it (404 otherwise) and do `action` (403)."""
    return get_or_404(Document, document_id, current_user, action, "documents")


def page_number(args) -> int:
    return max(args.get("page", 1, type=int) or 1, 1)


def int_arg(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
