"""The code limits read the party's columns: the audit trail records sends, never decides."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete

from portal.audit.models import AuditEvent
from portal.delivery.models import Message
from portal.delivery.services import document_of
from portal.documents.models import Party
from portal.extensions import db
from portal.models_base import as_utc
from tests.helpers import text_of
from tests.signing.support import agree, post, sent_document


@pytest.fixture
def signing(app, admin):
    with app.app_context():
        return sent_document(admin["id"], extra_fields=False)


def _party(signing) -> Party:
    db.session.commit()
    return db.session.get(Party, signing.party_id)


def _a_minute_later(app, signing) -> None:
    with app.app_context():
        party = _party(signing)
        party.code_sent_at = party.code_sent_at - timedelta(seconds=61)
        db.session.commit()


def test_each_send_is_kept_on_the_party_with_its_document(app, signing):
    agree(app.test_client(), signing)
    with app.app_context():
        party = _party(signing)
        [sent] = party.recent_code_sends
        assert party.codes_sent == 1 and as_utc(party.code_sent_at).isoformat() == sent
        message = db.session.query(Message).filter_by(kind="signing_code").one()
        assert message.document_id == signing.document_id
        assert document_of(message) == signing.document_id


def test_without_the_send_events_the_hourly_limit_still_holds(app, signing):
    client = app.test_client()
    agree(client, signing)
    for _resend in range(4):
        _a_minute_later(app, signing)
        assert "We sent you a new code." in text_of(post(client, f"{signing.url}/code/send"))
    with app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.type == "party.code_sent"))
        db.session.commit()
        assert len(_party(signing).recent_code_sends) == 5
    _a_minute_later(app, signing)
    html = text_of(post(client, f"{signing.url}/code/send"))
    assert re.search(r"Wait (59|60) minutes before asking for a new one\.", html)
    with app.app_context():
        assert _party(signing).codes_sent == 5


def test_sends_older_than_an_hour_leave_the_window(app, signing):
    client = app.test_client()
    agree(client, signing)
    with app.app_context():
        party = _party(signing)
        old = (as_utc(party.code_sent_at) - timedelta(minutes=61)).isoformat()
        party.recent_code_sends = [old] * 5
        party.code_sent_at = party.code_sent_at - timedelta(minutes=61)
        db.session.commit()
    assert "We sent you a new code." in text_of(post(client, f"{signing.url}/code/send"))
    with app.app_context():
        assert old not in _party(signing).recent_code_sends
