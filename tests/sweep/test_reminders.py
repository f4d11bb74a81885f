"""Automatic reminders: due from stored times, once per interval, never after the deadline."""

import threading
from datetime import timedelta

from portal.audit.service import events_for
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.documents.models import Document
from portal.documents.services.common import as_utc
from portal.extensions import db
from portal.signing.access import find_party
from portal.sweep.reminders import next_reminder_at, send_due_reminders
from portal.sweep.run import run_sweep
from portal.tokens import hash_token
from tests.documents.support import ready_draft, user
from tests.factories import make_user
from tests.progress.support import CLIENT_PHONE, LINK, load, messages_to, party, sent_document, sign

DIRECTOR = "director@signet.example"
CLIENT = "maria@example.com"
SENDER = "sender@example.com"


def _sender() -> int:
    return make_user(email=SENDER, name="Sam Sender").id


def _reminders_to(recipient: str) -> list[Message]:
    return [m for m in messages_to(recipient) if m.kind == "signing-reminder"]


def _invited_at(document_id: int, role: str):
    return as_utc(party(load(document_id), role).sent_at)


def test_the_schedule_first_after_n_days_then_every_m():
    sent = as_utc(load_free_moment())
    after, every = timedelta(days=2), timedelta(days=3)
    assert next_reminder_at(sent, None, after, every) == sent + after
    reminded = sent + timedelta(days=2, hours=1)
    assert next_reminder_at(sent, reminded, after, every) == reminded + every
    assert next_reminder_at(sent, reminded, after, None) is None
    assert next_reminder_at(sent, None, None, every) is None
    # Invited again (a corrected contact) after the last reminder: counted from the new invite.
    assert next_reminder_at(reminded + timedelta(hours=1), reminded, after, every) \
        == reminded + timedelta(hours=1) + after


def load_free_moment():
    from portal.models_base import utcnow

    return utcnow()


def test_a_reminder_goes_once_per_interval_with_the_original_link(app):
    with app.app_context():
        document_id = sent_document(_sender())
        invited = _invited_at(document_id, "company")
        [invitation] = messages_to(DIRECTOR)
        token = LINK.search(as_sent(invitation).body_text).group(1)

        assert run_sweep(invited + timedelta(days=1))["reminded"] == 0
        due = invited + timedelta(days=2, minutes=1)
        assert run_sweep(due)["reminded"] == 1
        assert run_sweep(due)["reminded"] == 0  # a second sweep in a row sends nothing
        assert run_sweep(invited + timedelta(days=3))["reminded"] == 0
        assert run_sweep(invited + timedelta(days=4, minutes=2))["reminded"] == 1

        first, second = _reminders_to(DIRECTOR)
        assert first.subject.startswith("Reminder: please sign")
        assert document_number(document_id) in first.subject
        # The link the signer already has keeps working: the reminder carries the same one.
        assert LINK.search(as_sent(first).body_text).group(1) == token
        assert LINK.search(as_sent(second).body_text).group(1) == token
        assert find_party(token).id == party(load(document_id), "company").id
        reminded = [e for e in events_for(document_id) if e.type == "party.reminded"]
        assert len(reminded) == 2
        assert reminded[0].details["new_link"] is False
        assert reminded[0].details["message_id"] == first.id
        assert _reminders_to(CLIENT) == []  # not invited yet: nobody to remind


def document_number(document_id: int) -> str:
    return load(document_id).number


def test_the_signing_page_opens_from_the_reminder(app):
    with app.app_context():
        document_id = sent_document(_sender())
        run_sweep(_invited_at(document_id, "company") + timedelta(days=2, minutes=1))
        [reminder] = _reminders_to(DIRECTOR)
        token = LINK.search(as_sent(reminder).body_text).group(1)
    response = app.test_client().get(f"/s/{token}")
    assert response.status_code == 200


def test_no_reminder_after_the_deadline_and_the_document_expires(app):
    with app.app_context():
        document_id = sent_document(_sender())
        invited = _invited_at(document_id, "company")
        document = load(document_id)
        document.deadline_at = invited + timedelta(days=3)
        db.session.commit()

        assert run_sweep(invited + timedelta(days=2, minutes=1))["reminded"] == 1
        counts = run_sweep(invited + timedelta(days=5))
        assert counts["reminded"] == 0 and counts["expired"] == 1
        assert load(document_id).stage == "expired"
        assert len(_reminders_to(DIRECTOR)) == 1
        [notice] = [m for m in messages_to(SENDER) if m.kind == "document-expired"]
        assert document_number(document_id) in notice.subject
        assert run_sweep(invited + timedelta(days=9))["expired"] == 0  # told once


