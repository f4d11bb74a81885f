"""A bulk batch whose worker is SIGKILLed mid-row finishes after a new worker starts: every
row has exactly one document, sent, and no client has two.

A real worker process runs the batch through Redis; it is killed while a row is claimed
("working"), so its RQ job is gone with it. The new worker's sweep queues the silent batch
again, the dead worker's row is taken over once its lease ends, and a row whose document was
already made sends that one instead of making another. Nothing is run by hand.
"""

import pytest
from sqlalchemy import func, select

from portal.auth.models import User
from portal.bulk import services
from portal.bulk.models import BulkBatch, BulkRow
from portal.documents.models import Document, Party
from portal.extensions import db
from tests.documents.support import make_template, signet_company
from tests.factories import make_user
from tests.faults.support import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

ROWS = 8


@pytest.fixture
def fault_config(fault_config):
    """A dead worker's row lapses, and a silent batch is queued again, within seconds."""
    return {**fault_config, "SIGNET_BULK_ROW_LEASE_SECONDS": 2, "SIGNET_BULK_STALLED_SECONDS": 2}


def _progress(batch_id: int) -> dict[str, int]:
    db.session.commit()  # a fresh snapshot: the workers write through their own connections
    counts = services.batch_progress(batch_id)
    counts["batch"] = db.session.scalar(select(BulkBatch.status).where(BulkBatch.id == batch_id))
    db.session.commit()
    return counts


def _progress_if(batch_id: int, condition) -> dict | None:
    counts = _progress(batch_id)
    return counts if condition(counts) else None


def _mid_batch(counts: dict) -> bool:
    return bool(counts["working"]) and counts["sent"] >= 2


def test_a_worker_killed_mid_batch_finishes_after_a_restart_each_row_sent_once(
        app, redis_client, workers):
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True)
        company, template = signet_company(), make_template()
        text = "Name,Email,Amount,Place\n" + "".join(
            f"Client {n},client{n}@example.com,{100 + n},Lisboa\n" for n in range(ROWS))
        batch_id = services.start_batch(boss, template.id, company.id, text.encode(),
                                        "clients.csv").id
        workers.start(1)
        services.confirm(db.session.get(User, boss.id), batch_id, skip_invalid=False)

        mid_row = wait_until(lambda: _progress_if(batch_id, _mid_batch), "the worker mid-batch",
                             workers.logs)
        [first] = workers.pids
        workers.kill(first)  # SIGKILL: its job, its claim and its transaction die with it
        at_kill = _progress(batch_id)
        assert at_kill["pending"] > 0 and at_kill["sent"] < ROWS, (mid_row, at_kill)

        workers.start(1)
        done = wait_until(lambda: _progress_if(batch_id, lambda c: c["batch"] == "done"),
                          "the batch finished by the new worker", workers.logs)
        assert done["sent"] == ROWS and done["total"] == ROWS, done

        rows = db.session.scalars(select(BulkRow).where(BulkRow.batch_id == batch_id)).all()
        document_ids = [row.document_id for row in rows]
        assert None not in document_ids and len(set(document_ids)) == ROWS
        assert db.session.scalar(select(func.count(Document.id))) == ROWS  # none made twice
        per_client = dict(db.session.execute(
            select(Party.email, func.count(Party.id)).where(Party.role == "client")
            .group_by(Party.email)).all())
        assert per_client == {f"client{n}@example.com": 1 for n in range(ROWS)}
        assert all(document.sent_at and document.stage != "draft"
                   for document in db.session.scalars(select(Document)))
        if at_kill["working"]:  # the dead worker's row was taken over by the new one
            assert max(row.attempts for row in rows) == 2
