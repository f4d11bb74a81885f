"""The purge run: PDFs deleted after the company's period, the registry kept, holds obeyed."""

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.service import broken_links, events_for
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.retention import purge
from portal.retention.policy import FILES, MASK
from portal.storage import path_for
from portal.storage.models import Blob
from tests.retention.support import NOW, completed_document, retention_company


def _state(document_id: int) -> dict:
    document = db.session.get(Document, document_id)
    return {"purged": document.files_purged_at, "masked": document.contacts_masked_at,
            "final": document.final_sha256, "source": document.source_sha256,
            "final_on_disk": path_for(document.final_sha256).exists(),
            "source_on_disk": path_for(document.source_sha256).exists(),
            "events": [event.type for event in events_for(document_id)]}


def test_purge_deletes_the_pdfs_but_keeps_the_registry_and_held_documents(app, admin):
    with app.app_context():
        company = retention_company(files_days=30)
        due = completed_document(admin["id"], company, number="ACT-1").id
        held = completed_document(admin["id"], company, number="ACT-2")
        held.legal_hold, held.legal_hold_reason = True, "Court request 12/26"
        db.session.commit()
        held = held.id
        young = completed_document(admin["id"], retention_company(60, name="Patient SA"),
                                   number="ACT-3").id
        before = {document_id: _state(document_id) for document_id in (due, held, young)}

        report = purge.run(NOW)

        assert [(item.number, item.action) for item in report.done] == [("ACT-1", FILES)]
        db.session.expire_all()
        after = _state(due)
        assert after["purged"] is not None
        assert not after["final_on_disk"] and not after["source_on_disk"]
        # The digests are the registry: they stay, and so do the Blob rows they point at.
        assert (after["final"], after["source"]) == (before[due]["final"], before[due]["source"])
        assert db.session.get(Blob, after["final"]) is not None
        assert after["events"][-1] == "document.files_purged"
        purged_event = events_for(due)[-1]
        assert purged_event.details["files"] == ["final", "source"]
        assert purged_event.details["days"] == 30
        assert broken_links(due) == []
        assert _state(held) == before[held]
        assert _state(young) == before[young]

        again = purge.run(NOW)
        assert again.done == [] and again.skipped == []


def test_dry_run_lists_what_would_go_and_changes_nothing(app, admin):
    with app.app_context():
        company = retention_company(files_days=30, mask_days=20)
        document_id = completed_document(admin["id"], company, number="ACT-9").id
        before = _state(document_id)
        contacts = [(p.email, p.phone) for p in db.session.get(Document, document_id).parties]

        report = purge.run(NOW, dry_run=True)

        assert report.dry_run
        assert [(item.number, item.company_name, item.action, item.days)
                for item in report.done] == [("ACT-9", "Keeper LLC", FILES, 30),
                                             ("ACT-9", "Keeper LLC", MASK, 20)]
        db.session.expire_all()
        assert _state(document_id) == before
        assert [(p.email, p.phone)
                for p in db.session.get(Document, document_id).parties] == contacts


def test_bytes_another_document_still_needs_stay_on_disk(app, admin):
    with app.app_context():
        shared = b"%PDF-1.4\n% the same upload, twice\n%%EOF\n"
        old = completed_document(admin["id"], retention_company(30), number="OLD-1",
                                 source=shared).id
        other = completed_document(admin["id"], retention_company(0, name="Forever SA"),
                                   number="NEW-1", source=shared).id

        purge.run(NOW)

        db.session.expire_all()
        assert _state(old)["purged"] is not None and not _state(old)["final_on_disk"]
        assert _state(other)["source_on_disk"] and _state(other)["final_on_disk"]


def test_a_document_claimed_by_another_run_is_not_handled_twice(app, admin):
    with app.app_context():
        document_id = completed_document(admin["id"], retention_company(30), number="ACT-5").id
        item = purge.due(NOW, 10, FILES)[0]

        assert purge.purge_files(item, NOW) == ""
        # The second run read the same list before the first committed: its claim finds the
        # row done and leaves it (no second event, no error).
        assert purge.purge_files(item, NOW) == purge.SKIP_TAKEN
        db.session.expire_all()
        assert _state(document_id)["events"].count("document.files_purged") == 1


