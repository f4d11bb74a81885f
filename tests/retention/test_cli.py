"""`flask signet purge [--dry-run]`."""

from portal.documents.models import Document
from portal.extensions import db
from portal.storage import path_for
from tests.retention.support import completed_document, retention_company


def test_purge_command_lists_then_purges(app, admin):
    with app.app_context():
        document = completed_document(admin["id"], retention_company(30, 20), number="ACT-C")
        document_id, final = document.id, document.final_sha256
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["signet", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        "ACT-C (Keeper LLC): would delete the final and source PDFs; completed on 2026-01-10, "
        "retention 30 days",
        "ACT-C (Keeper LLC): would mask the signers' contacts; completed on 2026-01-10, "
        "retention 20 days",
        "Dry run: 2 action(s) due; nothing was changed.",
    ]
    with app.app_context():
        assert db.session.get(Document, document_id).files_purged_at is None
        assert path_for(final).exists()

    real = runner.invoke(args=["signet", "purge"])
    assert real.exit_code == 0, real.output
    assert "ACT-C (Keeper LLC): PDFs deleted;" in real.output
    assert "ACT-C (Keeper LLC): contacts masked;" in real.output
    assert real.output.splitlines()[-1] == "Done: 2, skipped: 0."
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert document.files_purged_at and document.contacts_masked_at
        assert not path_for(final).exists()
    assert runner.invoke(args=["signet", "purge"]).output.strip() == "Done: 0, skipped: 0."
