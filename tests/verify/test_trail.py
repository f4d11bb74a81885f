"""The audit trail attached to the final PDF, checked offline by /verify, its JSON and the CLI:
it holds and is the register's, it was changed (before or after the seal), or there is none."""

import json

import pytest

from portal.verify.report import build_report
from tests.helpers import text_of
from tests.verify.support import (
    attached_payload,
    completed_document,
    final_with_trail,
    issue_as_final,
    printed_events,
    register_final,
    sealed_by_portal,
    with_event_changed,
    with_trail_replaced,
)

TRAIL_CHANGED = ("The audit trail inside the file was changed: its chain of event hashes does "
                 "not hold.")


@pytest.fixture
def issued(app, admin):
    """A document finalized for real, whose registered final PDF carries its trail."""
    with app.app_context():
        document_id = completed_document(admin["id"])
        pdf = final_with_trail(document_id)
        issue_as_final(document_id, pdf)
        head = printed_events(document_id)[-1].hash
    return {"id": document_id, "pdf": pdf, "head": head}


def report_on(app, pdf: bytes, code: str | None = None):
    with app.app_context():
        return build_report(pdf, code=code)


def test_an_issued_file_has_a_trail_that_holds_and_is_the_registers(app, issued):
    report = report_on(app, issued["pdf"])

    assert report.verdict == "authentic"
    trail = report.trail
    assert trail.status == "holds" and not trail.failed and trail.problem == ""
    assert trail.head == issued["head"] == report.registry.certificate_chain_head
    assert trail.head_matches is True and trail.document_matches is True
    assert trail.compared_with == report.registry.number
    assert trail.document_id == issued["id"]
    assert trail.verification_code == report.registry.verification_code
    assert trail.events == len(json.loads(attached_payload(issued["pdf"]))["events"]) > 3


def test_a_trail_edited_inside_a_sealed_file_makes_it_modified(app, issued):
    """One event's details changed in the attached JSON: the seal breaks, and the trail too."""
    tampered = with_trail_replaced(issued["pdf"],
                                   with_event_changed(attached_payload(issued["pdf"])))

    report = report_on(app, tampered)

    assert report.verdict == "modified"
    assert report.registry is None
    assert report.trail.status == "changed" and report.trail.first_broken == 1
    assert report.trail.problem == TRAIL_CHANGED
    assert not report.seal.intact


def test_a_validly_sealed_file_with_a_changed_trail_is_modified_even_if_registered(app, admin):
    """The trail was edited before the seal: the seal holds, the file is the registered one,
    yet its own evidence does not."""
    with app.app_context():
        document_id = completed_document(admin["id"])
        pdf = final_with_trail(document_id, edit_trail=with_event_changed)
        issue_as_final(document_id, pdf)

    report = report_on(app, pdf)

    assert report.seal.intact and report.seal.valid and report.seal.trusted
    assert report.registry is not None  # these are the registered bytes...
    assert report.verdict == "modified"  # ...but the trail inside them does not hold
    assert report.trail.status == "changed" and report.trail.problem == TRAIL_CHANGED
    assert report.changes == ()  # nothing was changed after the seal


def test_a_recomputed_trail_that_is_not_the_registers_is_caught_by_its_head(app, admin):
    """A forger who recomputes every hash gets a chain that holds, with another head."""
    with app.app_context():
        document_id = completed_document(admin["id"])
        pdf = final_with_trail(document_id, edit_trail=_recomputed_without_last_event)
        issue_as_final(document_id, pdf)

    report = report_on(app, pdf)

    assert report.verdict == "modified"
    assert report.trail.status == "other"
    assert report.trail.head_matches is False and report.trail.document_matches is True
    assert report.registry.number in report.trail.problem


def _recomputed_without_last_event(payload: bytes) -> bytes:
    trail = json.loads(payload)
    trail["events"].pop()
    trail["chain_head"] = trail["events"][-1]["hash"]
    return json.dumps(trail).encode()


def test_a_changed_copy_is_compared_with_the_document_its_code_names(app, issued):
    """Not the registered bytes, but the typed code names the document: its trail still is
    the register's, so only the rest of the file changed."""
    copy = with_trail_replaced(issued["pdf"], attached_payload(issued["pdf"]))
    with app.app_context():
        code = build_report(issued["pdf"]).registry.verification_code

    report = report_on(app, copy, code=code)

    assert report.verdict == "modified" and report.registry is None
    assert report.trail.status == "holds"
    assert report.trail.head_matches is True and report.trail.compared_with


