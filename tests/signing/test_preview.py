"""The signer reads what they sign: pages and a PDF with every value filled so far.

The director fills and signs; the client then sees the director's values (and, in its own
ceremony, its own) drawn by the same burn-in that makes the final PDF.
"""

import subprocess
from io import BytesIO

import pytest
from PIL import Image, ImageChops

from portal.documents import services as document_services
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.pdfs import render_preview
from portal.pdfs.active import remove_active_content
from portal.pdfs.isolated import render_page_image
from portal.signing import preview
from portal.storage import read
from tests.documents.support import META, ready_draft, user
from tests.fixtures import fixture_bytes
from tests.helpers import text_of
from tests.signing.support import (
    EXTRA_FIELDS,
    HEADERS,
    Signing,
    confirm,
    data_url,
    png_bytes,
    post,
    set_token,
)

CLIENT_ADDRESS = "maria@example.com"
NOTICE = "Not yet signed — preview"
DIRECTOR_TEXT = "Chief executive officer"
CLIENT_TEXT = "Purchasing manager of Acme"
# The client's own fields besides the signature the draft gives it.
CLIENT_FIELDS = [
    {"type": "text", "page": 1, "x": 0.55, "y": 0.2, "w": 0.4, "h": 0.04, "label": "Position"},
    {"type": "requisites", "page": 1, "x": 0.55, "y": 0.3, "w": 0.4, "h": 0.12},
    {"type": "date", "page": 1, "x": 0.55, "y": 0.45, "w": 0.2, "h": 0.03},
]
DIRECTOR_SIGNATURE_BOX = (0.1, 0.8, 0.25, 0.06)  # x, y, w, h (tests.documents.support)


def both_signers_document(admin_id: int) -> Signing:
    """A sent document: every kind of field for our director, text and auto fields for the
    client (call in an app context)."""
    document = ready_draft(admin_id)
    company = document.parties_with_role("company")[0]
    client = document.parties_with_role("client")[0]
    current = [document_services.field_values(f) for f in document.fields]
    added = [{**spec, "party_id": company.id} for spec in EXTRA_FIELDS]
    added += [{**spec, "party_id": client.id} for spec in CLIENT_FIELDS]
    document_services.set_fields(user(admin_id), META, document.id, current + added)
    document_services.send(user(admin_id), META, document.id)
    token = set_token(company.id, status="sent")
    document = db.session.get(Document, document.id)
    own = {f.type: f.id for f in document.fields if f.party_id == company.id}
    return Signing(document.id, company.id, client.id, token, own)


def director_signs(app, signing: Signing) -> None:
    client = app.test_client()
    confirm(client, app, signing)
    url = f"{signing.url}/fields"
    fields = signing.fields
    post(client, f"{url}/{fields['signature']}", {"method": "draw",
                                                  "drawing": data_url(png_bytes())})
    post(client, f"{url}/{fields['initials']}", {"method": "type", "typed": "A. P."})
    post(client, f"{url}/{fields['stamp']}", {"method": "upload", "image": (
        BytesIO(fixture_bytes("transparent.png")), "stamp.png")})
    post(client, f"{url}/{fields['text']}", {"value": DIRECTOR_TEXT})
    post(client, f"{url}/{fields['number']}", {"value": "1250"})
    post(client, f"{url}/{fields['checkbox']}", {"value": "yes"})
    response = post(client, f"{signing.url}/sign")
    assert response.headers.get("HX-Redirect") == signing.url, text_of(response)[:400]


def client_link(app, signing: Signing, status: str | None = None) -> Signing:
    """The client's link, as a Signing whose `fields` are the client's own."""
    with app.app_context():
        token = set_token(signing.client_id, status)
        document = db.session.get(Document, signing.document_id)
        own = {f.type: f.id for f in document.fields if f.party_id == signing.client_id}
    return Signing(signing.document_id, signing.client_id, signing.party_id, token, own)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    done = subprocess.run(["pdftotext", "-raw", "-", "-"], input=data, capture_output=True,
                          check=True)
    return " ".join(done.stdout.decode().split())


def box_pixels(image: Image.Image, box) -> Image.Image:
    x, y, w, h = box
    return image.crop((round(x * image.width), round(y * image.height),
                       round((x + w) * image.width), round((y + h) * image.height)))


def ink_differs(first: Image.Image, second: Image.Image) -> bool:
    difference = ImageChops.difference(first.convert("L"), second.convert("L"))
    return difference.getextrema()[1] > 60


@pytest.fixture
def signing(app, admin):
    with app.app_context():
        return both_signers_document(admin["id"])


