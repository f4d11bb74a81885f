"""The notices sent when a document is declined, stopped or expires.

Each reaction runs in the workflow's transaction (see `portal.bus`): the notices are queued
with the change and dispatched once it commits.
"""

import logging

from flask_babel import force_locale

from portal import bus, unit
from portal.audit.catalogue import (
    DOCUMENT_DECLINE_NOTIFIED,
    DOCUMENT_DECLINED,
    DOCUMENT_EXPIRED,
    DOCUMENT_STOPPED,
)
from portal.auth.services import staff_language
from portal.delivery.services import InvalidRecipient, dispatch
from portal.documents.models import Document
from portal.documents.recipients import employees_of, invited, responsible_of
from portal.documents.trail import audit
from portal.extensions import db
from portal.notices.texts import (
    queue_declined_email,
    queue_declined_to_party,
    queue_expired_notice,
    queue_stop_notice,
)

log = logging.getLogger(__name__)


def subscribe() -> None:
    bus.subscribe(DOCUMENT_DECLINED, tell_declined)
    bus.subscribe(DOCUMENT_STOPPED, tell_stopped)
    bus.subscribe(DOCUMENT_EXPIRED, tell_expired)


def dispatch_after_commit(message_ids: list[int]) -> None:
    if message_ids:
        unit.after_commit(lambda: dispatch(message_ids))


def tell_declined(happened: bus.Happened) -> None:
    """The responsible employee, the creator and every other invited party hear of it."""
    document = db.session.get(Document, happened.document_id)
    party = happened.data["actor"]
    reason = party.decline_reason or ""
    message_ids = []
    for user in employees_of(document):
        with force_locale(staff_language(user)):
            message_ids.append(queue_declined_email(user.email, document, party, reason, True))
    for other in invited(document, exclude=party.id):
        with force_locale(other.speaks):
            message_ids.append(queue_declined_to_party(other, document, party, reason))
    audit(DOCUMENT_DECLINE_NOTIFIED, document, None, None, messages=len(message_ids))
    dispatch_after_commit(message_ids)


def tell_stopped(happened: bus.Happened) -> None:
    """Every invited party: their links now say "stopped"."""
    document = db.session.get(Document, happened.document_id)
    message_ids = []
    for party in invited(document):
        try:
            with force_locale(party.speaks):
                message_ids.append(queue_stop_notice(document, party))
        except InvalidRecipient:  # typed and checked long ago; never block the stop
            log.warning("No stop notice for party %s: bad contact", party.id)
    dispatch_after_commit(message_ids)


def tell_expired(happened: bus.Happened) -> None:
    """The responsible employee: the deadline passed before everyone signed."""
    document = db.session.get(Document, happened.document_id)
    message_ids = []
    for user in responsible_of(document):
        with force_locale(staff_language(user)):
            message_ids.append(queue_expired_notice(user.email, document))
    dispatch_after_commit(message_ids)
