"""Strict signing order: who is invited when, completion, and the notices on decline, stop, expiry.

Every function here runs after the event's own commit, takes ids, locks the document row
(SQLite: takes the write lock) and re-reads, so two calls at once do the work once. Messages
are queued in the same transaction as the state change and dispatched after the commit.
"""

import logging
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import format_datetime as babel_format_datetime
from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.auth.models import User
from portal.auth.services import staff_language
from portal.delivery.services import InvalidRecipient, dispatch, queue_email, queue_sms
from portal.documents.models import OPEN_STAGES, Document, Party
from portal.documents.services.common import as_utc, audit
from portal.extensions import db
from portal.models_base import utcnow
from portal.secretbox import SIGNING_LINK, seal, unseal
from portal.tokens import hash_token, new_token

log = logging.getLogger(__name__)

STAGE_FOR_ROLE = {"approver": "approval", "company": "company_signing",
                  "client": "client_signing"}
STAGE_RANK = {"approval": 1, "company_signing": 2, "client_signing": 3}


# --- public entry points ---------------------------------------------------------------------

def start(document_id: int) -> None:
    """After send: invite the first order group (the approver if any, else our signer)."""
    _safely(_advance, document_id)


def advance(document_id: int) -> None:
    """After a signature: invite the next group, or complete; idempotent and race-safe."""
    _safely(_advance, document_id)


def notify_declined(document_id: int, party_id: int) -> None:
    """After a decline: tell the responsible employee, the creator and the invited parties."""
    _safely(_notify_declined, document_id, party_id)


def expire_overdue(now: datetime | None = None) -> int:
    """Move documents past their deadline to "expired" and tell the responsible; the count."""
    now = now or utcnow()
    overdue = db.session.scalars(
        select(Document.id)
        .where(Document.stage.in_(OPEN_STAGES), Document.deadline_at < now)
        .order_by(Document.id)
    ).all()
    return sum(1 for document_id in overdue if _safely(_expire, document_id, now))


def _safely(work, *args):
    # The caller's event is committed already: a failure here must not turn it into a 500.
    try:
        return work(*args)
    except Exception:
        db.session.rollback()
        log.exception("%s%s failed", work.__name__, args)
        return None


