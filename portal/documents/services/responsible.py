"""Who answers for a document: handing it to another employee, at any stage."""

from flask_babel import gettext as _

from portal import unit
from portal.audit.catalogue import DOCUMENT_REASSIGNED
from portal.auth.models import User
from portal.documents.errors import DocumentRefused
from portal.documents.models import Document
from portal.documents.services.common import load
from portal.documents.trail import audit
from portal.extensions import db
from portal.models_base import DATABASE_INT_MAX


def active_user_id(value, errors: dict, field: str = "responsible_id") -> int | None:
    """The id of an active user named by `value`; otherwise an error under `field`."""
    try:
        user_id = int(value)
    except (TypeError, ValueError, OverflowError):
        user_id = 0
    # Beyond an INTEGER column PostgreSQL raises instead of finding nothing.
    user = db.session.get(User, user_id) if 0 < user_id <= DATABASE_INT_MAX else None
    if user is None or not user.active:
        errors[field] = _("Choose an active user.")
        return None
    return user.id


def record_reassignment(document: Document, previous: User, new: User, actor, meta) -> None:
    """The audit event of a change of responsible (in the caller's transaction)."""
    audit(DOCUMENT_REASSIGNED, document, actor, meta,
          from_user={"id": previous.id, "name": previous.name, "email": previous.email},
          to_user={"id": new.id, "name": new.name, "email": new.email})


def reassign(actor, meta, document_id: int, responsible_id) -> Document:
    """Make another active user responsible for the document; the same user changes nothing."""
    errors: dict = {}
    new_id = active_user_id(responsible_id, errors)
    if errors:
        raise DocumentRefused(errors)
    # Locked: a concurrent reassign or send sees this one's result, not a stale responsible.
    document = load(document_id, lock=True)
    if document.responsible_id == new_id:
        unit.rollback()
        return document
    previous = document.responsible
    new = db.session.get(User, new_id)
    document.responsible_id = new_id
    document.responsible = new
    record_reassignment(document, previous, new, actor, meta)
    unit.commit()
    return document
