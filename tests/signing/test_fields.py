"""Filling fields one by one: text, number, tick, drawn/typed/uploaded signature, stamp."""

from io import BytesIO

import pytest
from PIL import Image

from portal.audit.service import events_for
from portal.documents.models import Document, Field
from portal.extensions import db
from portal.storage import read, store
from tests.fixtures import fixture_bytes
from tests.helpers import text_of
from tests.signing.support import (
    HEADERS,
    confirm,
    data_url,
    png_bytes,
    post,
    sent_document,
    set_token,
)


@pytest.fixture
def signing(app, admin):
    with app.app_context():
        return sent_document(admin["id"])


@pytest.fixture
def signer(app, signing):
    """A client (browser) that has agreed and confirmed its code."""
    client = app.test_client()
    confirm(client, app, signing)
    return client


def _field(app, field_id) -> Field:
    with app.app_context():
        db.session.commit()
        field = db.session.get(Field, field_id)
        db.session.expunge(field)
        return field


def _image(app, field_id) -> Image.Image:
    field = _field(app, field_id)
    assert field.value_sha256, "no image was stored"
    with app.app_context():
        image = Image.open(BytesIO(read(field.value_sha256)))
        image.load()
        return image


def _save(client, signing, kind, data=None, **kwargs):
    return post(client, f"{signing.url}/fields/{signing.fields[kind]}", data, **kwargs)


def test_text_is_saved_and_its_fragment_swaps_with_the_sign_panel(app, signing, signer):
    response = _save(signer, signing, "text", {"value": "  Director   of sales "})
    html = text_of(response)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<article id="field-{signing.fields["text"]}"')
    assert 'id="sign-panel"' in html and 'hx-swap-oob="true"' in html
    assert "Director of sales" in html and "Change" in html
    field = _field(app, signing.fields["text"])
    assert field.value == "Director of sales" and field.filled_at is not None


def test_required_text_left_empty_is_refused_beside_the_field(app, signing, signer):
    response = _save(signer, signing, "text", {"value": "   "})
    assert response.status_code == 200
    assert "Fill in this field." in text_of(response)
    assert _field(app, signing.fields["text"]).filled_at is None


def test_number_is_validated(app, signing, signer):
    html = text_of(_save(signer, signing, "number", {"value": "twelve"}))
    assert "Enter a number, e.g. 1250 or 99,50." in html
    assert _field(app, signing.fields["number"]).value == ""
    _save(signer, signing, "number", {"value": "1 250,50"})
    assert _field(app, signing.fields["number"]).value == "1250,50"


def test_required_checkbox_must_be_ticked(app, signing, signer):
    assert "Tick the box to continue." in text_of(_save(signer, signing, "checkbox", {}))
    _save(signer, signing, "checkbox", {"value": "yes"})
    assert _field(app, signing.fields["checkbox"]).value == "yes"


def test_a_drawn_signature_is_stored_as_a_png_cropped_to_the_ink(app, signing, signer):
    drawing = data_url(png_bytes(size=(600, 200)))
    response = _save(signer, signing, "signature", {"method": "draw", "drawing": drawing})
    assert "field-image" in text_of(response)
    image = _image(app, signing.fields["signature"])
    assert image.format == "PNG" and image.mode == "RGBA"
    assert image.width < 600 and image.height < 200  # cut to the strokes
    picture = signer.get(f"{signing.url}/fields/{signing.fields['signature']}/image")
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    with app.app_context():
        [event] = [e for e in events_for(signing.document_id) if e.type == "field.filled"]
        confirmed = next(e for e in events_for(signing.document_id)
                         if e.type == "party.code_confirmed")
        assert event.details == {"field_id": signing.fields["signature"],
                                 "field_type": "signature", "method": "draw",
                                 "session": confirmed.details["session"]}
        assert (event.ip, event.user_agent) == ("127.0.0.1", HEADERS["User-Agent"])


@pytest.mark.parametrize(("drawing", "message"), [
    ("", "Draw your signature in the box first."),
    ("data:image/png;base64,@@@", "The drawing did not arrive."),
    ("javascript:alert(1)", "The drawing did not arrive."),
])
def test_a_missing_or_broken_drawing_is_refused(app, signing, signer, drawing, message):
    html = text_of(_save(signer, signing, "signature", {"method": "draw", "drawing": drawing}))
    assert message in html
    assert _field(app, signing.fields["signature"]).value_sha256 is None


def test_an_empty_drawing_is_refused(app, signing, signer):
    blank = data_url(png_bytes(ink=False))
    html = text_of(_save(signer, signing, "signature", {"method": "draw", "drawing": blank}))
    assert "The box is empty. Draw your signature in it first." in html