def test_an_unregistered_file_only_says_whether_its_chain_holds(app, issued):
    copy = with_trail_replaced(issued["pdf"], attached_payload(issued["pdf"]))

    report = report_on(app, copy)

    assert report.trail.status == "holds" and report.trail.head == issued["head"]
    assert report.trail.compared_with == "" and report.trail.head_matches is None


def test_a_file_sealed_before_trails_existed_is_not_blamed(app, client, admin, tmp_path):
    with app.app_context():
        pdf = sealed_by_portal()
        register_final(admin["id"], pdf)

    report = report_on(app, pdf)
    assert report.verdict == "authentic"
    assert report.trail.status == "none" and not report.trail.failed

    page = text_of(client.post("/verify", data={"file": (_stream(pdf), "old.pdf")}))
    assert 'data-verdict="authentic"' in page and 'data-trail="none"' in page
    assert "documents sealed before the portal attached one to the final PDF have none" in page
    path = tmp_path / "old.pdf"
    path.write_bytes(pdf)
    printed = app.test_cli_runner().invoke(args=["signet", "verify", str(path)])
    assert printed.exit_code == 0
    assert "Audit trail: none inside (documents sealed before final PDFs carried one)" \
        in printed.output


def test_the_page_shows_the_trail(client, issued):
    good = text_of(client.post("/verify", data={"file": (_stream(issued["pdf"]), "a.pdf")}))
    assert 'data-trail="holds"' in good and issued["head"] in good
    assert "its head is the one printed on the signing certificate" in good

    tampered = with_trail_replaced(issued["pdf"],
                                   with_event_changed(attached_payload(issued["pdf"])))
    bad = text_of(client.post("/verify", data={"file": (_stream(tampered), "b.pdf")}))
    assert 'data-verdict="modified"' in bad and 'data-trail="changed"' in bad
    assert "The audit trail inside the file was changed" in bad
    assert "The first event that does not hold is event 2 of" in bad


def test_the_page_speaks_russian_and_portuguese(client, issued):
    for language, words in (("ru", "Журнал событий внутри файла"),
                            ("pt", "Registo de auditoria dentro do ficheiro")):
        page = text_of(client.post("/verify", data={"file": (_stream(issued["pdf"]), "a.pdf")},
                                   headers={"Accept-Language": language}))
        assert words in page, language


def test_the_json_answer_carries_the_trail(client, issued):
    response = client.post("/verify", data={"file": (_stream(issued["pdf"]), "a.pdf")},
                           headers={"Accept": "application/json"})

    trail = response.get_json()["trail"]
    assert trail["status"] == "holds" and trail["head"] == issued["head"]
    assert trail["head_matches"] is True and trail["document_matches"] is True
    assert trail["document_id"] == issued["id"] and trail["problem"] == ""


def test_the_cli_prints_the_trail(app, issued, tmp_path):
    good, tampered = tmp_path / "good.pdf", tmp_path / "tampered.pdf"
    good.write_bytes(issued["pdf"])
    tampered.write_bytes(with_trail_replaced(
        issued["pdf"], with_event_changed(attached_payload(issued["pdf"]))))

    runner = app.test_cli_runner()
    held = runner.invoke(args=["signet", "verify", str(good)])
    broken = runner.invoke(args=["signet", "verify", str(tampered)])

    assert held.exit_code == 0, held.output
    assert "Audit trail: holds," in held.output and issued["head"] in held.output
    assert "the head printed on the certificate of document" in held.output
    assert broken.exit_code == 1
    assert "Audit trail: changed: the chain of" in broken.output
    assert "does not hold from event 2" in broken.output


def _stream(data: bytes):
    import io

    return io.BytesIO(data)


def test_the_final_pdf_as_finalizing_stored_it_carries_a_trail_and_nothing_active(app, admin):
    """The trail is the one attachment of a final PDF: /verify does not count it as active
    content, and it holds; an extra attachment is still reported."""
    from portal.documents.models import Document
    from portal.extensions import db
    from portal.storage import read

    with app.app_context():
        document_id = completed_document(admin["id"])
        final = read(db.session.get(Document, document_id).final_sha256)
    report = report_on(app, final)
    assert report.verdict == "authentic"
    assert report.trail.status == "holds" and report.trail.head_matches is True
    assert not report.active_content
    extra = _with_another_attachment(final)
    kinds = {record["kind"] for record in report_on(app, extra).active_content}
    assert "embedded_files" in kinds


def _with_another_attachment(pdf: bytes) -> bytes:
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(document, b"MZ")
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()
