"""A document's life after creation: details, deadline, send, stop, delete, layout reuse."""

from flask_babel import gettext as _
from sqlalchemy import delete

from portal import unit
from portal.audit.catalogue import (
    DOCUMENT_DEADLINE_CHANGED,
    DOCUMENT_DRAFT_DELETED,
    DOCUMENT_UPDATED,
)
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.auth.permissions import can
from portal.doctemplates.services import save_default_layout
from portal.documents.errors import AlreadySent, DocumentLocked, DocumentRefused
from portal.documents.fitting import overflows
from portal.documents.models import OPEN_STAGES, Document
from portal.documents.services.common import (
    check_deadline,
    clean_language,
    clean_title,
    editable_draft,
    load,
)
from portal.documents.services.fields import layout_of
from portal.documents.services.parties import (
    fields_of,
    may_have_stamp,
    party_label,
    signing_parties,
)
from portal.documents.services.responsible import active_user_id, record_reassignment
from portal.documents.trail import audit
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.storage import path_for
from portal.workflow import order as workflow

STOP_REASON_MAX = 1000
SIGNATURE_TYPES = ("signature", "initials")


# --- details and deadline --------------------------------------------------------------------

def update_draft(actor, meta, document_id: int, *, title=None, responsible_id=None,
                 language=None, deadline=None) -> Document:
    """Change a draft's title, responsible user, language or deadline (None keeps a value)."""
    document = editable_draft(document_id)
    errors: dict = {}
    wanted = {}
    if title is not None:
        wanted["title"] = clean_title(title, errors)
    if responsible_id is not None:
        wanted["responsible_id"] = active_user_id(responsible_id, errors)
    if language is not None:
        wanted["language"] = clean_language(language, errors)
    if deadline is not None:
        try:
            wanted["deadline_at"] = check_deadline(deadline)
        except DocumentRefused as refused:
            errors.update(refused.errors)
    if errors:
        unit.rollback()
        raise DocumentRefused(errors)
    changes = {key: value for key, value in wanted.items()
               if getattr(document, key) != value}
    previous = document.responsible
    for key, value in changes.items():
        setattr(document, key, value)
    if "responsible_id" in changes:
        new = db.session.get(User, changes.pop("responsible_id"))
        record_reassignment(document, previous, new, actor, meta)
    if changes:
        audit(DOCUMENT_UPDATED, document, actor, meta,
              changes={key: value.isoformat() if key == "deadline_at" else value
                       for key, value in changes.items()})
    unit.commit()
    return document


def set_deadline(actor, meta, document_id: int, deadline) -> Document:
    """Move the deadline of a draft or of a document out for signing (>= 5 minutes ahead)."""
    deadline = check_deadline(deadline)
    document = load(document_id, lock=True)
    if not (document.is_draft or document.stage in OPEN_STAGES):
        unit.rollback()
        raise DomainError(_("This document is closed; its deadline no longer matters."), 409)
    previous = document.deadline_at
    document.deadline_at = deadline
    audit(DOCUMENT_DEADLINE_CHANGED, document, actor, meta,
          previous=previous.isoformat() if previous else None, deadline=deadline.isoformat())
    unit.commit()
    return document


# --- send --------------------------------------------------------------------------------------

def _party_problems(document: Document) -> list[str]:
    problems = []
    for party in signing_parties(document):
        name = party_label(party)
        if party.channel == "sms" and not party.phone:
            problems.append(_("%(name)s has no phone number for the SMS.", name=name))
        elif party.channel == "email" and not party.email:
            problems.append(_("%(name)s has no email address.", name=name))
        kinds = {field.type for field in fields_of(document, party)}
        if party.role != "approver" and not kinds & set(SIGNATURE_TYPES):
            problems.append(_("Place a signature field for %(name)s.", name=name))
        if party.stamp_required and may_have_stamp(party) and "stamp" not in kinds:
            problems.append(_("Place a stamp field for %(name)s, or do not ask for the stamp.",
                              name=name))
    for party in document.parties_with_role("cc"):
        if not party.email:
            problems.append(_("%(name)s has no email address for the copy.", name=party.name))
    return problems


