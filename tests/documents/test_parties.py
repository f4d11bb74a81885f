"""Setting a draft's parties: roles, order, reachability, stamps, and what happens to fields."""

import pytest

from portal.documents import services
from portal.documents.errors import DocumentRefused
from portal.documents.models import Field, Party
from portal.extensions import db
from tests.documents.support import (
    META,
    event_types,
    party_dicts,
    ready_draft,
    upload_draft,
    user,
)
from tests.factories import make_counterparty


def test_parties_are_replaced_in_signing_order_and_audited(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        company, client = party_dicts(document)
        approver = {"role": "approver", "name": "Boris Approver", "email": "BORIS@example.com"}
        copy = {"role": "cc", "name": "Accounting", "email": "books@example.com"}
        document = services.set_parties(user(admin["id"]), META, document.id,
                                        [copy, client, approver, company])
        assert [(p.role, p.order) for p in document.parties] == [
            ("approver", 1), ("company", 2), ("client", 3), ("cc", 4)]
        assert document.parties[0].email == "boris@example.com"
        # The signers kept their identity, so their fields stayed.
        assert {f.party_id for f in document.fields} == {company["id"], client["id"]}
        assert event_types(document.id)[-1] == "document.parties_set"


def test_a_removed_party_takes_its_fields_along(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        company, client = party_dicts(document)
        second = {"role": "client", "name": "Second Client", "email": "two@example.com"}
        document = services.set_parties(user(admin["id"]), META, document.id,
                                         [company, client, second])
        second_id = document.parties[-1].id
        services.add_field(user(admin["id"]), META, document.id, {
            "party_id": second_id, "type": "signature", "page": 1, "x": 0.5, "y": 0.5,
            "w": 0.2, "h": 0.05})
        document = services.set_parties(user(admin["id"]), META, document.id, [company, client])
        assert db.session.get(Party, second_id) is None
        assert db.session.execute(
            db.select(Field).where(Field.party_id == second_id)).first() is None
        assert len(document.fields) == 2


@pytest.mark.parametrize("change, key, words", [
    ({"email": "", "channel": "email"}, "1.email", "email address"),
    ({"phone": "", "channel": "sms"}, "1.phone", "phone number"),
    ({"email": "not-an-address"}, "1.email", "valid email"),
    ({"phone": "12", "channel": "sms"}, "1.phone", "phone"),
    ({"name": "  "}, "1.name", "name"),
    ({"stamp_required": True}, "1.stamp_required", "never asked for a stamp"),
    ({"role": "boss"}, "1.role", "role"),
])
def test_a_bad_party_is_refused_and_nothing_changes(app, admin, change, key, words):
    with app.app_context():
        document = upload_draft(admin["id"])  # the client is a person
        before = party_dicts(document)
        company, client = party_dicts(document)
        with pytest.raises(DocumentRefused) as refused:
            services.set_parties(user(admin["id"]), META, document.id,
                                 [company, {**client, **change}])
        assert key in refused.value.errors
        assert words in refused.value.errors[key]
        db.session.expire_all()
        assert party_dicts(document) == before


def test_exactly_one_company_signer_and_at_least_one_client(app, admin):
    with app.app_context():
        document = upload_draft(admin["id"])
        company, client = party_dicts(document)
        for parties in ([client], [company], [company, {**company, "id": None}, client]):
            with pytest.raises(DocumentRefused) as refused:
                services.set_parties(user(admin["id"]), META, document.id, parties)
            assert "parties" in refused.value.errors


def test_a_client_that_becomes_a_person_loses_its_stamp_field(app, admin):
    with app.app_context():
        client = make_counterparty(name="Vektor", kind="company", email="v@example.com",
                                   representative_name="Ivan")
        document = ready_draft(admin["id"], counterparty=client)
        assert "stamp" in {f.type for f in document.fields}
        company, client_values = party_dicts(document)
        person = {**client_values, "kind": "person", "organization": "",
                  "stamp_required": False}
        document = services.set_parties(user(admin["id"]), META, document.id, [company, person])
        assert "stamp" not in {f.type for f in document.fields}
        assert {f.type for f in document.fields} == {"signature"}


def test_update_party_changes_one_value(app, admin):
    with app.app_context():
        document = upload_draft(admin["id"])
        client = document.parties_with_role("client")[0]
        document = services.update_party(user(admin["id"]), META, document.id, client.id,
                                         {"phone": "+351 912 345 678", "channel": "sms"})
        client = document.parties_with_role("client")[0]
        assert (client.phone, client.channel) == ("+351912345678", "sms")
