"""The parties editor of a draft: our signer, the client, an approver, copy recipients."""

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.service import request_meta
from portal.auth.permissions import require
from portal.documents import services
from portal.documents.errors import DocumentLocked, DocumentRefused
from portal.documents.forms import CopyForm, PartiesForm
from portal.documents.views import bp
from portal.documents.views.common import document_for

_COPY_KEY = re.compile(r"^copies-(\d+)-")
PARTY_FIELDS = ("id", "kind", "name", "position", "organization", "email", "phone", "channel",
                "stamp_required")


def _values(party) -> dict:
    return {name: (str(party.id) if name == "id" else getattr(party, name))
            for name in PARTY_FIELDS}


def _form_for(document) -> PartiesForm:
    """What was posted, or the document's parties as they are."""
    if request.method == "POST":
        return PartiesForm()
    first = {role: next(iter(document.parties_with_role(role)), None)
             for role in ("company", "client", "approver")}
    data = {"with_approver": first["approver"] is not None,
            "copies": [{"id": str(p.id), "name": p.name, "email": p.email}
                       for p in document.parties_with_role("cc")]}
    for role, party in first.items():
        if party is not None:
            data[role] = _values(party)
    return PartiesForm(formdata=None, data=data)


def _aliases(homes: dict, errors: dict) -> dict:
    """Service keys ("1.email") -> form fields ("client-email")."""
    aliases = {}
    for key in errors:
        index, _dot, name = key.partition(".")
        if index.isdigit() and int(index) in homes:
            aliases[key] = f"{homes[int(index)]}-{name}"
    return aliases


@bp.route("/documents/<int:document_id>/parties", methods=["GET", "POST"])
@require("edit", "documents")
def parties(document_id: int):
    """Edit who signs and who receives a copy; errors show next to each field."""
    document = document_for(document_id, "edit")
    if not document.is_draft:
        flash(DocumentLocked().message, "error")
        return redirect(url_for("documents.show", document_id=document.id))
    form = _form_for(document)
    if form.validate_on_submit():
        values, homes = form.party_list()
        try:
            services.set_parties(current_user._get_current_object(), request_meta(),
                                 document.id, values)
        except DocumentRefused as refused:
            form.show_errors(refused.errors, _aliases(homes, refused.errors))
        else:
            flash(_("Parties saved."), "success")
            return redirect(url_for("documents.show", document_id=document.id))
    return render_template("documents/parties.html", document=document, form=form)


@bp.get("/documents/<int:document_id>/parties/copy-row")
@require("edit", "documents")
def copy_row(document_id: int):
    """One more copy recipient row (numbered after the rows the page has)."""
    document_for(document_id, "edit")
    used = [int(match.group(1)) for key in request.args if (match := _COPY_KEY.match(key))]
    index = max(used, default=-1) + 1
    return render_template("documents/_copy_row.html",
                           copy=CopyForm(formdata=None, prefix=f"copies-{index}"))
