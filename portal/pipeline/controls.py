"""A manager's nudges to a signer: remind now, and resend the invitation to a corrected contact.

A reminder goes the one way every reminder goes (portal.notices.reminders): it repeats the
signer's working link, and counts on the party. "Remind now" is allowed once an hour, read from
the party's `last_reminded_at` (any reminder, the sweep's too), which the document's lock keeps
true across processes. A corrected contact gets a fresh link, and the previous one stops
working at that moment.
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, format_time
from flask_babel import gettext as _
from sqlalchemy import update

from portal import unit
from portal.audit.catalogue import PARTY_INVITATION_RESENT
from portal.delivery.services import InvalidRecipient, dispatch
from portal.documents.display import mask_contact
from portal.documents.errors import DocumentRefused
from portal.documents.links import issue_link
from portal.documents.models import CHANNELS, Document, Field, Party
from portal.documents.services.common import as_utc
from portal.documents.trail import audit
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices.reminders import send_reminder
from portal.notices.texts import queue_invitation
from portal.pipeline.cards import current_signers
from portal.validation import InvalidContact, normalise_email_address, normalise_phone
from portal.workflow.lock import lock_document

REMIND_INTERVAL = timedelta(hours=1)


class TooSoon(DomainError):
    """The signer was reminded less than an hour ago."""

    status = 429


def next_reminder_at(document_id: int, party_id: int) -> datetime | None:
    """When "Remind now" is allowed again for this signer, if not now."""
    party = db.session.get(Party, party_id)
    if party is None or party.document_id != document_id:
        return None
    return _allowed_again_at(party)


def _allowed_again_at(party: Party) -> datetime | None:
    return reminder_allowed_at(party.last_reminded_at)


def reminder_allowed_at(last_reminded_at: datetime | None) -> datetime | None:
    """When "Remind now" is allowed again after a reminder at that moment, if not now (a
    party's, or a batch ceremony's bundle's)."""
    last = as_utc(last_reminded_at)
    if last is None or last + REMIND_INTERVAL <= utcnow():
        return None
    return last + REMIND_INTERVAL


def refuse_if_too_soon(name: str, last_reminded_at: datetime | None) -> None:
    """TooSoon (the transaction rolled back) when `name` was reminded within the hour."""
    allowed_at = reminder_allowed_at(last_reminded_at)
    if allowed_at is not None:
        unit.rollback()
        raise TooSoon(_("%(name)s was reminded less than an hour ago. Try again after %(time)s.",
                        name=name, time=_clock(allowed_at)))


def _current_signer(document: Document | None, party_id: int) -> tuple[Document, Party]:

    if document is None:
        unit.rollback()
        raise DomainError(_("There is no such document."), 404)
    party = next((p for p in current_signers(document) if p.id == party_id), None)
    if party is None:
        unit.rollback()
        raise DomainError(_("This document does not wait for that signer any more."), 409)
    return document, party


def _send_new_link(document: Document, party: Party, compose) -> int:
    # A corrected contact gets a new link, so whoever held the wrong address loses the old.
    raw = issue_link(party)
    with force_locale(party.speaks):
        message = compose(document, party, raw)
    db.session.flush()
    return message.id


def remind(actor, meta, document_id: int, party_id: int) -> Party:
    """Send the current signer a reminder with their link, at most once an hour."""
    document, party = _current_signer(lock_document(document_id), party_id)
    refuse_if_too_soon(party.name, party.last_reminded_at)
    try:
        send_reminder(document, party, actor, meta)
    except InvalidRecipient as refused:
        unit.rollback()
        raise DomainError(refused.message, 422) from refused
    return party


def _clock(moment: datetime) -> str:

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
        message_id = _send_new_link(document, party, queue_invitation)
    except InvalidRecipient as refused:
        unit.rollback()
        raise DocumentRefused({"contact": refused.message}) from refused
    audit(PARTY_INVITATION_RESENT, document, actor, meta, party_id=party.id, name=party.name,
          channel=channel, previous_contact=previous, contact=mask_contact(party.contact),
          message_id=message_id)
    unit.commit()
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
