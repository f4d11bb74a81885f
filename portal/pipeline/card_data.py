"""The documents behind the board's cards and the list's rows, read as plain records.

A board shows about 140 cards. Loading them as model instances (every column, each
document's parties with their JSON and timestamps, the identity map) took half of the
board's time; the cards show a dozen values. Two plain reads fetch just those: the
documents with their responsible's and counterparty's names, then their parties. The
records carry the models' attribute names and rules (DocumentTraits, PartyTraits), so the
card helpers (cards.py) and templates read them as they read the models. They are for
reading only.
"""

import functools

from sqlalchemy import Integer, any_, bindparam, inspect, select
from sqlalchemy.dialects.postgresql import ARRAY

from portal.auth.models import User
from portal.documents.models import Document, DocumentTraits, Party, PartyTraits
from portal.extensions import db
from portal.models_base import Record
from portal.parties.models import Counterparty

# What a card or a row shows, and what the board and the list order and page by.
DOCUMENT_COLUMNS = ("id", "number", "title", "stage", "stage_changed_at", "created_at",
                    "updated_at", "deadline_at", "company_id", "responsible_id",
                    "counterparty_id")
PARTY_COLUMNS = ("id", "document_id", "order", "role", "status", "token_hash", "name",
                 "organization")


class Named(Record):
    """The responsible or the counterparty: a card shows only the name."""


class CardParty(PartyTraits, Record):
    pass


class CardDocument(DocumentTraits, Record):
    responsible: Named | None
    counterparty: Named | None
    parties: list[CardParty]


@functools.cache
def _statements():
    documents = Document.__table__
    responsible = User.__table__.alias("responsible")
    counterparty = Counterparty.__table__.alias("counterparty")
    read_documents = (
        select(*(documents.c[name] for name in DOCUMENT_COLUMNS),
               responsible.c.name.label("responsible_name"),
               counterparty.c.name.label("counterparty_name"))
        .select_from(documents
                     .outerjoin(responsible, documents.c.responsible_id == responsible.c.id)
                     .outerjoin(counterparty, documents.c.counterparty_id == counterparty.c.id)))
    parties = Party.__table__
    read_parties = (select(*(parties.c[name] for name in PARTY_COLUMNS))
                    .order_by(*inspect(Document).relationships["parties"].order_by))
    return read_documents, read_parties


def read_cards(ids) -> list[CardDocument]:
    """The documents with these ids as card records, in the order of `ids` (missing ones left
    out)."""
    ids = list(ids)
    if not ids:
        return []
    read_documents, read_parties = _statements()
    connection = db.session.connection()
    by_id = {}
    for row in connection.execute(
            read_documents.where(_one_of(connection, Document.__table__.c.id, ids))):
        values = row._asdict()
        responsible_name = values.pop("responsible_name")
        counterparty_name = values.pop("counterparty_name")
        card = CardDocument(values)
        card.responsible = (Named({"id": card.responsible_id, "name": responsible_name})
                            if card.responsible_id is not None else None)
        card.counterparty = (Named({"id": card.counterparty_id, "name": counterparty_name})
                             if card.counterparty_id is not None else None)
        card.parties = []
        by_id[card.id] = card
    for row in connection.execute(
            read_parties.where(_one_of(connection, Party.__table__.c.document_id, list(by_id)))):
        party = CardParty(row._asdict())
        party.document = by_id[party.document_id]
        party.document.parties.append(party)
    return [by_id[document_id] for document_id in ids if document_id in by_id]


def _one_of(connection, column, ids: list[int]):
    """`column IN ids`. PostgreSQL gets the ids as one array, so the statement's text stays the
    same whatever their number and the driver prepares it once (planning it cost more than
    running it); SQLite takes the list."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
    return column.in_(ids)
