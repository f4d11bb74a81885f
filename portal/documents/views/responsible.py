"""Handing a document to another employee (the "Responsible" panel of the document page)."""

from flask import flash, make_response, render_template
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.service import request_meta
from portal.auth.permissions import require
from portal.documents import services
from portal.documents.errors import DocumentRefused
from portal.documents.views import bp
from portal.documents.views.common import document_for, page_after_handover, reassign_form
from portal.documents.views.document import document_page
from portal.htmx import is_htmx, redirect_to, vary_on_htmx


@bp.post("/documents/<int:document_id>/responsible")
@require("edit", "documents")
def reassign(document_id: int):
    """Make another active user responsible; errors stay in the panel, success reloads the page."""
    document = document_for(document_id, "edit")
    form = reassign_form(document, submitted=True)
    if form.validate_on_submit():
        previous_id = document.responsible_id
        try:
            document = services.reassign(current_user._get_current_object(), request_meta(),
                                         document.id, form.responsible_id.data)
        except DocumentRefused as refused:
            form.show_errors(refused.errors)
        else:
            if document.responsible_id != previous_id:
                flash(_("%(name)s is now responsible for this document.",
                        name=document.responsible.name), "success")
            return redirect_to(page_after_handover(document))
    if is_htmx():
        return vary_on_htmx(make_response(render_template(
            "documents/_responsible.html", document=document, reassign_form=form)))
    return document_page(document, reassign_form=form)
