"""Helpers shared by the document views."""

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import can, get_or_404
from portal.documents.forms import ReassignForm, SelectChoice
from portal.documents.models import Document
from portal.documents.services.queries import responsible_choices


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


def reassign_form(document: Document, submitted: bool = False) -> ReassignForm:
    """The "hand over to" form: what was posted, or the current responsible preselected."""
    if submitted:
        form = ReassignForm()
    else:
        form = ReassignForm(formdata=None, data={"responsible_id": str(document.responsible_id)})
    users = responsible_choices()
    if document.responsible is not None and document.responsible not in users:
        users.insert(0, document.responsible)  # deactivated: shown, but the service refuses it
    form.responsible_id.choices = [SelectChoice(str(user.id), user.name) for user in users]
    return form


def page_after_handover(document: Document) -> str:
    """After a change of responsible: the document, or the list when it went out of reach."""
    if can(current_user, "view", "documents", document):
        return url_for("documents.show", document_id=document.id)
    flash(_("%(number)s is now %(name)s's responsibility and no longer among your documents.",
            number=document.number, name=document.responsible.name), "info")
    return url_for("documents.index")
