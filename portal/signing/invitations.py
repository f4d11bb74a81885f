"""Invitations: when the workflow says whose turn came, each of them gets a link.

A party is invited once: it gets a fresh link, its status becomes "sent" and the invitation
is queued in its language, all in the workflow's transaction; the message leaves after commit.
"""

import logging
from collections.abc import Callable

from flask_babel import force_locale

from portal import bus, unit
from portal.audit.catalogue import PARTY_INVITED
from portal.delivery.services import dispatch
from portal.documents.display import mask_contact
from portal.documents.links import issue_link
from portal.documents.models import Document, Party
from portal.documents.trail import audit
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices.texts import queue_invitation
from portal.workflow.order import TURN

log = logging.getLogger(__name__)


# Who may take a party's invitation over (a batch ceremony's one invitation for many
# documents, portal/signing/bundles.py): registered when the app is built (portal/reactions).
_takers: list[Callable[[Document, Party], bool]] = []


def subscribe() -> None:
    bus.subscribe(TURN, invite_turn)


def register_taker(taker: Callable[[Document, Party], bool]) -> None:
    """`taker(document, party)` returns True when it invites the party itself."""
    if taker not in _takers:
        _takers.append(taker)


def invite_turn(happened: bus.Happened) -> None:
    document = db.session.get(Document, happened.document_id)
    message_ids = []
    for party_id in happened.data["party_ids"]:
        party = db.session.get(Party, party_id)
        try:
            with db.session.begin_nested():  # one bad contact must not cost the others theirs
                if not any(take(document, party) for take in _takers):
                    message_ids.append(invite(document, party))
        except Exception:
            log.exception("Inviting party %s of document %s failed", party_id, document.id)
    if message_ids:
        unit.after_commit(lambda: dispatch(message_ids))


def invite(document: Document, party: Party) -> int:
    raw = issue_link(party)
    with force_locale(party.speaks):
        message = queue_invitation(document, party, raw)
    db.session.flush()
    mark_invited(document, party, message.id)
    return message.id


def mark_invited(document: Document, party: Party, message_id: int) -> None:
    """The party, whose link is issued, was invited by that message (no commit)."""
    party.status = "sent"
    party.sent_at = utcnow()
    audit(PARTY_INVITED, document, None, None, party_id=party.id, role=party.role,
          name=party.name, channel=party.channel, contact=mask_contact(party.contact),
          message_id=message_id)
