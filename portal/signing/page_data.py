"""The signing page's party read as plain records, without the ORM.

The page is the one every signer opens, often several times: loading its party, document,
company, parties and fields through the ORM cost about 0.7 ms a request (instances, identity
map, loader strategies), more than rendering the page; three plain reads cost 0.3 ms. The
records carry the models' attribute names and the same rules (the *Traits mixins), so the page's
helpers and templates read them as they read the models. They are for reading only: every
step that writes locks and reloads the real rows (access.lock_party).
"""

import functools

from sqlalchemy import bindparam, inspect, select

from portal.documents.models import Document, DocumentTraits, Field, Party, PartyTraits
from portal.extensions import db
from portal.parties.models import Company, CompanyTraits


class _Record:
    """One row's values as attributes named as the model names them."""

    def __init__(self, values: dict):
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__dict__.get('id')}>"


class CompanyRecord(CompanyTraits, _Record):
    pass


class DocumentRecord(DocumentTraits, _Record):
    company: CompanyRecord
    parties: list["PartyRecord"]
    fields: list["FieldRecord"]


class PartyRecord(PartyTraits, _Record):
    document: DocumentRecord
    fields: list["FieldRecord"]


class FieldRecord(_Record):
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
    own = (select(*_labelled(Party, "p_"), *_labelled(Document, "d_"),
                  *_labelled(Company, "c_"))
           .select_from(parties.join(documents, parties.c.document_id == documents.c.id)
                        .join(companies, documents.c.company_id == companies.c.id))
           .where(parties.c.token_hash == bindparam("token_hash")))
    # In the models' relationship order (Document.parties, Document.fields).
    all_parties = (select(*_labelled(Party, "")).where(parties.c.document_id == bindparam("id"))
                   .order_by(parties.c.order, parties.c.id))
    fields = Field.__table__
    all_fields = (select(*_labelled(Field, "")).where(fields.c.document_id == bindparam("id"))
                  .order_by(fields.c.page, fields.c.y, fields.c.x, fields.c.id))
    return own, all_parties, all_fields


def read_party(token_hash: str) -> PartyRecord | None:
    """The party whose link hashes to `token_hash`, with its document, the document's company,
    parties and fields; None if no party has that link."""
    own, all_parties, all_fields = _statements()
    # The session's connection (its transaction) without the session's ORM layer on top.
    connection = db.session.connection()
    row = connection.execute(own, {"token_hash": token_hash}).first()
    if row is None:
        return None
    party = PartyRecord(_values(row, Party, "p_"))
    document = DocumentRecord(_values(row, Document, "d_"))
    document.company = CompanyRecord(_values(row, Company, "c_"))
    party.document = document
    document.parties = [party if other.id == party.id else PartyRecord(_values(other, Party))
                        for other in connection.execute(all_parties, {"id": document.id})]
    by_id = {other.id: other for other in document.parties}
    document.fields = [FieldRecord(_values(found, Field))
                       for found in connection.execute(all_fields, {"id": document.id})]
    for other in document.parties:
        other.document = document
        other.fields = [field for field in document.fields if field.party_id == other.id]
    for field in document.fields:
        field.document = document
        field.party = by_id.get(field.party_id)
    return party
