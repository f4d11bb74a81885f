"""The signing page reads its party as plain records: they must say what the models say."""

import pytest
from sqlalchemy import inspect

from portal.documents.models import Document, Field, Party
from portal.extensions import db
from portal.parties.models import Company
from portal.signing import page_data
from portal.signing.access import LinkInvalid, find_party, read_page_party
from portal.tokens import hash_token
from tests.signing.support import sent_document


def _columns(model) -> list[str]:
    return [attribute.key for attribute in inspect(model).column_attrs]


def _same(record, row, model) -> None:
    for key in _columns(model):
        assert getattr(record, key) == getattr(row, key), (model.__name__, key)


def test_records_hold_every_column_and_relation_the_models_hold(app, admin):
    with app.app_context():
        signing = sent_document(admin["id"])  # our signer and the client, with their fields
        party = find_party(signing.token)
        record = page_data.read_party(hash_token(signing.token))
        document = party.document
        _same(record, party, Party)
        _same(record.document, document, Document)
        _same(record.document.company, document.company, Company)
        assert [other.id for other in record.document.parties] == [
            other.id for other in document.parties]
        assert [field.id for field in record.document.fields] == [
            field.id for field in document.fields]
        for other_record, other in zip(record.document.parties, document.parties, strict=True):
            _same(other_record, other, Party)
            assert other_record.document is record.document
            assert {field.id for field in other_record.fields} == {
                field.id for field in document.fields if field.party_id == other.id}
        for field_record, field in zip(record.document.fields, document.fields, strict=True):
            _same(field_record, field, Field)
            assert (field_record.party.id if field_record.party else None) == field.party_id
        # One object per party, as the identity map gives: the page compares them.
        assert record in record.document.parties
        # The rules the models answer, the records answer the same way.
        assert (record.signs, record.contact, record.speaks, record.audit_actor) == (
            party.signs, party.contact, party.speaks, party.audit_actor)
        assert record.document.company.display_name == document.company.display_name
        assert record.document.parties_with_role("client")[0].id == \
            document.parties_with_role("client")[0].id


def test_a_page_read_refuses_what_the_models_refuse(app, admin):
    with app.app_context():
        signing = sent_document(admin["id"])
        assert page_data.read_party(hash_token("not-a-real-token")) is None
        with app.test_request_context(f"/s/{signing.token}"):
            assert read_page_party(signing.token).id == signing.party_id
            db.session.execute(db.update(Document).where(Document.id == signing.document_id)
                               .values(stage="draft"))
            # Read once per request: a later read in it gives the same answer unless fresh.
            assert read_page_party(signing.token).id == signing.party_id
            with pytest.raises(LinkInvalid):
                read_page_party(signing.token, fresh=True)
            db.session.rollback()
