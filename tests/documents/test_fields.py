"""Fields on the pages: replace-all and incremental saves, each checked by the server."""

import pytest

from portal.audit.service import events_for
from portal.documents import services
from portal.documents.errors import DocumentRefused
from portal.extensions import db
from tests.documents.support import META, ready_draft, signature_for, upload_draft, user


def fields_of(document):
    db.session.expire_all()
    return [services.field_values(field) for field in document.fields]


def test_set_fields_replaces_everything_and_records_one_event(app, admin):
    with app.app_context():
        document = upload_draft(admin["id"], fixture="three-pages.pdf")
        company, client = document.parties
        document = services.set_fields(user(admin["id"]), META, document.id, [
            signature_for(company, page=3),
            signature_for(client, page=3, x=0.6, label="Client", required=True),
            {"party_id": None, "type": "date", "page": 1, "x": 0.7, "y": 0.05, "w": 0.2,
             "h": 0.03},
        ])
        assert sorted((f.page, f.type) for f in document.fields) == [
            (1, "date"), (3, "signature"), (3, "signature")]
        event = events_for(document.id)[-1]
        assert (event.type, event.details["count"], event.details["op"]) == (
            "document.fields_set", 3, "replace")


@pytest.mark.parametrize("change, key", [
    ({"x": 0.9}, "position"),             # 0.9 + 0.25 runs off the right edge
    ({"y": -0.1}, "position"),
    ({"page": 2}, "page"),                # a one-page document
    ({"w": 0.001}, "size"),
    ({"type": "scribble"}, "type"),
    ({"party_id": 9999}, "party_id"),
    ({"label": "x" * 201}, "label"),
    ({"x": "NaN"}, "position"),
    ({"x": 10 ** 400}, "position"),       # too big for a float: refused, not a crash
    ({"page": float("inf")}, "page"),
    ({"party_id": float("inf")}, "party_id"),
    ({"label": ["Position"]}, "label"),
    ({"required": "false"}, "required"),  # would read as true
])
def test_a_bad_field_is_refused_and_nothing_changes(app, admin, change, key):
    with app.app_context():
        document = ready_draft(admin["id"])
        before = fields_of(document)
        company = document.parties[0]
        with pytest.raises(DocumentRefused) as refused:
            services.set_fields(user(admin["id"]), META, document.id,
                                [{**signature_for(company), **change}])
        assert f"0.{key}" in refused.value.errors
        assert fields_of(document) == before


def test_a_stamp_for_a_person_is_refused(app, admin):
    with app.app_context():
        document = upload_draft(admin["id"])  # Maria Silva, a person
        client = document.parties_with_role("client")[0]
        with pytest.raises(DocumentRefused) as refused:
            services.add_field(user(admin["id"]), META, document.id,
                               {**signature_for(client), "type": "stamp"})
        assert "cannot be asked for a stamp" in refused.value.errors["type"]
        company = document.parties_with_role("company")[0]
        field = services.add_field(user(admin["id"]), META, document.id,
                                   {**signature_for(company), "type": "stamp"})
        assert field.type == "stamp"


def test_a_signer_field_needs_a_party_but_a_date_may_be_common(app, admin):
    with app.app_context():
        document = upload_draft(admin["id"])
        with pytest.raises(DocumentRefused) as refused:
            services.add_field(user(admin["id"]), META, document.id, {
                "type": "signature", "page": 1, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.05})
        assert "party_id" in refused.value.errors
        field = services.add_field(user(admin["id"]), META, document.id, {
            "type": "number", "page": 1, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.05})
        assert field.party_id is None


def test_moving_a_field_off_the_page_is_refused_and_it_stays(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        field = document.fields[0]
        where = (field.x, field.y)
        with pytest.raises(DocumentRefused) as refused:
            services.update_field(user(admin["id"]), META, document.id, field.id,
                                  {"x": 0.95, "y": 0.5})
        assert "inside the page" in refused.value.message
        assert refused.value.field["x"] == where[0]  # the editor snaps back to this
        db.session.expire_all()
        assert (field.x, field.y) == where


def test_incremental_saves_add_move_and_delete_with_one_event_each(app, admin):
    with app.app_context():
        document = ready_draft(admin["id"])
        count = len(events_for(document.id))
        field = services.add_field(user(admin["id"]), META, document.id,
                                   signature_for(document.parties[1], x=0.3, y=0.3))
        moved = services.update_field(user(admin["id"]), META, document.id, field.id,
                                      {"x": 0.5, "y": 0.25, "w": 0.3, "label": "Sign here"})
        assert (moved.x, moved.y, moved.w, moved.label) == (0.5, 0.25, 0.3, "Sign here")
        services.update_field(user(admin["id"]), META, document.id, field.id, {"x": 0.5})
        services.delete_field(user(admin["id"]), META, document.id, field.id)
        events = events_for(document.id)[count:]
        # Saving the same position again records nothing.
        assert [e.details["op"] for e in events] == ["add", "update", "delete"]
        assert events[1].details["changed"] == ["label", "w", "x", "y"]
        assert len(fields_of(document)) == 2


def test_a_field_of_another_document_cannot_be_touched(app, admin):
    with app.app_context():
        first, second = ready_draft(admin["id"]), ready_draft(admin["id"])
        foreign = second.fields[0]
        with pytest.raises(Exception) as refused:
            services.update_field(user(admin["id"]), META, first.id, foreign.id, {"x": 0.2})
        assert getattr(refused.value, "status", None) == 404