def test_the_client_reads_the_directors_values_and_its_own_in_the_pdf(app, signing):
    director_signs(app, signing)
    link = client_link(app, signing)
    browser = app.test_client()
    confirm(browser, app, link, address=CLIENT_ADDRESS)
    saved = post(browser, f"{link.url}/fields/{link.fields['text']}", {"value": CLIENT_TEXT})
    assert saved.status_code == 200

    response = browser.get(f"{link.url}/document.pdf", headers=HEADERS)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert "-preview.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert NOTICE in text
    assert DIRECTOR_TEXT in text and "1250" in text  # the director's values
    assert "Anna Petrova, Director" in text  # the director's requisites, burned in at signing
    assert CLIENT_TEXT in text  # the client's own value, in its ceremony
    assert "Maria Silva" in text  # its requisites, as signing now would fill them
    assert "Service agreement No. 42" in text  # the document itself
    # Ours, not a signed file: no signature, nothing active left to remove.
    assert b"/ByteRange" not in response.data and b"/AcroForm" not in response.data
    _cleaned, removed = remove_active_content(response.data)
    assert removed == ()


def test_the_pdf_is_marked_in_the_signers_language(app, admin):
    with app.app_context():
        signing = both_signers_document(admin["id"])
        document = db.session.get(Document, signing.document_id)
        document.language = "ru"
        db.session.commit()
    text = pdf_text(app.test_client().get(f"{signing.url}/document.pdf", headers=HEADERS).data)
    # In Russian once the catalog has the words (scratch/po/preview.json), English until then.
    assert "Ещё не подписан — предпросмотр" in text or NOTICE in text
    assert "Service agreement No. 42" in text


def test_own_values_only_in_the_signers_ceremony(app, signing):
    director_signs(app, signing)
    link = client_link(app, signing)
    browser = app.test_client()
    # Before the code is confirmed: the director's values, none of the client's own.
    text = pdf_text(browser.get(f"{link.url}/document.pdf", headers=HEADERS).data)
    assert DIRECTOR_TEXT in text and "Maria Silva" not in text
    confirm(browser, app, link, address=CLIENT_ADDRESS)
    post(browser, f"{link.url}/fields/{link.fields['text']}", {"value": CLIENT_TEXT})
    own = browser.get(f"{link.url}/pages/1.img")
    assert CLIENT_TEXT in pdf_text(browser.get(f"{link.url}/document.pdf").data)
    # The same link in another browser, without the session the code opened: no own values.
    elsewhere = app.test_client()
    text = pdf_text(elsewhere.get(f"{link.url}/document.pdf", headers=HEADERS).data)
    assert DIRECTOR_TEXT in text
    assert CLIENT_TEXT not in text and "Maria Silva" not in text
    html = text_of(elsewhere.get(link.url, headers=HEADERS))
    with app.app_context():
        party = db.session.get(Party, link.party_id)
        others_only = preview.page_versions(party, include_own=False)[1]
        with_own = preview.page_versions(party, include_own=True)[1]
    assert f"/pages/1.img?v={others_only}" in html and with_own not in html
    image = elsewhere.get(f"{link.url}/pages/1.img?v={with_own}",
                          headers={"If-None-Match": own.headers["ETag"]})
    assert image.status_code == 200 and image.data != own.data


def test_the_pdf_follows_the_page_images_access_rules(app, signing):
    link = client_link(app, signing)
    browser = app.test_client()
    # The client's turn has not come: nothing to read.
    assert browser.get(f"{link.url}/document.pdf").status_code == 404
    assert browser.get("/s/not-a-real-token/document.pdf").status_code == 404
    # The director's own view never shows the client's values (its requisites are filled
    # only when the client signs, and only for the client before that).
    director_text = pdf_text(browser.get(f"{signing.url}/document.pdf").data)
    assert "Maria Silva" not in director_text
    director_signs(app, signing)
    # Signed: the link no longer shows the document.
    assert browser.get(f"{signing.url}/document.pdf").status_code == 404
    assert browser.get(f"{signing.url}/pages/1.img").status_code == 404
    # Its turn now (the link given early stood in for the invitation: set it as sent).
    link = client_link(app, signing, status="sent")
    assert browser.get(f"{link.url}/document.pdf").status_code == 200
    # Declined: closed for everyone.
    confirm(browser, app, link, address=CLIENT_ADDRESS)
    declined = post(browser, f"{link.url}/decline", {"reason": "The amount is wrong."})
    assert declined.headers.get("HX-Redirect") == link.url
    assert browser.get(f"{link.url}/document.pdf").status_code == 404