def test_a_party_that_signed_is_not_reminded_the_next_one_is(app):
    with app.app_context():
        document_id = sent_document(_sender(), client_sms=True)
        sign(document_id, "company")
        client_invited = _invited_at(document_id, "client")
        assert run_sweep(client_invited + timedelta(days=2, minutes=1))["reminded"] == 1
        assert _reminders_to(DIRECTOR) == []
        [text] = _reminders_to(CLIENT_PHONE)
        assert text.channel == "sms"
        assert text.body_text.startswith("Reminder:")
        token = LINK.search(as_sent(text).body_text).group(1)
        assert hash_token(token) == party(load(document_id), "client").token_hash


def test_a_declined_document_reminds_nobody(app):
    from portal.models_base import utcnow

    with app.app_context():
        document_id = sent_document(_sender())
        invited = _invited_at(document_id, "company")
        signer = party(load(document_id), "company")
        signer.status, signer.declined_at = "declined", utcnow()
        signer.document.stage = "declined"
        db.session.commit()
        assert run_sweep(invited + timedelta(days=3))["reminded"] == 0


def test_two_sweeps_at_the_same_moment_remind_once(app):
    with app.app_context():
        document_id = sent_document(_sender())
        due = _invited_at(document_id, "company") + timedelta(days=2, minutes=1)
    start = threading.Barrier(2)
    results = []

    def sweep():
        with app.app_context():
            start.wait()
            results.append(send_due_reminders(due))
            db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == [0, 1]
    with app.app_context():
        assert len(_reminders_to(DIRECTOR)) == 1


def test_reminders_follow_the_settings(make_app):
    app = make_app(SIGNET_REMIND_AFTER_DAYS=5, SIGNET_REMIND_EVERY_DAYS=0)
    with app.app_context():
        document_id = sent_document(_sender())
        invited = _invited_at(document_id, "company")
        assert send_due_reminders(invited + timedelta(days=4)) == 0
        assert send_due_reminders(invited + timedelta(days=5, minutes=1)) == 1
        assert send_due_reminders(invited + timedelta(days=50)) == 0  # no repeats

    off = make_app(SIGNET_REMIND_AFTER_DAYS=0)
    with off.app_context():
        assert send_due_reminders(invited + timedelta(days=50)) == 0


def test_the_reminder_needs_no_message_body_to_repeat_the_link(app):
    with app.app_context():
        document_id = sent_document(_sender())
        invited = _invited_at(document_id, "company")
        [invitation] = messages_to(DIRECTOR)
        token = LINK.search(as_sent(invitation).body_text).group(1)
        db.session.delete(invitation)  # the link is kept sealed on the party, not in the outbox
        db.session.commit()

        assert run_sweep(invited + timedelta(days=2, minutes=1))["reminded"] == 1
        [reminder] = _reminders_to(DIRECTOR)
        assert LINK.search(as_sent(reminder).body_text).group(1) == token
        [event] = [e for e in events_for(document_id) if e.type == "party.reminded"]
        assert event.details["new_link"] is False


def test_after_the_secret_key_changed_a_fresh_link_is_sent(make_app):
    with make_app().app_context():
        document_id = sent_document(_sender())
        invited = _invited_at(document_id, "company")
        [invitation] = messages_to(DIRECTOR)
        old_token = LINK.search(as_sent(invitation).body_text).group(1)

    rotated = make_app(SECRET_KEY="a-new-secret-key-after-a-leak")
    with rotated.app_context():
        assert run_sweep(invited + timedelta(days=2, minutes=1))["reminded"] == 1
        [reminder] = _reminders_to(DIRECTOR)
        new_token = LINK.search(as_sent(reminder).body_text).group(1)
        assert new_token != old_token
        assert hash_token(new_token) == party(load(document_id), "company").token_hash
        [event] = [e for e in events_for(document_id) if e.type == "party.reminded"]
        assert event.details["new_link"] is True
        # The next reminder repeats the new link, sealed under the new key.
        run_sweep(invited + timedelta(days=4, minutes=2))
        assert LINK.search(as_sent(_reminders_to(DIRECTOR)[-1]).body_text).group(1) == new_token
    assert rotated.test_client().get(f"/s/{new_token}").status_code == 200
    assert rotated.test_client().get(f"/s/{old_token}").status_code == 404


def test_the_reminder_is_in_the_documents_language(app):
    from portal.documents import services
    from tests.documents.support import META

    with app.app_context():
        sender = _sender()
        draft = ready_draft(sender)
        draft.language = "pt"
        db.session.commit()
        services.send(user(sender), META, draft.id)
        run_sweep(_invited_at(draft.id, "company") + timedelta(days=2, minutes=1))
        [reminder] = _reminders_to(DIRECTOR)
        assert not reminder.subject.startswith("Reminder")
        assert db.session.get(Document, draft.id).number in reminder.subject