def lock_document(document_id: int) -> Document | None:
    """The document, re-read under a row lock taken in a fresh transaction."""
    db.session.commit()  # end any snapshot the caller holds: decide on current data
    table = Document.__table__
    if db.engine.dialect.name == "sqlite":
        # No row locks in SQLite: a write first takes the database's write lock (with the
        # newest snapshot), so a second caller waits here and then sees our commit.
        db.session.execute(update(table).where(table.c.id == document_id)
                           .values(stage=table.c.stage))
    return db.session.execute(
        select(Document).where(Document.id == document_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _commit_and_dispatch(message_ids: list[int]) -> None:
    db.session.commit()
    dispatch(message_ids)


# --- order -----------------------------------------------------------------------------------

def _advance(document_id: int) -> str | None:
    document = lock_document(document_id)
    if document is None or document.stage not in OPEN_STAGES:
        db.session.rollback()
        return None
    signers = [party for party in _fresh_parties(document) if party.signs]
    if any(party.status == "declined" for party in signers):
        db.session.rollback()  # notify_declined closes it; nobody else is invited
        return None
    pending = [party for party in signers if party.status != "signed"]
    if not pending:
        _complete(document)
        return "completed"
    turn = min(party.order for party in pending)
    group = [party for party in pending if party.order == turn]
    _move_to(document, min((STAGE_FOR_ROLE[p.role] for p in group), key=STAGE_RANK.get))
    message_ids = [_invite(document, party) for party in group
                   if party.status == "waiting" and party.token_hash is None]
    _commit_and_dispatch(message_ids)
    return document.stage


def _fresh_parties(document: Document) -> list[Party]:
    return list(db.session.scalars(
        select(Party).where(Party.document_id == document.id)
        .order_by(Party.order, Party.id).execution_options(populate_existing=True)
    ))


def _move_to(document: Document, stage: str) -> None:
    # Only forward: a stage never goes back to an earlier group.
    if STAGE_RANK.get(stage, 0) <= STAGE_RANK.get(document.stage, 0):
        return
    previous = document.stage
    document.stage = stage
    document.stage_changed_at = utcnow()
    audit("document.stage_changed", document, None, None, previous_stage=previous, stage=stage)


def _complete(document: Document) -> None:
    from portal.jobs import enqueue
    from portal.sealing.finalize import finalize_document

    now = utcnow()
    previous = document.stage
    document.stage = "completed"
    document.completed_at = now
    document.stage_changed_at = now
    audit("document.completed", document, None, None, previous_stage=previous)
    db.session.commit()
    enqueue(finalize_document, document.id, queue="sealing")


# --- invitations -----------------------------------------------------------------------------

def signing_link(raw_token: str) -> str:
    return f"{current_app.config['SIGNET_BASE_URL']}/s/{raw_token}"


def issue_link(party: Party) -> str:
    """A new link for the party (the previous one stops working); its raw token.

    The party keeps the token's hash, to find it, and the token sealed, so that only the
    server can send the same link again (a reminder); no message body is ever read for it.
    """
    raw, hashed = new_token()
    party.token_hash = hashed
    party.link_sealed = seal(raw, SIGNING_LINK)
    return raw


def current_link_token(party: Party) -> str | None:
    """The raw token of the party's working link; None when there is none or it cannot be
    opened any more (SECRET_KEY changed): the caller then issues a new link."""
    raw = unseal(party.link_sealed, SIGNING_LINK) if party.token_hash else None
    return raw if raw is not None and hash_token(raw) == party.token_hash else None


def mask_contact(contact: str) -> str:
    """Enough of an address or number to recognise it, not enough to harvest it."""
    contact = contact or ""
    if "@" in contact:
        name, domain = contact.rsplit("@", 1)
        shown = name[:1] + "***" + (name[-1:] if len(name) > 2 else "")
        return f"{shown}@{domain}"
    if len(contact) <= 6:
        return "***"
    return contact[:4] + "*" * (len(contact) - 6) + contact[-2:]


def format_moment(moment: datetime | None) -> str:
    """A date and time with its time zone, in the current (forced) locale."""
    moment = as_utc(moment)
    return babel_format_datetime(moment, "long") if moment else ""


def _invite(document: Document, party: Party) -> int:
    raw = issue_link(party)
    party.status = "sent"
    party.sent_at = utcnow()
    with force_locale(party.speaks):
        message = queue_invitation(document, party, raw)
    db.session.flush()
    audit("party.invited", document, None, None, party_id=party.id, role=party.role,
          name=party.name, channel=party.channel, contact=mask_contact(party.contact),
          message_id=message.id)
    return message.id


def queue_reminder(document: Document, party: Party, raw_token: str):
    """The reminder for the party's channel, with its working link (no flush, no commit).

    One text for the sweep's reminders and "Remind now"; the token is a secret of the message.
    """
    link = signing_link(raw_token)
    company = document.company.display_name
    approving = party.role == "approver"
    if party.channel == "sms":
        text = (_("Reminder: %(company)s is waiting for your approval of document %(number)s: "
                  "%(link)s", company=company, number=document.number, link=link)
                if approving else
                _("Reminder: %(company)s is waiting for your signature on document %(number)s: "
                  "%(link)s", company=company, number=document.number, link=link))
        return queue_sms(party.phone, text, "signing-reminder", secrets=[raw_token],
                         document_id=document.id)
    subject = (_("Reminder: please approve %(number)s: %(title)s", number=document.number,
                 title=document.title)
               if approving else
               _("Reminder: please sign %(number)s: %(title)s", number=document.number,
                 title=document.title))
    lines = [_("%(company)s is still waiting for you to approve %(number)s %(title)s.",
               company=company, number=document.number, title=document.title)
             if approving else
             _("%(company)s is still waiting for your signature on %(number)s %(title)s.",
               company=company, number=document.number, title=document.title)]
    if document.deadline_at is not None:
        lines.append(_("The link works until %(deadline)s.",
                       deadline=format_moment(document.deadline_at)))
    return queue_email(
        party.email, subject, "notice", "signing-reminder", secrets=[raw_token],
        document_id=document.id,
        heading=subject, lines=lines,
        action_url=link,
        action_label=_("Review and approve") if approving else _("Review and sign"))


def queue_invitation(document: Document, party: Party, raw_token: str):
    """The invitation message for the party's channel (no flush, no commit).

    The token is handed to the outbox as a secret: the stored copy never shows it."""
    link = signing_link(raw_token)
    company = document.company.display_name
    if party.channel == "sms":
        text = (_("%(company)s asks you to approve document %(number)s: %(link)s",
                  company=company, number=document.number, link=link)
                if party.role == "approver" else
                _("%(company)s asks you to sign document %(number)s: %(link)s",
                  company=company, number=document.number, link=link))
        return queue_sms(party.phone, text, "signing-invitation", secrets=[raw_token],
                         document_id=document.id)
    subject = (_("Please approve %(number)s: %(title)s", number=document.number,
                 title=document.title)
               if party.role == "approver" else
               _("Please sign %(number)s: %(title)s", number=document.number,
                 title=document.title))
    return queue_email(
        party.email, subject, "invitation", "signing-invitation", secrets=[raw_token],
        document_id=document.id,
        link=link, document=document, company=document.company, party=party,
        sender=document.responsible, deadline=format_moment(document.deadline_at),
        approving=party.role == "approver", action_url=link,
        action_label=_("Review and approve") if party.role == "approver"
        else _("Review and sign"),
    )


# --- decline ---------------------------------------------------------------------------------

def _notify_declined(document_id: int, party_id: int) -> bool:
    document = lock_document(document_id)
    party = db.session.get(Party, party_id) if document is not None else None
    if party is None or party.document_id != document.id:
        db.session.rollback()
        return False
    events = {event.type for event in _events(document.id)}
    if "document.decline_notified" in events:
        db.session.rollback()
        return False
    reason = party.decline_reason or ""
    if document.stage in OPEN_STAGES:
        document.stage = "declined"
        document.stage_changed_at = utcnow()
    if "document.declined" not in events:
        audit("document.declined", document, party, None, party_id=party.id, reason=reason)
    message_ids = []
    for user in employees_of(document):
        with force_locale(staff_language(user)):
            message_ids.append(_declined_email(user.email, document, party, reason, True))
    for other in _invited(document, exclude=party.id):
        with force_locale(other.speaks):
            message_ids.append(_declined_to_party(other, document, party, reason))
    db.session.flush()
    audit("document.decline_notified", document, None, None, messages=len(message_ids))
    _commit_and_dispatch(message_ids)
    return True


def _events(document_id: int):
    from portal.audit.service import events_for

    return events_for(document_id)


def employees_of(document: Document) -> list[User]:
    """The responsible employee and the creator, once each, if they can still read mail."""
    people = []
    for user in (document.responsible, document.created_by):
        if user is not None and user.active and user.email and user not in people:
            people.append(user)
    return people


def responsible_of(document: Document) -> list[User]:
    """The responsible employee, when active (a list: none for a deactivated account)."""
    user = document.responsible
    return [user] if user is not None and user.active and user.email else []


def _invited(document: Document, exclude: int | None = None) -> list[Party]:
    return [party for party in _fresh_parties(document)
            if party.signs and party.sent_at is not None and party.id != exclude
            and party.status != "declined"]


def _who(party: Party) -> str:
    return f"{party.name} ({party.organization})" if party.organization else party.name


def document_url(document: Document) -> str:
    return f"{current_app.config['SIGNET_BASE_URL']}/documents/{document.id}"


def _declined_email(address: str, document: Document, party: Party, reason: str,
                    employee: bool) -> int:
    message = queue_email(
        address,
        _("Declined: %(number)s %(title)s", number=document.number, title=document.title),
        "declined", "signing-declined",
        document=document, company=document.company, decliner=_who(party), reason=reason,
        employee=employee,
        action_url=document_url(document) if employee else None,
        action_label=_("Open the document") if employee else None,
    )
    db.session.flush()
    return message.id


def _declined_to_party(party: Party, document: Document, decliner: Party, reason: str) -> int:
    if party.channel == "sms":
        message = queue_sms(party.phone, _(
            "Document %(number)s was declined by %(name)s. There is nothing more to sign.",
            number=document.number, name=_who(decliner)), "signing-declined")
        db.session.flush()
        return message.id
    return _declined_email(party.email, document, decliner, reason, False)


# --- stop ------------------------------------------------------------------------------------

def queue_stop_notices(document: Document) -> list[int]:
    """Tell every invited party that the document was stopped (in the caller's transaction)."""
    message_ids = []
    for party in _invited(document):
        try:
            with force_locale(party.speaks):
                message_ids.append(_stop_notice(document, party))
        except InvalidRecipient:  # typed and checked long ago; never block the stop
            log.warning("No stop notice for party %s: bad contact", party.id)
    return message_ids


def _stop_notice(document: Document, party: Party) -> int:
    if party.channel == "sms":
        message = queue_sms(party.phone, _(
            "Document %(number)s from %(company)s was stopped. There is nothing to sign.",
            number=document.number, company=document.company.display_name),
            "signing-stopped")
    else:
        message = queue_email(
            party.email,
            _("Stopped: %(number)s %(title)s", number=document.number, title=document.title),
            "stopped", "signing-stopped",
            document=document, company=document.company, party=party,
            reason=document.stop_reason)
    db.session.flush()
    return message.id


# --- deadline --------------------------------------------------------------------------------

def _expire(document_id: int, now: datetime) -> bool:
    document = lock_document(document_id)
    deadline = as_utc(document.deadline_at) if document is not None else None
    if document is None or document.stage not in OPEN_STAGES or deadline is None \
            or deadline >= now:
        db.session.rollback()
        return False
    previous = document.stage
    document.stage = "expired"
    document.stage_changed_at = now
    audit("document.expired", document, None, None, previous_stage=previous,
          deadline=deadline.isoformat())
    message_ids = []
    for user in responsible_of(document):
        with force_locale(staff_language(user)):
            message = queue_email(
                user.email,
                _("Expired: %(number)s %(title)s", number=document.number, title=document.title),
                "notice", "document-expired",
                heading=_("The deadline passed before everyone signed"),
                lines=[_("%(number)s %(title)s was not signed by %(deadline)s and has expired.",
                         number=document.number, title=document.title,
                         deadline=format_moment(deadline)),
                       _("Create a new document to try again.")],
                action_url=document_url(document), action_label=_("Open the document"))
            db.session.flush()
            message_ids.append(message.id)
    _commit_and_dispatch(message_ids)
    return True