@pytest.mark.parametrize("name", ["Anna Petrova", "Анна Петрова", "João Gonçalves"])
def test_a_typed_signature_is_rendered_in_handwriting(app, signing, signer, name):
    _save(signer, signing, "signature", {"method": "type", "typed": name})
    image = _image(app, signing.fields["signature"])
    assert image.format == "PNG" and image.mode == "RGBA"
    alpha = image.getchannel("A")
    assert alpha.getextrema() == (0, 255)  # transparent background, opaque ink
    assert sum(alpha.histogram()[129:]) > 500


def test_typed_initials_default_to_the_initials(app, signing, signer):
    html = text_of(signer.get(signing.url, headers=HEADERS))
    assert 'value="A. P."' in html
    _save(signer, signing, "initials", {"method": "type", "typed": "A. P."})
    assert _image(app, signing.fields["initials"]).getbbox() is not None


def test_an_uploaded_signature_is_accepted(app, signing, signer):
    upload = (BytesIO(fixture_bytes("exif-orientation-6.jpg")), "sign.jpg")
    _save(signer, signing, "signature", {"method": "upload", "image": upload})
    assert _image(app, signing.fields["signature"]).format == "JPEG"


def test_an_uploaded_stamp_keeps_its_transparency(app, signing, signer):
    upload = (BytesIO(fixture_bytes("transparent.png")), "stamp.png")
    response = _save(signer, signing, "stamp", {"method": "upload", "image": upload})
    assert "field-image" in text_of(response)
    image = _image(app, signing.fields["stamp"])
    assert image.mode in ("RGBA", "LA", "P")
    assert image.convert("RGBA").getchannel("A").getextrema()[0] == 0


@pytest.mark.parametrize(("data", "message"), [
    (b"%PDF-1.4 not an image", "This file is not a PNG or JPEG image."),
    (b"\x89PNG\r\n\x1a\n" + b"0" * (2 * 1024 * 1024), "The image is larger than 2 MB."),
    (b"", "Choose a PNG or JPEG image to upload."),
])
def test_a_bad_stamp_is_refused_with_a_message(app, signing, signer, data, message):
    upload = (BytesIO(data), "stamp.png")
    response = _save(signer, signing, "stamp", {"method": "upload", "image": upload})
    assert response.status_code == 200 and message in text_of(response)
    assert _field(app, signing.fields["stamp"]).value_sha256 is None


def test_a_stamp_with_too_many_pixels_is_refused(app, signing, signer):
    upload = (BytesIO(png_bytes(size=(3200, 40))), "wide.png")
    html = text_of(_save(signer, signing, "stamp", {"method": "upload", "image": upload}))
    assert "The image is 3200×40 pixels; at most 3000×3000 is accepted." in html


def test_date_and_requisites_are_read_only_and_filled_by_signet(app, signing, signer):
    html = text_of(signer.get(signing.url, headers=HEADERS))
    assert "Filled in by Signet when you sign." in html
    assert "Signet Demo LLC" in html and "Tax ID: 7707083893" in html
    response = _save(signer, signing, "date", {"value": "1999-01-01"})
    assert "This field is filled in by Signet when you sign." in text_of(response)
    assert _field(app, signing.fields["date"]).value == ""


def test_another_partys_field_cannot_be_filled(app, signing, signer):
    with app.app_context():
        db.session.commit()
        client_field = db.session.query(Field).filter_by(party_id=signing.client_id).first().id
    response = post(signer, f"{signing.url}/fields/{client_field}", {"value": "x"})
    assert response.status_code == 404
    assert _field(app, client_field).filled_at is None


def test_filling_needs_a_confirmed_code(app, signing):
    client = app.test_client()
    client.get(signing.url, headers=HEADERS)
    post(client, f"{signing.url}/consent")
    html = text_of(_save(client, signing, "text", {"value": "Director"}))
    assert "First confirm the code we sent you." in html
    assert _field(app, signing.fields["text"]).filled_at is None


def test_a_waiting_party_cannot_fill(app, signing):
    with app.app_context():
        token = set_token(signing.client_id)
    client = app.test_client()
    response = post(client, f"/s/{token}/fields/{signing.fields['text']}", {"value": "x"})
    assert response.headers.get("HX-Redirect") == f"/s/{token}"


def test_our_signer_may_use_the_company_stamp_on_file(app, signing, signer):
    with app.app_context():
        document = db.session.get(Document, signing.document_id)
        document.company.stamp_sha256 = store(fixture_bytes("transparent.png"), "image/png").sha256
        db.session.commit()
    html = text_of(signer.get(signing.url, headers=HEADERS))
    assert "The company&#39;s stamp" in html or "The company's stamp" in html
    _save(signer, signing, "stamp", {"method": "company_stamp"})
    image = _image(app, signing.fields["stamp"])
    assert image.convert("RGBA").getchannel("A").getextrema()[0] == 0
