"""The board's cards are plain records: they must answer what the models answer."""

from datetime import timedelta

from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from portal.pipeline import cards
from portal.pipeline.card_data import DOCUMENT_COLUMNS, read_cards
from tests.factories import make_counterparty
from tests.pipeline.support import at_client_signing, draft, stopped
from tests.progress.support import sent_document


def _facts(document, now) -> dict:
    """Everything a card or a list row shows of a document."""
    return {
        "columns": {name: getattr(document, name) for name in DOCUMENT_COLUMNS},
        "responsible": document.responsible.name if document.responsible else None,
        "counterparty": cards.counterparty_name(document),
        "waits_for": [(party.id, party.name) for party in cards.current_signers(document)],
        "parties": [party.id for party in document.parties],
        "days": cards.days_in_stage(document, now),
        "stuck": cards.is_stuck(document, now),
        "due": cards.deadline_close(document, now),
    }


def test_card_records_say_what_the_models_say(app, admin):
    with app.app_context():
        ids = [draft(admin["id"]), sent_document(admin["id"]), at_client_signing(admin["id"]),
               stopped(admin["id"])]
        # One with a counterparty from the directory, one near its deadline and long in stage.
        counterparty = make_counterparty(name="ООО Ромашка")
        db.session.execute(db.update(Document).where(Document.id == ids[1]).values(
            counterparty_id=counterparty.id, deadline_at=utcnow() + timedelta(hours=2),
            stage_changed_at=utcnow() - timedelta(days=9)))
        db.session.commit()
        now = utcnow()
        records = read_cards(ids)
        models = [db.session.get(Document, document_id) for document_id in ids]
        assert [record.id for record in records] == ids
        for record, model in zip(records, models, strict=True):
            assert _facts(record, now) == _facts(model, now), model.id
        assert records[1].counterparty.name == "ООО Ромашка"
        assert cards.is_stuck(records[1], now) and cards.deadline_close(records[1], now)
        assert cards.current_signers(records[2])  # the client's turn, named on the card


def test_card_records_keep_the_asked_order_and_skip_unknown_ids(app, admin):
    with app.app_context():
        first, second = draft(admin["id"]), draft(admin["id"])
        assert [record.id for record in read_cards([second, 10**9, first])] == [second, first]
        assert read_cards([]) == []
