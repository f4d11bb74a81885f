"""A manager's nudges to a signer: remind now, and resend the invitation to a corrected contact.

A reminder repeats the signer's working link (kept sealed on the party, readable only by the
server); a corrected contact gets a fresh link, and the previous one stops working at that
moment. The last reminder per signer is read from the audit trail (there is no
column for it), which also keeps the once-an-hour rule true across processes.
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.audit.models import AuditEvent
from portal.delivery.services import InvalidRecipient, dispatch
from portal.documents.display import mask_contact
from portal.documents.errors import DocumentRefused
from portal.documents.links import current_link_token, issue_link
from portal.documents.models import CHANNELS, Document, Field, Party
from portal.documents.services.common import as_utc, audit
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices.texts import queue_invitation, queue_reminder
from portal.validation import InvalidContact, normalise_email_address, normalise_phone
from portal.workflow.lock import lock_document

REMIND_INTERVAL = timedelta(hours=1)


class TooSoon(DomainError):
    """The signer was reminded less than an hour ago."""

    status = 429


def last_reminded_at(document_id: int, party_id: int) -> datetime | None:
    """When this signer was last reminded by hand, within the last interval (else None)."""
    events = db.session.execute(
        select(AuditEvent.created_at, AuditEvent.details)
        .where(AuditEvent.document_id == document_id, AuditEvent.type == "party.reminded",
               AuditEvent.created_at >= utcnow() - REMIND_INTERVAL)
        .order_by(AuditEvent.id.desc()))
    for created_at, details in events:
        if (details or {}).get("party_id") == party_id:
            return as_utc(created_at)
    return None


def next_reminder_at(document_id: int, party_id: int) -> datetime | None:
    """When the next reminder is allowed, if not now."""
    last = last_reminded_at(document_id, party_id)
    return last + REMIND_INTERVAL if last is not None else None


def _current_signer(document: Document | None, party_id: int) -> tuple[Document, Party]:
    from portal.pipeline.cards import current_signers

    if document is None:
        db.session.rollback()
        raise DomainError(_("There is no such document."), 404)
    party = next((p for p in current_signers(document) if p.id == party_id), None)
    if party is None:
        db.session.rollback()
        raise DomainError(_("This document does not wait for that signer any more."), 409)
    return document, party


def _send_link(document: Document, party: Party, compose, keep_link: bool = False) -> int:
    # A reminder repeats the working link (the signer may have the page open); a corrected
    # contact gets a new one, so whoever held the wrong address loses the old.
    raw = current_link_token(party) if keep_link else None
    if raw is None:
        raw = issue_link(party)
    with force_locale(party.speaks):
        message = compose(document, party, raw)
    db.session.flush()
    return message.id


def remind(actor, meta, document_id: int, party_id: int) -> Party:
    """Send the current signer a reminder with their link, at most once an hour."""
    document, party = _current_signer(lock_document(document_id), party_id)
    allowed_at = next_reminder_at(document.id, party.id)
    if allowed_at is not None:
        db.session.rollback()
        raise TooSoon(_("%(name)s was reminded less than an hour ago. Try again after %(time)s.",
                        name=party.name, time=_clock(allowed_at)))
    try:
        message_id = _send_link(document, party, queue_reminder, keep_link=True)
    except InvalidRecipient as refused:
        db.session.rollback()
        raise DomainError(refused.message, 422) from refused
    audit("party.reminded", document, actor, meta, party_id=party.id, name=party.name,
          channel=party.channel, contact=mask_contact(party.contact), message_id=message_id)
    db.session.commit()
    dispatch([message_id])
    return party


def _clock(moment: datetime) -> str:
    from flask_babel import format_time

    return format_time(moment, "short")


def clean_contact(channel: str, contact: str) -> tuple[str, str]:
    """(channel, contact in its stored form), or DocumentRefused naming the field."""
    if channel not in CHANNELS:
        raise DocumentRefused({"channel": _("Choose email or SMS.")})
    try:
        if channel == "email":
            return channel, normalise_email_address(contact)
        return channel, normalise_phone(contact, current_app.config.get("SIGNET_PHONE_REGION"))
    except InvalidContact as invalid:
        raise DocumentRefused({"contact": invalid.message}) from invalid


def resend_invitation(actor, meta, document_id: int, party_id: int, channel: str,
                      contact: str) -> Party:
    """Correct a current signer's email or phone and invite them again; the old link dies."""
    channel, contact = clean_contact(channel, contact)
    document, party = _current_signer(lock_document(document_id), party_id)
    previous = mask_contact(party.contact)
    party.channel = channel
    if channel == "email":
        party.email = contact
    else:
        party.phone = contact
    _restart_ceremony(party)
    try:
        message_id = _send_link(document, party, queue_invitation)
    except InvalidRecipient as refused:
        db.session.rollback()
        raise DocumentRefused({"contact": refused.message}) from refused
    audit("party.invitation_resent", document, actor, meta, party_id=party.id, name=party.name,
          channel=channel, previous_contact=previous, contact=mask_contact(party.contact),
          message_id=message_id)
    db.session.commit()
    dispatch([message_id])
    return party


def _restart_ceremony(party: Party) -> None:
    """Whoever held the old link may have agreed, confirmed a code or filled fields: undo it,
    so the corrected recipient goes through every step over their own channel."""
    party.status = "sent"
    party.sent_at = utcnow()
    party.opened_at = None
    party.consent_at = None
    party.code_hash = None
    party.code_expires_at = None
    party.code_attempts = 0
    party.code_confirmed_at = None
    db.session.execute(update(Field).where(Field.party_id == party.id)
                       .values(value="", value_sha256=None, filled_at=None))