def test_page_images_draw_earlier_signers_values_and_carry_their_version(app, signing):
    director_signs(app, signing)
    link = client_link(app, signing)
    browser = app.test_client()
    html = text_of(browser.get(link.url, headers=HEADERS))
    with app.app_context():
        party = db.session.get(Party, link.party_id)
        version = preview.page_versions(party, include_own=False)[1]
        source = db.session.get(Document, link.document_id).source_sha256
        plain = Image.open(BytesIO(render_preview(source, 1, 1000)))
    assert version and f"/s/{link.token}/pages/1.img?v={version}" in html
    assert 'class="button small signing-open-pdf"' in html and 'target="_blank"' in html

    response = browser.get(f"{link.url}/pages/1.img?v={version}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    drawn = Image.open(BytesIO(response.data))
    assert drawn.size == plain.size
    # The director's drawn signature is on the client's page; the page itself is unchanged.
    assert ink_differs(box_pixels(drawn, DIRECTOR_SIGNATURE_BOX),
                       box_pixels(plain, DIRECTOR_SIGNATURE_BOX))
    assert not ink_differs(box_pixels(drawn, (0.05, 0.02, 0.9, 0.06)),
                           box_pixels(plain, (0.05, 0.02, 0.9, 0.06)))
    # Unchanged: the browser's copy is still good.
    again = browser.get(f"{link.url}/pages/1.img?v={version}",
                        headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_save_swaps_in_the_page_with_its_new_picture(app, signing):
    director_signs(app, signing)
    link = client_link(app, signing)
    browser = app.test_client()
    confirmed = text_of(confirm(browser, app, link, address=CLIENT_ADDRESS))
    with app.app_context():
        party = db.session.get(Party, link.party_id)
        before = preview.page_versions(party, include_own=True)[1]
    # The step that opens the fields brings the pages with the own values (requisites, date).
    assert 'id="page-sheet-1" hx-swap-oob="true"' in confirmed
    assert f"/pages/1.img?v={before}" in confirmed
    answer = text_of(post(browser, f"{link.url}/fields/{link.fields['text']}",
                          {"value": CLIENT_TEXT}))
    with app.app_context():
        party = db.session.get(Party, link.party_id)
        after = preview.page_versions(party, include_own=True)[1]
    assert after != before
    assert 'id="page-sheet-1" hx-swap-oob="true"' in answer
    assert f"/pages/1.img?v={after}" in answer
    image = browser.get(f"{link.url}/pages/1.img?v={after}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"


def test_the_preview_draws_what_the_final_pdf_draws(app, signing):
    director_signs(app, signing)
    link = client_link(app, signing)
    browser = app.test_client()
    confirm(browser, app, link, address=CLIENT_ADDRESS)
    fields = link.fields
    post(browser, f"{link.url}/fields/{fields['text']}", {"value": CLIENT_TEXT})
    post(browser, f"{link.url}/fields/{fields['signature']}",
         {"method": "type", "typed": "Maria Silva"})
    with app.app_context():
        party = db.session.get(Party, link.party_id)
        shown = preview.preview_page(party, 1, 1000, include_own=True)
    signed = post(browser, f"{link.url}/sign")
    assert signed.headers.get("HX-Redirect") == link.url, text_of(signed)[:400]
    with app.app_context():
        document = db.session.get(Document, link.document_id)
        assert document.final_sha256, document.seal_error
        final = render_page_image(read(document.final_sha256), 1, 1000)
        party = db.session.get(Party, link.party_id)
        # Drawn again from the values signing stored (the date: today, as the preview said).
        after = preview.preview_page(party, 1, 1000, include_own=True)
    assert after.version == shown.version and after.image == shown.image
    drawn = Image.open(BytesIO(shown.image))
    # The final adds only its footer at the foot of the page: the rest is the same picture
    # (compared through the same JPEG encoding, above the footer's 8-pixel blocks).
    final = Image.open(BytesIO(_jpeg(final)))
    top = (final.height - 64) // 8 * 8
    assert drawn.size == final.size
    assert ImageChops.difference(drawn.crop((0, 0, drawn.width, top)),
                                 final.crop((0, 0, final.width, top))).getbbox() is None


def _jpeg(image: Image.Image) -> bytes:
    from portal.pdfs.isolated import encode_jpeg

    return encode_jpeg(image)


def test_pictures_are_kept_and_the_store_is_bounded(app, signing):
    director_signs(app, signing)
    link = client_link(app, signing)
    with app.app_context():
        party = db.session.get(Party, link.party_id)
        first = preview.preview_page(party, 1, 600, include_own=False)
        [kept] = list(preview.drafts_dir().glob("*/*-p1-w600-*.jpg"))
        stamp = kept.stat().st_mtime_ns
        party = db.session.get(Party, link.party_id)
        assert preview.preview_page(party, 1, 600, include_own=False) == first
        assert kept.stat().st_mtime_ns == stamp  # read back, not drawn again
        # Versions of one page beyond the few kept go at once.
        family = kept.name.rsplit("-", 1)[0]
        for number in range(preview.KEEP_PER_FAMILY + 3):
            preview._keep(kept.parent / f"{family}-old{number}.jpg", b"x" * 1000)
        assert len(list(kept.parent.glob(f"{family}-*"))) == preview.KEEP_PER_FAMILY
        # The whole store stays under its size.
        assert preview.prune(0.001) > 0
        total = sum(path.stat().st_size for path in preview.drafts_dir().glob("*/*"))
        assert total <= 0.001 * 1024 * 1024
