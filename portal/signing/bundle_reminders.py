"""Reminders of a batch ceremony's one invitation: one message for the bundle, never one per
document (the per-document reminders skip a bundle's parties, portal/sweep/reminders.py).

The rules are a party's: the first SIGNET_REMIND_AFTER_DAYS after the invitation, the next
SIGNET_REMIND_EVERY_DAYS after the previous one (`sweep.reminders.next_reminder_at`); none once
nothing in the bundle waits for the signer (signed, declined, stopped, past the deadline) or
its link has expired; a manager's "Remind now" at most once an hour
(`pipeline.controls.refuse_if_too_soon`). Every reminder writes the bundle's
`last_reminded_at`, and each is decided under the bundle's row lock, so the sweep and a
manager at once never send two. Each waiting document's trail records the reminder (one
message), and its party counts it, as a party's own reminder does.
"""

import logging
from datetime import datetime

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select, update

from portal import unit
from portal.audit.catalogue import PARTY_REMINDED
from portal.delivery.services import InvalidRecipient, dispatch, queue_email, queue_sms
from portal.documents.display import mask_contact
from portal.documents.models import Party
from portal.documents.trail import audit
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.pipeline.controls import refuse_if_too_soon
from portal.secretbox import BATCH_LINK, seal, unseal
from portal.signing.bundles import bundle_link, remindable, waiting_parties
from portal.signing.models import SigningBundle
from portal.sweep.reminders import intervals, next_reminder_at
from portal.tokens import hash_token, new_token

log = logging.getLogger(__name__)

BUNDLES = SigningBundle.__table__


# --- the sweep ------------------------------------------------------------------------------

def send_due_bundle_reminders(now: datetime | None = None) -> int:
    """Remind every bundle whose reminder is due; how many reminders were queued."""
    now = now or utcnow()
    after, every = intervals()
    if after is None:
        return 0
    candidates = db.session.execute(
        select(SigningBundle.id, SigningBundle.invited_at, SigningBundle.last_reminded_at)
        .where(SigningBundle.invited_at <= now - after, SigningBundle.closed_at.is_(None),
               SigningBundle.used_at.is_(None),
               SigningBundle.expires_at.is_(None) | (SigningBundle.expires_at > now))
        .order_by(SigningBundle.id)).all()
    unit.commit()  # end the read: each reminder decides again under the bundle's lock
    due = [bundle_id for bundle_id, invited_at, last in candidates
           if _is_due(next_reminder_at(invited_at, last, after, every), now)]
    return sum(1 for bundle_id in due if remind_if_due(bundle_id, now))


def _is_due(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


def remind_if_due(bundle_id: int, now: datetime) -> bool:
    """The sweep's reminder of one bundle, if still due (decided under its lock)."""
    try:
        bundle = _lock(bundle_id)
        after, every = intervals()
        if bundle is None or not remindable(bundle, now) or not _is_due(
                next_reminder_at(bundle.invited_at, bundle.last_reminded_at, after, every), now):
            unit.rollback()
            return False
        send_bundle_reminder(bundle, now=now, automatic=True)
        return True
    except InvalidRecipient:
        unit.rollback()
        log.warning("No reminder for bundle %s: its contact is not usable", bundle_id)
        return False
    except Exception:
        unit.rollback()
        log.exception("Reminder of bundle %s failed", bundle_id)
        return False


def _lock(bundle_id: int) -> SigningBundle | None:
    unit.rollback()
    # A write first: on SQLite it takes the write lock with the newest snapshot.
    db.session.execute(update(BUNDLES).where(BUNDLES.c.id == bundle_id)
                       .values(reminders_sent=BUNDLES.c.reminders_sent))
    return db.session.scalar(
        select(SigningBundle).where(SigningBundle.id == bundle_id).with_for_update()
        .execution_options(populate_existing=True))


# --- a manager's "Remind now" ---------------------------------------------------------------

def remind_now(actor, meta, batch_id: int, bundle_id: int) -> SigningBundle:
    """Remind the signer of a batch's bundle now: at most once an hour, only while it waits
    for them. The caller has checked the actor may reach the batch."""
    bundle = _lock(bundle_id)
    if bundle is None or bundle.batch_id != batch_id:
        unit.rollback()
        raise DomainError(_nothing_to_remind(), 404)
    if not remindable(bundle):
        unit.rollback()
        raise DomainError(_nothing_to_remind(), 409)
    refuse_if_too_soon(bundle.name, bundle.last_reminded_at)
    try:
        send_bundle_reminder(bundle, actor, meta)
    except InvalidRecipient as refused:
        unit.rollback()
        raise DomainError(refused.message, 422) from refused
    return bundle


def _nothing_to_remind() -> str:
    return _("Nothing in this batch waits for that signer any more.")


# --- the one reminder -----------------------------------------------------------------------

def send_bundle_reminder(bundle: SigningBundle, actor=None, meta=None,
                         now: datetime | None = None, automatic: bool = False) -> int:
    """Queue the bundle's reminder with its link, count it on the bundle and on each waiting
    party, record it on each waiting document's trail, commit and dispatch; the message id.

    The caller holds the bundle's lock and decided the reminder may go. Raises
    InvalidRecipient before anything is written when the contact cannot be used."""
    now = now or utcnow()
    parties = waiting_parties(bundle, now)
    raw, new_link = _link_for(bundle)
    with force_locale(bundle.speaks):
        message = _queue_reminder(bundle, parties, raw)
    db.session.flush()
    bundle.reminders_sent = (bundle.reminders_sent or 0) + 1
    bundle.last_reminded_at = now
    for party in parties:
        party.reminders_sent = (party.reminders_sent or 0) + 1
        party.last_reminded_at = now
        audit(PARTY_REMINDED, party.document, actor, meta, party_id=party.id,
               role=party.role, name=party.name, channel=party.channel,
               contact=mask_contact(party.contact), message_id=message.id,
               automatic=automatic, new_link=new_link, at=now.isoformat())
    unit.commit()
    dispatch([message.id])
    return message.id


def _link_for(bundle: SigningBundle) -> tuple[str, bool]:
    """(the raw token of the bundle's link, whether it is new): the current one if the server
    can still open it, else a fresh one (the old link then stops working)."""
    raw = unseal(bundle.link_sealed, BATCH_LINK)
    if raw is not None and hash_token(raw) == bundle.token_hash:
        return raw, False
    raw, hashed = new_token()
    bundle.token_hash, bundle.link_sealed = hashed, seal(raw, BATCH_LINK)
    return raw, True


def _queue_reminder(bundle: SigningBundle, parties: list[Party], raw: str):
    link = bundle_link(raw)
    company = parties[0].document.company.display_name
    count = len(parties)
    if bundle.channel == "sms":
        text = ngettext("Reminder: %(company)s is waiting for your signature on %(num)d "
                        "document: %(link)s",
                        "Reminder: %(company)s is waiting for your signature on %(num)d "
                        "documents: %(link)s", count, company=company, link=link)
        return queue_sms(bundle.phone, text, "batch-signing-reminder", secrets=[raw])
    subject = ngettext("Reminder: please sign %(num)d document",
                       "Reminder: please sign %(num)d documents", count)
    lines = [ngettext("%(company)s is still waiting for your signature on %(num)d document.",
                      "%(company)s is still waiting for your signature on %(num)d documents.",
                      count, company=company)]
    return queue_email(bundle.email, subject, "notice", "batch-signing-reminder", secrets=[raw],
                       heading=subject, lines=lines, action_url=link,
                       action_label=_("Review and sign"))
