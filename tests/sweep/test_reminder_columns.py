"""Reminders are counted on the party: the sweep and "Remind now" read the columns, one path
writes them, and the audit trail is only evidence (deleting it changes no decision)."""

from datetime import timedelta

import pytest
from sqlalchemy import delete

from portal.audit.models import AuditEvent
from portal.audit.service import events_for
from portal.documents.services.common import as_utc
from portal.extensions import db
from portal.pipeline.controls import TooSoon, next_reminder_at, remind
from portal.sweep.reminders import send_due_reminders
from tests.documents.support import META
from tests.factories import make_user
from tests.progress.support import load, messages_to, party, sent_document

DIRECTOR = "director@signet.example"


def _signer(document_id: int):
    return party(load(document_id), "company")


def _forget_reminder_events(document_id: int) -> None:
    db.session.execute(delete(AuditEvent).where(AuditEvent.document_id == document_id,
                                                AuditEvent.type == "party.reminded"))
    db.session.commit()


def _reminders() -> int:
    return [m.kind for m in messages_to(DIRECTOR)].count("signing-reminder")


def test_the_sweep_counts_its_reminder_on_the_party(app):
    with app.app_context():
        document_id = sent_document(make_user(email="s@example.com").id)
        signer = _signer(document_id)
        assert (signer.reminders_sent, signer.last_reminded_at) == (0, None)
        due = as_utc(signer.sent_at) + timedelta(days=2, minutes=1)
        assert send_due_reminders(due) == 1
        signer = _signer(document_id)
        assert signer.reminders_sent == 1 and as_utc(signer.last_reminded_at) == due
        [event] = [e for e in events_for(document_id) if e.type == "party.reminded"]
        assert event.details["automatic"] is True and event.details["party_id"] == signer.id


def test_without_its_events_the_sweep_still_knows_the_party_was_reminded(app):
    with app.app_context():
        document_id = sent_document(make_user(email="s@example.com").id)
        due = as_utc(_signer(document_id).sent_at) + timedelta(days=2, minutes=1)
        assert send_due_reminders(due) == 1
        _forget_reminder_events(document_id)
        assert send_due_reminders(due + timedelta(hours=1)) == 0  # not due again yet
        assert send_due_reminders(due + timedelta(days=2, minutes=1)) == 1
        assert _reminders() == 2 and _signer(document_id).reminders_sent == 2


def test_remind_now_goes_the_same_way_and_the_sweep_counts_from_it(app):
    with app.app_context():
        sender = make_user(email="s@example.com", name="Sam Sender")
        document_id = sent_document(sender.id)
        signer = _signer(document_id)
        signer.sent_at = signer.sent_at - timedelta(days=1)  # invited a day ago
        db.session.commit()
        remind(sender, META, document_id, signer.id)
        signer = _signer(document_id)
        manual_at = as_utc(signer.last_reminded_at)
        assert signer.reminders_sent == 1 and manual_at is not None
        [event] = [e for e in events_for(document_id) if e.type == "party.reminded"]
        assert event.details["automatic"] is False and event.actor_type == "user"
        assert event.details["new_link"] is False
        # Once an hour, from the column, whatever the trail holds.
        _forget_reminder_events(document_id)
        assert next_reminder_at(document_id, signer.id) == manual_at + timedelta(hours=1)
        with pytest.raises(TooSoon):
            remind(sender, META, document_id, signer.id)
        # The sweep's schedule runs from the manual reminder, not from the invitation.
        assert send_due_reminders(as_utc(signer.sent_at) + timedelta(days=2, minutes=1)) == 0
        assert send_due_reminders(manual_at + timedelta(days=2, minutes=1)) == 1
        assert _reminders() == 2 and _signer(document_id).reminders_sent == 2
