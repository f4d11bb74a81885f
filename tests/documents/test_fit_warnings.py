"""A value that would not fit its box: the editor shows it, sending waits, a signer is told."""

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from portal.documents import services
from portal.documents.models import Document, Field
from portal.extensions import db
from portal.signing.access import StepRefused
from portal.signing.filling import FieldInput, apply_input
from tests.documents.support import META, signature_for, upload_draft, user
from tests.factories import make_counterparty
from tests.helpers import browser_log_in, csrf_token, post_form, text_of

CLIENT = dict(
    kind="company", name="ООО «Северо-Западная торговая компания «Вектор-Инвест»»",
    email="dogovor@vektor.example", representative_name="Константинопольский Александр",
    representative_position="Заместитель генерального директора", tax_id="7812345678",
    kpp="781201001", registration_number="1157847000001",
    address="197374, г. Санкт-Петербург, Приморский пр-т, д. 54, корп. 1, офис 405",
    bank_name="ПАО «Банк «Санкт-Петербург»", bank_account="40702810555000001234",
    correspondent_account="30101810900000000790", bank_code="044030790")
ONE_LINE = {"x": 0.5, "y": 0.8, "w": 0.4, "h": 0.025}  # the old act's box: one line high


def _draft_with_a_short_requisites_box(user_id: int) -> tuple[int, int]:
    """A draft for a client with long requisites in a one-line box; (document, field) ids."""
    document = upload_draft(user_id, counterparty=make_counterparty(**CLIENT))
    company, client = (document.parties_with_role(role)[0] for role in ("company", "client"))
    fields = [signature_for(company, x=0.1), signature_for(client, x=0.6, y=0.7),
              {"party_id": client.id, "type": "stamp", "page": 1, "x": 0.6, "y": 0.55,
               "w": 0.18, "h": 0.12},
              {"party_id": client.id, "type": "requisites", "page": 1, **ONE_LINE}]
    document = services.set_fields(user(user_id), META, document.id, fields)
    return document.id, next(f.id for f in document.fields if f.type == "requisites")


@pytest.fixture
def short_box(app, employee):
    with app.app_context():
        return _draft_with_a_short_requisites_box(employee["id"])


def test_the_editor_data_the_send_panel_and_the_send_name_the_overflow(app, employee_client,
                                                                        short_box):
    document_id, field_id = short_box
    data = employee_client.get(f"/documents/{document_id}/fields.json").get_json()
    overflow = next(f for f in data["fields"] if f["id"] == field_id)["overflow"]
    assert "does not fit its box" in overflow["message"] and overflow["height"] > 0.025
    assert all(f["overflow"] is None for f in data["fields"] if f["id"] != field_id)
    page = text_of(employee_client.get(f"/documents/{document_id}"))
    assert "does not fit its box" in page and "mm tall" in page
    refused = post_form(employee_client, f"/documents/{document_id}/send",
                        headers={"HX-Request": "true"})
    assert "does not fit its box" in text_of(refused)
    with app.app_context():
        assert db.session.get(Document, document_id).stage == "draft"

    # Made as tall as the message says, the box holds the requisites and the draft goes out.
    headers = {"X-CSRFToken": csrf_token(employee_client)}
    taller = employee_client.patch(f"/documents/{document_id}/fields/{field_id}",
                                   headers=headers, json={"y": 0.75, "h": overflow["height"]})
    assert taller.status_code == 200 and taller.get_json()["field"]["overflow"] is None
    post_form(employee_client, f"/documents/{document_id}/send")
    with app.app_context():
        assert db.session.get(Document, document_id).stage != "draft"


def test_a_signer_is_told_when_a_typed_value_is_too_long_for_its_box(app, employee):
    with app.app_context():
        document = upload_draft(employee["id"])
        client = document.parties_with_role("client")[0]
        document = services.set_fields(user(employee["id"]), META, document.id, [
            signature_for(client),
            {"party_id": client.id, "type": "text", "page": 1, "x": 0.1, "y": 0.1,
             "w": 0.15, "h": 0.02, "label": "Position"}])
        field = next(f for f in document.fields if f.type == "text")
        moment = datetime(2026, 12, 3)
        apply_input(field, client, FieldInput(value="Director"), moment)
        assert field.value == "Director"
        with pytest.raises(StepRefused) as refused:
            apply_input(field, client, FieldInput(value="Deputy director " * 12), moment)
        assert "Too long for its box" in refused.value.message
        db.session.rollback()
        assert db.session.get(Field, field.id).value == ""


@pytest.mark.browser
def test_the_editor_marks_the_box_and_the_panel_says_why(app, desktop, employee, short_box):
    document_id, field_id = short_box
    browser_log_in(desktop, employee["email"], employee["password"])
    desktop.goto(f"/documents/{document_id}/fields")
    box = desktop.locator(f".placement-field[data-field-id='{field_id}']")
    expect(box).to_have_class(re.compile(r"\bis-overflowing\b"))
    expect(box.locator(".placement-field-warning")).to_be_visible()
    expect(box.locator(".placement-field-warning")).to_contain_text("Does not fit")
    box.focus()
    box.press("Enter")
    expect(desktop.locator("#panel-overflow")).to_be_visible()
    expect(desktop.locator("#panel-overflow")).to_contain_text("mm tall")
    desktop.locator("#panel-close").click()

    # Drag its corner down: once the box is tall enough the warning goes.
    handle = box.locator(".placement-handle").bounding_box()
    layer = desktop.locator(".placement-layer[data-page='1']").bounding_box()
    desktop.mouse.move(handle["x"] + 3, handle["y"] + 3)
    desktop.mouse.down()
    desktop.mouse.move(handle["x"] + 3, handle["y"] + 3 + layer["height"] * 0.15, steps=5)
    desktop.mouse.up()
    expect(desktop.locator("#placement-status")).to_have_text("Saved.")
    expect(box.locator(".placement-field-warning")).to_be_hidden()
