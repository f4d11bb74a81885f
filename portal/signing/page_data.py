"""The signing page's party read as plain records, without the ORM.

The page is the one every signer opens, often several times: loading its party, document,
company, parties and fields through the ORM cost about 0.7 ms a request (instances, identity
map, loader strategies), more than rendering the page; two plain reads cost 0.25 ms. The
records carry the models' attribute names and the same rules (the *Traits mixins), so the page's
helpers and templates read them as they read the models. They are for reading only: every
step that writes locks and reloads the real rows (access.lock_party).
"""

import functools

from sqlalchemy import bindparam, inspect, select

from portal.documents.models import Document, DocumentTraits, Field, Party, PartyTraits
from portal.extensions import db
from portal.models_base import Record
from portal.parties.models import Company, CompanyTraits


class CompanyRecord(CompanyTraits, Record):
    pass


class DocumentRecord(DocumentTraits, Record):
    company: CompanyRecord
    parties: list["PartyRecord"]
    fields: list["FieldRecord"]


class PartyRecord(PartyTraits, Record):
    document: DocumentRecord
    fields: list["FieldRecord"]


class FieldRecord(Record):
    document: DocumentRecord
    party: PartyRecord | None


@functools.cache
def _attributes(model) -> list[tuple[str, object]]:
    """(attribute name, column) for every column the model maps."""
    return [(attribute.key, attribute.columns[0]) for attribute in inspect(model).column_attrs]


def _labelled(model, prefix: str) -> list:
    return [column.label(prefix + key) for key, column in _attributes(model)]


@functools.cache
def _keys(model, prefix: str) -> list[tuple[str, str]]:
    return [(key, prefix + key) for key, _column in _attributes(model)]


def _values(row, model, prefix: str = "") -> dict:
    mapping = row._mapping
    return {key: mapping[label] for key, label in _keys(model, prefix)}


@functools.cache
def _statements():
    parties, documents, companies = Party.__table__, Document.__table__, Company.__table__
    fields = Field.__table__
    its_document = (select(parties.c.document_id)
                    .where(parties.c.token_hash == bindparam("token_hash")).scalar_subquery())
    # Every party of the link's document, each row with the document and its company; then
    # the fields. Two reads, each in the order the model's relationship gives.
    relationships = inspect(Document).relationships
    all_parties = (select(*_labelled(Party, ""), *_labelled(Document, "d_"),
                          *_labelled(Company, "c_"))
                   .select_from(parties.join(documents, parties.c.document_id == documents.c.id)
                                .join(companies, documents.c.company_id == companies.c.id))
                   .where(documents.c.id == its_document)
                   .order_by(*relationships["parties"].order_by))
    all_fields = (select(*_labelled(Field, "")).where(fields.c.document_id == its_document)
                  .order_by(*relationships["fields"].order_by))
    return all_parties, all_fields


def read_party(token_hash: str) -> PartyRecord | None:
    """The party whose link hashes to `token_hash`, with its document, the document's company,
    parties and fields; None if no party has that link."""
    all_parties, all_fields = _statements()
    # The session's connection (its transaction) without the session's ORM layer on top.
    connection = db.session.connection()
    rows = connection.execute(all_parties, {"token_hash": token_hash}).all()
    if not rows:
        return None
    document = DocumentRecord(_values(rows[0], Document, "d_"))
    document.company = CompanyRecord(_values(rows[0], Company, "c_"))
    document.parties = [PartyRecord(_values(row, Party)) for row in rows]
    document.fields = [FieldRecord(_values(row, Field))
                       for row in connection.execute(all_fields, {"token_hash": token_hash})]
    by_id = {party.id: party for party in document.parties}
    for party in document.parties:
        party.document = document
        party.fields = [field for field in document.fields if field.party_id == party.id]
    for field in document.fields:
        field.document = document
        field.party = by_id.get(field.party_id)
    return next(party for party in document.parties if party.token_hash == token_hash)