def test_masking_replaces_contacts_and_the_chain_still_holds(app, admin):
    with app.app_context():
        company = retention_company(files_days=0, mask_days=30)
        document_id = completed_document(admin["id"], company, number="ACT-7").id

        report = purge.run(NOW)

        assert [(item.number, item.action) for item in report.done] == [("ACT-7", MASK)]
        db.session.expire_all()
        document = db.session.get(Document, document_id)
        assert document.contacts_masked_at is not None and document.files_purged_at is None
        company_signer, client = document.parties
        assert (company_signer.email, client.phone, client.ip, client.user_agent) == \
            ("***", "***", "***", "***")
        assert client.requisites == {"tax_id": "PT123456789", "address": "***"}
        assert client.name == "Maria Silva"  # names stay: they are on the certificate
        events = events_for(document_id)
        opened = next(event for event in events if event.type == "party.opened")
        assert (opened.ip, opened.user_agent) == ("***", "***")
        assert opened.actor_label == "Maria Silva <***>"
        invited = next(event for event in events if event.type == "party.invited")
        assert (invited.details["contact"], invited.details["name"]) == ("***", "Maria Silva")
        assert invited.masked_at is not None
        assert opened.masked_at is not None
        assert events[-1].type == "document.contacts_masked"
        assert broken_links(document_id) == []
        assert path_for(document.final_sha256).exists()  # masking keeps the files

        # Link-only for masked events, full recomputation for the rest: edits still show.
        completed = next(event for event in events if event.type == "document.completed")
        completed.details = {"previous_stage": "approval"}
        db.session.flush()
        assert broken_links(document_id) == [completed.id]
        db.session.rollback()
        opened = db.session.get(AuditEvent, opened.id)
        opened.prev_hash = "0" * 64
        db.session.flush()
        assert opened.id in broken_links(document_id)
        db.session.rollback()


def test_a_broken_chain_is_not_masked(app, admin):
    with app.app_context():
        document_id = completed_document(admin["id"], retention_company(0, 30),
                                         number="ACT-8").id
        first = events_for(document_id)[0]
        first.details = {"forged": True}
        db.session.commit()

        report = purge.run(NOW)

        assert [(item.number, reason) for item, reason in report.skipped] == \
            [("ACT-8", purge.SKIP_CHAIN_BROKEN)]
        db.session.expire_all()
        assert db.session.get(Document, document_id).contacts_masked_at is None
        assert db.session.execute(select(Party.email).where(
            Party.document_id == document_id, Party.role == "company")).scalar_one() \
            == "anna@keeper.example"


def test_the_sweep_queues_the_purge(app, admin):
    from portal.sweep.run import run_sweep

    with app.app_context():
        document_id = completed_document(admin["id"], retention_company(30), number="ACT-4").id

        counts = run_sweep(NOW)

        assert counts["retention"] == 1
        db.session.expire_all()
        assert db.session.get(Document, document_id).files_purged_at is not None
        assert run_sweep(NOW)["retention"] == 0


def test_two_runs_at_once_handle_each_document_once(app, admin):
    import threading

    with app.app_context():
        company = retention_company(files_days=30, mask_days=30)
        ids = [completed_document(admin["id"], company, number=f"ACT-P{n}").id for n in range(4)]
    start, reports, errors = threading.Barrier(2), [], []

    def one_run():
        try:
            with app.app_context():
                start.wait(timeout=10)
                reports.append(purge.run(NOW))
        except Exception as error:  # reported below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    done = sorted((item.number, item.action) for report in reports for item in report.done)
    assert done == sorted((f"ACT-P{n}", action) for n in range(4) for action in (FILES, MASK))
    with app.app_context():
        for document_id in ids:
            kinds = [event.type for event in events_for(document_id)]
            assert kinds.count("document.files_purged") == 1
            assert kinds.count("document.contacts_masked") == 1
            assert broken_links(document_id) == []
