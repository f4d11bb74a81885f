"""One reminder to a signer: the sweep's, a manager's "Remind now" and a rule's all send it here.

The caller holds the document's lock and has decided that the reminder may go (the sweep by its
schedule, "Remind now" by its once-an-hour rule, both read from the party's columns). Here,
once for every path: the link is chosen, the message queued, the party's reminder columns
written and the event recorded, in one transaction; the message is dispatched after it.

The link: a reminder repeats the party's working link (sealed on the party, readable only by
the server), so the one the signer already has keeps working. Only when it cannot be opened
(SECRET_KEY changed, or the link predates sealing) is a fresh token issued; the reminder then
carries the only working link, and the event says so (new_link).
"""

from datetime import datetime

from flask_babel import force_locale

from portal import unit
from portal.audit.catalogue import PARTY_REMINDED
from portal.delivery.models import Message
from portal.delivery.services import dispatch
from portal.documents.display import mask_contact
from portal.documents.links import current_link_token, issue_link
from portal.documents.models import Document, Party
from portal.documents.trail import audit
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices.texts import queue_reminder


def send_reminder(document: Document, party: Party, actor=None, meta=None,
                  now: datetime | None = None, automatic: bool = False) -> Message:
    """Queue the party's reminder, count it on the party, record it, commit and dispatch.

    `now`: the moment the reminder counts from (the sweep passes its own clock). Raises
    InvalidRecipient before anything is written when the party's contact cannot be used; the
    caller rolls back.
    """
    now = now or utcnow()
    raw, new_link = _link_for(party)
    with force_locale(party.speaks):
        message = queue_reminder(document, party, raw)
    db.session.flush()
    party.reminders_sent = (party.reminders_sent or 0) + 1
    party.last_reminded_at = now
    audit(PARTY_REMINDED, document, actor, meta, party_id=party.id, role=party.role,
          name=party.name, channel=party.channel, contact=mask_contact(party.contact),
          message_id=message.id, automatic=automatic, new_link=new_link, at=now.isoformat())
    unit.commit()
    dispatch([message.id])
    return message


def _link_for(party: Party) -> tuple[str, bool]:
    """(the raw token of the signing link, whether it is new): the party's current one if the
    server can still open it."""
    raw = current_link_token(party)
    if raw is not None:
        return raw, False
    return issue_link(party), True