def _fit_problems(document: Document) -> list[str]:
    """Fields whose known values would be unreadably small in the final PDF.

    Refused rather than warned: the PDF is frozen when it is sent, and a sealed act whose
    requisites need a magnifier is a poor record; the fix is one drag in the field editor.
    """
    found = overflows(document)
    parties = {party.id: party_label(party) for party in document.parties}
    return [_("Page %(page)d, %(who)s: %(problem)s", page=field.page,
              who=parties.get(field.party_id) or _("Filled by Signet"),
              problem=found[field.id]["message"])
            for field in sorted(document.fields, key=lambda f: (f.page, f.y, f.x))
            if field.id in found]


def sending_problems(document: Document) -> list[str]:
    """Everything that keeps a draft from being sent, as messages for the sender."""
    problems = []
    if not document.parties_with_role("company"):
        problems.append(_("Add our company's signer."))
    if not document.parties_with_role("client"):
        problems.append(_("Add the client who signs."))
    problems += _party_problems(document)
    problems += _fit_problems(document)
    if not document.source_sha256 or not path_for(document.source_sha256).exists():
        problems.append(_("The PDF of this document is missing. Create the document again."))
    deadline = document.deadline_at
    if deadline is None or deadline <= utcnow():
        problems.append(_("The deadline has passed. Set a new one."))
    return problems


class SendRefused(DocumentRefused):
    """The draft is not ready: `problems` lists what to fix."""

    def __init__(self, problems: list[str]):
        super().__init__({f"problem{index}": text for index, text in enumerate(problems)})
        self.problems = problems
        self.message = " ".join(problems)


def send(actor, meta, document_id: int) -> Document:
    """Freeze the draft and start the signing: approval first when there is an approver."""
    document = load(document_id, lock=True)  # of two sends at once, the second waits here
    if not document.is_draft:
        unit.rollback()
        raise AlreadySent() if document.sent_at else DocumentLocked()
    problems = sending_problems(document)
    if problems:
        unit.rollback()
        raise SendRefused(problems)
    workflow.send(document, actor, meta)
    unit.commit()
    db.session.refresh(document)
    return document


# --- stop and delete ---------------------------------------------------------------------------

def stop(actor, meta, document_id: int, reason: str) -> Document:
    """Stop a document that is out for signing; the reason is kept in the audit trail."""
    reason = "\n".join(line.strip() for line in str(reason or "").strip().splitlines()).strip()
    if not reason:
        raise DocumentRefused({"reason": _("Say why the document is stopped.")})
    if len(reason) > STOP_REASON_MAX:
        raise DocumentRefused({"reason": _("Too long: at most %(max)d characters.",
                                           max=STOP_REASON_MAX)})
    document = load(document_id, lock=True)
    if document.stage not in OPEN_STAGES:
        unit.rollback()
        if document.stage == "stopped":
            raise DomainError(_("This document was already stopped."), 409)
        raise DomainError(_("Only a document that is out for signing can be stopped."), 409)
    workflow.stop(document, actor, meta, reason)
    unit.commit()
    db.session.refresh(document)
    return document


def delete_draft(actor, meta, document_id: int) -> None:
    """Delete a draft that was never sent (its audit trail goes with it; a note remains)."""
    document = load(document_id, lock=True)
    if not document.is_draft:
        unit.rollback()
        raise DomainError(_("Only a draft can be deleted. Stop a sent document instead."), 409)
    number, title = document.number, document.title
    db.session.execute(delete(AuditEvent).where(AuditEvent.document_id == document.id))
    db.session.delete(document)
    db.session.flush()
    audit(DOCUMENT_DRAFT_DELETED, None, actor, meta, deleted_document_id=document_id,
          number=number, title=title)
    unit.commit()


# --- reuse of the layout -----------------------------------------------------------------------

def save_layout_as_template_default(actor, document_id: int) -> int:
    """Store this document's fields as its template's default layout; returns the field count."""

    document = load(document_id)
    if document.template_id is None:
        raise DomainError(_("This document was uploaded, not made from a template."), 409)
    if not can(actor, "edit", "templates"):
        raise DomainError(_("You may not change templates."), 403)
    layout = layout_of(document)
    save_default_layout(document.template_id, layout, actor)
    return len(layout)
