"""Bulk batches: uploaded, confirmed once, every valid row created and sent exactly once."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
import rq
from sqlalchemy import func, select, update

from portal.auth.models import Role, RoleGrant, User
from portal.bulk import services
from portal.bulk.jobs import run_batch, run_row
from portal.bulk.models import BulkBatch, BulkRow
from portal.documents.models import Document, Party
from portal.errors import DomainError
from portal.extensions import db
from portal.jobs import DEFAULT_QUEUES, QuickStopWorker
from portal.models_base import utcnow
from portal.sweep.run import run_sweep
from tests.documents.support import make_template, signet_company
from tests.factories import make_user

HEADER = "Name,Email,Phone,Amount,Place\n"
ROWS = ("Maria Silva,maria@example.com,,1500,Lisboa\n"
        "Ivan Petrov,ivan@example.com,,2500.50,Moscow\n")
INVALID = "Bad Row,not-an-email,,100,Porto\n"


def _start(actor_id: int, text: str, filename="clients.csv"):
    company, template = signet_company(), make_template()
    return services.start_batch(db.session.get(User, actor_id), template.id, company.id,
                                text.encode("utf-8"), filename)


def _actor(actor_id: int) -> User:
    return db.session.get(User, actor_id)


def _rows(batch_id: int) -> dict[int, BulkRow]:
    rows = db.session.scalars(select(BulkRow).where(BulkRow.batch_id == batch_id)).all()
    return {row.row_number: row for row in rows}


def _documents() -> list[Document]:
    return list(db.session.scalars(select(Document).order_by(Document.id)))


def _client(document: Document) -> Party:
    return document.parties_with_role("client")[0]


def test_valid_rows_are_sent_once_confirmed_and_invalid_ones_only_when_skipped(app, admin):
    with app.app_context():
        batch = _start(admin["id"], HEADER + ROWS + INVALID)
        assert (batch.status, batch.row_count, batch.invalid_count) == ("validated", 3, 1)
        assert _documents() == []  # nothing is created before the confirmation
        with pytest.raises(services.BulkRefused):
            services.confirm(_actor(admin["id"]), batch.id, skip_invalid=False)
        assert db.session.get(BulkBatch, batch.id).status == "validated"

        confirmed = services.confirm(_actor(admin["id"]), batch.id, skip_invalid=True)
        assert confirmed.status == "done"  # in-process jobs ran to the end
        progress = services.batch_progress(batch.id)
        assert (progress["sent"], progress["skipped"], progress["total"]) == (2, 1, 3)
        sent = {_client(document).email: document for document in _documents()}
        assert set(sent) == {"maria@example.com", "ivan@example.com"}
        assert all(document.stage != "draft" and document.sent_at for document in sent.values())
        assert _client(sent["ivan@example.com"]).name == "Ivan Petrov"
        assert sent["ivan@example.com"].variables["items"][0]["price"] == "2500.50"
        assert sent["maria@example.com"].variables["place"] == "Lisboa"
        assert _rows(batch.id)[4].errors and _rows(batch.id)[4].document_id is None

        with pytest.raises(DomainError) as twice:  # a double click
            services.confirm(_actor(admin["id"]), batch.id, skip_invalid=True)
        assert twice.value.status == 409 and "already" in twice.value.message
        assert len(_documents()) == 2


def test_a_row_that_cannot_be_sent_fails_with_its_message_and_only_it_is_retried(app, admin):
    with app.app_context():
        batch = _start(admin["id"], HEADER + ROWS)
        # Ivan is to be reached by SMS, and has no phone: his document cannot be sent.
        ivan = _rows(batch.id)[3]
        ivan.values = {**ivan.values, "channel": "sms"}
        db.session.commit()
        services.confirm(_actor(admin["id"]), batch.id, skip_invalid=False)
        rows = _rows(batch.id)
        assert (rows[2].status, rows[3].status) == ("sent", "failed")
        assert "Ivan Petrov" in rows[3].last_error and "SMS" in rows[3].last_error
        failed_document_id = rows[3].document_id
        assert db.session.get(Document, failed_document_id).stage == "draft"
        maria_document_id, maria_attempts = rows[2].document_id, rows[2].attempts

        db.session.execute(update(Party).where(
            Party.document_id == failed_document_id, Party.role == "client")
            .values(phone="+351912345678"))
        db.session.commit()
        assert services.retry_failed(_actor(admin["id"]), batch.id) == 1
        rows = _rows(batch.id)
        assert (rows[3].status, rows[3].last_error, rows[3].document_id) == (
            "sent", "", failed_document_id)  # the same document, sent this time
        assert (rows[2].document_id, rows[2].attempts) == (maria_document_id, maria_attempts)
        assert len(_documents()) == 2
        assert db.session.get(BulkBatch, batch.id).status == "done"


def test_a_row_held_by_a_dead_worker_is_done_exactly_once_after_its_lease(app, admin):
    with app.app_context():
        batch = _start(admin["id"], HEADER + ROWS)
        _as_running(batch.id, held_row=2, held_since=utcnow() - timedelta(hours=1))

        assert run_sweep()["bulk_batches"] == 1
        rows = _rows(batch.id)
        assert {row.status for row in rows.values()} == {"sent"}
        assert rows[2].attempts == 2
        per_client = db.session.execute(
            select(Party.email, func.count()).where(Party.role == "client")
            .group_by(Party.email)).all()
        assert sorted(per_client) == [("ivan@example.com", 1), ("maria@example.com", 1)]
        assert db.session.get(BulkBatch, batch.id).status == "done"
        assert run_sweep()["bulk_batches"] == 0
        assert run_row(rows[2].id) is None  # a row that was done is never done again
        assert len(_documents()) == 2


def test_a_row_another_worker_holds_is_left_to_it_and_the_batch_waits(app, admin):
    with app.app_context():
        batch = _start(admin["id"], HEADER + ROWS)
        _as_running(batch.id, held_row=2, held_since=utcnow())
        run_batch(batch.id)
        rows = _rows(batch.id)
        assert (rows[2].status, rows[2].document_id, rows[3].status) == ("working", None, "sent")
        assert db.session.get(BulkBatch, batch.id).status == "running"
        assert len(_documents()) == 1


def test_a_row_whose_worker_died_after_creating_its_document_sends_that_document(app, admin):
    with app.app_context():
        batch = _start(admin["id"], HEADER + ROWS[:ROWS.index("\n") + 1])
        maria = _rows(batch.id)[2]
        maria.values = {**maria.values, "channel": "sms"}  # fails to send: no phone
        db.session.commit()
        services.confirm(_actor(admin["id"]), batch.id, skip_invalid=False)
        document_id = _rows(batch.id)[2].document_id
        db.session.execute(update(Party).where(Party.document_id == document_id,
                                               Party.role == "client")
                           .values(phone="+351912345678"))
        db.session.commit()
        _as_running(batch.id, held_row=2, held_since=utcnow() - timedelta(hours=1))
        assert run_sweep()["bulk_batches"] == 1
        row = _rows(batch.id)[2]
        assert (row.status, row.document_id) == ("sent", document_id)
        assert [document.id for document in _documents()] == [document_id]


def _as_running(batch_id: int, held_row: int, held_since) -> None:
    """As if confirmed and run until a worker took `held_row` at `held_since` (and, if long
    ago, died), and its job was lost."""
    long_ago = utcnow() - timedelta(hours=1)
    db.session.execute(update(BulkBatch).where(BulkBatch.id == batch_id).values(
        status="running", confirmed_at=long_ago, progressed_at=long_ago))
    db.session.execute(update(BulkRow).where(
        BulkRow.batch_id == batch_id, BulkRow.status.in_(("valid", "failed")))
        .values(status="pending"))
    db.session.execute(update(BulkRow).where(
        BulkRow.batch_id == batch_id, BulkRow.row_number == held_row)
        .values(status="working", attempts=1, started_at=held_since))
    db.session.commit()


def test_a_cancelled_batch_sends_nothing_and_cannot_be_confirmed(app, admin):
    with app.app_context():
        batch = _start(admin["id"], HEADER + ROWS)
        assert services.cancel(_actor(admin["id"]), batch.id).status == "cancelled"
        assert services.batch_progress(batch.id)["skipped"] == 2
        with pytest.raises(DomainError) as refused:
            services.confirm(_actor(admin["id"]), batch.id, skip_invalid=False)
        assert refused.value.status == 409 and _documents() == []


def test_the_results_csv_neutralises_formulas(app, admin):
    with app.app_context():
        batch = _start(admin["id"], HEADER + "=HYPERLINK(\"x\"),maria@example.com,,1500,"
                                             "@SUM(A1)\n")
        rows = list(csv.reader(io.StringIO(services.results_csv(batch))))
        assert rows[0][:3] == ["row", "status", "name"]
        assert rows[1][2] == "'=HYPERLINK(\"x\")"
        workbook = openpyxl.load_workbook(io.BytesIO(services.results_xlsx(batch)))
        cells = [[cell.value for cell in line] for line in workbook.active.iter_rows()]
        assert [[str(value or "") for value in line] for line in cells] == rows
        assert all(cell.data_type == "s" for line in workbook.active.iter_rows()
                   for cell in line if cell.value is not None)
    assert [services.neutralised(cell) for cell in ("+1", "-1", "@a", "plain", 7)] == [
        "'+1", "'-1", "'@a", "plain", "7"]


def test_a_mapping_chosen_for_a_template_is_offered_for_its_next_upload(app, admin):
    with app.app_context():
        company, template = signet_company(), make_template()
        text = "Who,Where to write,Money,Town\nMaria Silva,maria@example.com,1500,Lisboa\n"
        actor = _actor(admin["id"])
        first = services.start_batch(actor, template.id, company.id, text.encode(), "a.csv")
        assert "email" not in first.mapping and first.invalid_count == 1
        mapping = {"name": 0, "email": 1, "amount": 2, "place": 3}
        remapped = services.remap(_actor(admin["id"]), first.id, mapping)
        assert remapped.mapping == mapping and remapped.invalid_count == 0

        second = services.start_batch(_actor(admin["id"]), template.id, company.id,
                                      text.encode(), "b.csv")
        assert second.mapping == mapping and second.invalid_count == 0
        with pytest.raises(services.BulkRefused):
            services.remap(_actor(admin["id"]), second.id, {"name": 0, "email": 0})


def test_only_a_user_who_may_create_and_send_documents_may_send_in_bulk(app):
    with app.app_context():
        reader = make_user(email="reader@example.com", name="Reader")
        reader.roles = [Role(name="Reader", grants=[
            RoleGrant(section="documents", action="view", scope="all")])]
        db.session.commit()
        with pytest.raises(DomainError) as refused:
            _start(reader.id, HEADER + ROWS)
        assert refused.value.status == 403
        assert db.session.scalar(select(func.count(BulkBatch.id))) == 0


def test_an_employee_reaches_their_own_batches_only(app, admin):
    with app.app_context():
        batch = _start(admin["id"], HEADER + ROWS)
        employee = make_user(email="emp@example.com", name="Emil Employee")
        with pytest.raises(DomainError) as refused:
            services.confirm(employee, batch.id, skip_invalid=False)
        assert refused.value.status == 404
        assert services.batch_for(_actor(admin["id"]), batch.id).status == "validated"


def test_through_rq_a_batch_whose_job_redis_lost_is_finished_by_the_sweep(
        make_app, redis_url, redis_client, smtp_server):
    app = make_app(REDIS_URL=redis_url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True)
        batch_id = _start(boss.id, HEADER + ROWS).id
        services.confirm(_actor(boss.id), batch_id, skip_invalid=False)
        assert db.session.get(BulkBatch, batch_id).status == "confirmed"
        assert _documents() == []  # queued on RQ, not run in the request
        redis_client.flushdb()  # Redis restarted empty: the run's job is gone
        assert run_sweep(utcnow() + timedelta(minutes=5))["bulk_batches"] == 1
    with app.app_context():
        queues = [rq.Queue(name, connection=redis_client) for name in DEFAULT_QUEUES]
        QuickStopWorker(queues, connection=redis_client).work(burst=True)
    with app.app_context():
        assert db.session.get(BulkBatch, batch_id).status == "done"
        assert services.batch_progress(batch_id)["sent"] == 2
        assert len(_documents()) == 2
