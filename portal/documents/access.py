"""Reaching a document's signed PDF: the vault has its own scope, narrower or wider than documents'.

Shared by the document pages and the JSON API so both refuse in the same way.
"""

from flask import abort

from portal.auth.permissions import can, scope_of
from portal.documents.models import Document
from portal.extensions import db


def signed_pdf_document(document_id: int, user) -> Document:
    """The document whose signed PDF `user` may download.

    403 when the vault is closed to the user or the document is theirs to see but not its
    signed PDF; 404 when they may know of the document neither as a document nor in the vault.
    """
    if scope_of(user, "view", "vault") == "none":
        abort(403)
    document = db.session.get(Document, document_id)
    if document is None:
        abort(404)
    if can(user, "view", "vault", document):
        return document
    abort(403 if can(user, "view", "documents", document) else 404)
