"""The batch ceremony's gaps closed: its one invitation is reminded (the sweep, "Remind now"),
two runs never open two bundles for one signer, and an invitation that cannot go falls back
to inviting each document on its own."""

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from portal.audit.service import events_for
from portal.bulk.models import BulkBatch
from portal.delivery.redaction import as_sent
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.signing import bundles
from portal.signing.models import SigningBundle, SigningBundleParty
from portal.sweep.run import run_sweep
from tests.bulk.support import LINK
from tests.bulk.test_batch_signing import (
    DIRECTOR,
    ROWS,
    _company_parties,
    _confirm,
    _link,
    _messages,
    _run_batch,
    _sign,
)
from tests.helpers import csrf_token, text_of
from tests.signing.support import HTMX

TWO_ROWS = ROWS[:len(ROWS) // 2]


def _bundle() -> SigningBundle:
    db.session.commit()
    return db.session.scalar(select(SigningBundle).order_by(SigningBundle.id.desc()))


def _reminders() -> list:
    return _messages(DIRECTOR, "batch-signing-reminder")


def test_the_sweep_reminds_the_bundle_once_on_the_parties_cadence(app, admin, client):
    with app.app_context():
        _run_batch(admin["id"], TWO_ROWS)
        invited = _bundle().invited_at
        assert run_sweep(invited + timedelta(days=1))["reminded"] == 0
        assert run_sweep(invited + timedelta(days=2, minutes=1))["reminded"] == 1
        assert run_sweep(invited + timedelta(days=2, minutes=2))["reminded"] == 0  # done
        assert run_sweep(invited + timedelta(days=4, minutes=2))["reminded"] == 1
        # One message for the batch, none per document; it repeats the invitation's link.
        assert len(_reminders()) == 2 and _messages(DIRECTOR, "signing-reminder") == []
        reminder = as_sent(_reminders()[0])
        assert "2 documents" in reminder.subject
        invitation = as_sent(_messages(DIRECTOR, "batch-signing-invitation")[0])
        assert LINK.search(reminder.body_text).group(1) == \
            LINK.search(invitation.body_text).group(1)
        for party in _company_parties():  # each document's trail and party count it
            reminded = [event for event in events_for(party.document_id)
                        if event.type == "party.reminded"]
            assert len(reminded) == 2 and reminded[0].details["automatic"] is True
            assert party.reminders_sent == 2
    token = _link(app)
    _confirm(client, app, token)
    _sign(client, token, [party.id for party in _company_parties_in(app)])
    with app.app_context():  # nothing left for the signer: no more reminders (clients get theirs)
        run_sweep(invited + timedelta(days=6, minutes=3))
        assert len(_reminders()) == 2


def _company_parties_in(app) -> list[Party]:
    with app.app_context():
        parties = _company_parties()
        db.session.expunge_all()
        return parties


def test_remind_now_on_the_batch_page_once_an_hour(app, admin, admin_client):
    with app.app_context():
        batch_id = _run_batch(admin["id"], TWO_ROWS)
        bundle_id = _bundle().id
    url = f"/bulk/{batch_id}/signing/{bundle_id}/remind"
    page = text_of(admin_client.get(f"/bulk/{batch_id}"))
    assert f'action="{url}"' in page and "Remind now" in page

    assert admin_client.post(url).status_code == 400  # no CSRF token: refused, nothing sent
    with app.app_context():
        assert _reminders() == []

    plain = admin_client.post(url, data={"csrf_token": csrf_token(admin_client)})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(
        f"/bulk/{batch_id}#bulk-signing")
    shown = text_of(admin_client.get(f"/bulk/{batch_id}"))
    assert "Anna Petrova was reminded." in shown and "again after" in shown

    again = admin_client.post(url, data={"csrf_token": csrf_token(admin_client)}, headers=HTMX)
    fragment = text_of(again)
    assert again.status_code == 200 and 'id="bulk-signing"' in fragment
    assert "flash-warning" in fragment and "less than an hour ago" in fragment
    with app.app_context():
        assert len(_reminders()) == 1
        assert _bundle().reminders_sent == 1 and _bundle().last_reminded_at is not None

    # Another batch's bundle, or none: not found, nothing sent.
    assert admin_client.post(f"/bulk/{batch_id}/signing/{bundle_id + 1}/remind",
                             data={"csrf_token": csrf_token(admin_client)}).status_code == 404


def _reopen(batch_id: int) -> list[tuple[int, int]]:
    """The batch back to its run, before our signer was invited: (document, party) ids."""
    db.session.execute(SigningBundleParty.__table__.delete())
    db.session.execute(SigningBundle.__table__.delete())
    for party in _company_parties():
        party.status, party.token_hash, party.link_sealed, party.sent_at = (
            "waiting", None, None, None)
    db.session.get(BulkBatch, batch_id).status = "running"
    db.session.commit()
    return [(party.document_id, party.id) for party in _company_parties()]


def _take(app, document_id: int, party_id: int, hold: float = 0.0, started=None) -> None:
    """One run's turn reaching our signer: the party joins the batch's open bundle."""
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert bundles.take_invitation(document, db.session.get(Party, party_id))
        if started is not None:
            started.set()
        time.sleep(hold)  # the bundle inserted, not committed: the other run races it
        db.session.commit()


def test_two_runs_at_once_open_one_bundle_for_the_signer(app, admin, caplog):
    caplog.set_level(logging.INFO, logger="portal.signing.bundles")
    with app.app_context():
        batch_id = _run_batch(admin["id"], TWO_ROWS)
        (first, second) = _reopen(batch_id)
    inserted = threading.Event()
    runs = [threading.Thread(target=_take, args=(app, *first, 0.5, inserted)),
            threading.Thread(target=lambda: inserted.wait(10) and _take(app, *second))]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)
    with app.app_context():
        assert db.session.scalar(select(func.count(SigningBundle.id))) == 1
        assert db.session.scalar(select(func.count(SigningBundleParty.id))) == 2
        assert bundles.invite_batch(batch_id) == 1
        assert len(_messages(DIRECTOR, "batch-signing-invitation")) == 2  # the first run's too
        if db.engine.dialect.name == "postgresql":  # SQLite lets one writer at a time anyway
            assert "Another run opened the bundle" in caplog.text  # the index refused one


def test_an_invitation_that_cannot_go_invites_each_document_on_its_own(app, admin,
                                                                       admin_client):
    with app.app_context():
        batch_id = _run_batch(admin["id"], TWO_ROWS)
        for document_id, party_id in _reopen(batch_id):
            bundles.take_invitation(db.session.get(Document, document_id),
                                    db.session.get(Party, party_id))
        bundle = _bundle()
        bundle.email = "not an address"  # the stored contact the one message would go to
        db.session.get(BulkBatch, batch_id).status = "done"
        db.session.commit()
        assert bundles.invite_batch(batch_id) == 1
        bundle = _bundle()
        assert bundle.fallback_reason == "contact" and bundle.closed_at is not None
        assert bundle.invited_at is None and bundle.members == []
        assert len(_messages(DIRECTOR, "signing-invitation")) == 2  # one per document
        for party in _company_parties():
            assert party.status == "sent"
            types = [event.type for event in events_for(party.document_id)]
            alone = types.index("party.invited_alone")
            assert types.index("party.invited", alone) > alone
            why = next(event for event in events_for(party.document_id)
                       if event.type == "party.invited_alone")
            assert why.details["reason"] == "contact" and why.details["bundle_id"] == bundle.id
    page = " ".join(text_of(admin_client.get(f"/bulk/{batch_id}")).split())
    assert "invited one document at a time: the signer&#39;s address was refused" in page
