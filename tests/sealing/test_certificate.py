"""The signing certificate pages and the footer: translated, masked, escaped, inside the page."""

import hashlib
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pypdfium2
import pytest
import qrcode
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from portal.audit.models import AuditEvent
from portal.audit.service import events_for
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.models_base import utcnow
from portal.parties.models import Company
from portal.pdfs import page_geometry
from portal.sealing.certificate import (
    add_footer,
    assemble_final,
    certificate_pages,
    event_description,
    masked_actor,
)
from portal.storage import read
from tests.fixtures import fixture_bytes
from tests.pdfs.support import light_app, with_rotation
from tests.progress.support import CLIENT_PHONE, COPY, fill_signatures, load, sent_document, sign

CODE = "ABCD-EFGH-JKMN"
VERIFY_URL = f"http://localhost/verify?code={CODE}"
ORIGINAL = hashlib.sha256(b"the original").hexdigest()
HEAD = hashlib.sha256(b"the last event").hexdigest()
START = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
HOSTILE = """<script>alert("x")</script> & Sons 'quoted' <b>bold</b> &amp;"""
EMAILS = ("boris@example.com", "director@signet.example", "maria@example.com",
          "copy@example.com", "sender@example.com")


@pytest.fixture
def light(tmp_path):
    """An app context without a database: the certificate only reads the objects it is given."""
    with light_app(tmp_path, SIGNET_BASE_URL="http://localhost").app_context():
        yield


def party(role: str, order: int, name: str, **values) -> Party:
    signed = START + timedelta(hours=order)
    defaults = {"channel": "email", "position": "", "organization": "", "ip": "",
                "user_agent": ""}
    if role != "cc":
        defaults.update(consent_at=signed - timedelta(minutes=3), ip="198.51.100.7",
                        code_confirmed_at=signed - timedelta(minutes=2), signed_at=signed,
                        user_agent=USER_AGENT)
    return Party(role=role, order=order, name=name, **{**defaults, **values})


def a_document(language: str = "en", **parties) -> Document:
    """A completed document built in memory: approver, our signer, an SMS client, a copy."""
    company = Company(legal_name="Signet Demo LLC", short_name="Signet Demo",
                      signer_name="Anna Petrova")
    everyone = {
        "approver": party("approver", 1, "Boris Approver", email="boris@example.com",
                          position="Head of legal"),
        "company": party("company", 2, "Anna Petrova", email="director@signet.example",
                         organization="Signet Demo LLC", position="Director"),
        "client": party("client", 3, "Maria Silva", channel="sms", phone=CLIENT_PHONE,
                        organization="Silva & Filhos, Lda"),
        "cc": party("cc", 4, "Carl Copy", email="copy@example.com"),
        **parties,
    }
    return Document(id=123, number="ACT-2026-00042", title="Act of completed work",
                    company=company, language=language, page_count=3, sent_at=START,
                    completed_at=START + timedelta(hours=4), verification_code=CODE,
                    parties=[p for p in everyone.values() if p is not None])


def events(count: int = 6) -> list[AuditEvent]:
    kinds = [("document.created", "Sam Sender <sender@example.com>"),
             ("party.invited", "Signet"),
             ("party.consent", "Maria Silva <maria@example.com>"),
             ("party.code_confirmed", f"Maria Silva <{CLIENT_PHONE}>"),
             ("party.signed", "Maria Silva <maria@example.com>"),
             ("custom.thing_happened", "Signet")]
    return [AuditEvent(type=kinds[i % len(kinds)][0], actor_label=kinds[i % len(kinds)][1],
                       created_at=START + timedelta(minutes=i), ip="203.0.113.9",
                       details={"name": "Maria Silva"}, hash=f"{i:064x}")
            for i in range(count)]


def certificate(document: Document, event_list=None) -> bytes:
    return certificate_pages(document, original_sha256=ORIGINAL,
                             events=events() if event_list is None else event_list,
                             chain_head=HEAD, verify_url=VERIFY_URL)


def assembled(document: Document, source: bytes | None = None, event_list=None) -> bytes:
    return assemble_final(source or fixture_bytes("three-pages.pdf"), document,
                          original_sha256=ORIGINAL,
                          events=events() if event_list is None else event_list,
                          chain_head=HEAD, verify_url=VERIFY_URL)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def text_of(pdf: bytes) -> str:
    # Lines wrap anywhere in a table cell: compare without line breaks.
    return " ".join(" ".join(page_texts(pdf)).split())


# --- content -----------------------------------------------------------------------------------

def test_the_certificate_lists_the_document_parties_events_and_hashes(light):
    text = text_of(certificate(a_document()))
    for expected in ("Signing certificate", "Act of completed work", "ACT-2026-00042",
                     "Signet Demo", CODE, VERIFY_URL, ORIGINAL, HEAD,
                     "Boris Approver", "Head of legal", "Anna Petrova", "Company signer",
                     "Maria Silva", "Silva & Filhos, Lda", "Client", "Approver", "SMS",
                     "198.51.100.7", USER_AGENT, "Copies sent to", "Carl Copy",
                     "Agreement accepted", "Code confirmed", "Invitation sent: Maria Silva",
                     "Other event", "203.0.113.9",
                     # The client's signature, with its offset and zone.
                     "March 5, 2026, 1:00:00 PM (UTC+00:00, UTC)",
                     "each event", ):
        assert expected.lower() in text.lower(), expected


@pytest.mark.parametrize("language, words", [
    ("ru", ("Сертификат подписания", "Подписанты", "История событий", "Клиент",
            "5 марта 2026", "Согласие принято", "Документ 123 · Код проверки")),
    ("pt", ("Certificado de assinatura", "Signatários", "Histórico de eventos", "Cliente",
            "5 de março de 2026", "Termos aceites", "Documento 123 · Código de verificação")),
])
def test_russian_and_portuguese(light, language, words):
    text = text_of(assembled(a_document(language)))
    for word in words:
        assert word in text, word
    assert "Signing certificate" not in text


def test_contacts_are_masked_everywhere(light):
    text = text_of(assembled(a_document()))
    for email in EMAILS:
        assert email not in text, email
    assert CLIENT_PHONE not in text
    assert "b***s@example.com" in text  # the approver, recognisable
    assert "s***r@example.com" in text  # the employee who created it, in the events
    assert f"{CLIENT_PHONE[:4]}" in text and f"{CLIENT_PHONE[-2:]}" in text


def test_a_copy_recipient_has_no_signing_rows(light):
    document = a_document(approver=None, company=None, client=None)
    text = text_of(certificate(document, []))
    assert "Carl Copy" in text and "Copies sent to" in text
    assert "Agreement accepted" not in text and "Nobody signed this document." in text


def test_hostile_names_print_literally(light):
    document = a_document(client=party("client", 3, HOSTILE, email="x@example.com",
                                       organization=HOSTILE, position=HOSTILE))
    document.title = HOSTILE
    text = text_of(certificate(document))
    assert text.count(HOSTILE) >= 4  # title, name, organisation, position
    assert "&lt;" not in text


def test_masked_actor_and_event_description():
    assert masked_actor("Sam Sender <sender@example.com>") == "Sam Sender <s***r@example.com>"
    assert masked_actor("Maria <+351912345678>") == "Maria <+351*******78>"
    assert masked_actor("Signet") == "Signet"
    assert masked_actor("Cut short <someone.with.a.long@exam") == "Cut short <s***g@exam>"
    assert event_description(AuditEvent(type="something.new", details={})) == "Other event"


def test_the_qr_code_encodes_the_verify_url(light):
    reader = PdfReader(BytesIO(certificate(a_document())))
    [image] = [image.image for image in reader.pages[0].images]
    expected = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    expected.add_data(VERIFY_URL)
    expected.make(fit=True)
    matrix = expected.get_matrix()
    grey = image.convert("L")
    assert grey.width == grey.height and grey.width % len(matrix) == 0
    module = grey.width // len(matrix)
    found = [[grey.getpixel((x * module + module // 2, y * module + module // 2)) < 128
              for x in range(len(matrix))] for y in range(len(matrix))]
    assert found == matrix


# --- long inputs -------------------------------------------------------------------------------

def chars_inside_pages(pdf: bytes) -> None:
    """Every character's box lies on its page."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        for page in document:
            left, bottom, right, top = page.get_mediabox()
            text = page.get_textpage()
            for index in range(text.count_chars()):
                x0, y0, x1, y1 = text.get_charbox(index)
                if x1 > x0:  # spaces and line breaks have empty boxes
                    assert left <= x0 and x1 <= right and bottom <= y0 and y1 <= top
            text.close()
            page.close()
    finally:
        document.close()


def test_long_texts_wrap_and_flow_onto_more_pages(light):
    long_agent = "Mozilla/5.0" + "x" * 389  # 400 characters, not one space
    long_organisation = "Organisation " * 23  # ~300 characters
    client = party("client", 3, "Maria Silva " * 16, email="maria@example.com",
                   organization=long_organisation[:300], user_agent=long_agent)
    many = events(200)
    short = certificate(a_document())
    long = certificate(a_document(client=client), many)
    assert len(PdfReader(BytesIO(long)).pages) > len(PdfReader(BytesIO(short)).pages) + 2
    chars_inside_pages(long)
    text = "".join(text_of(long).split())
    assert long_agent in text
    assert "".join(long_organisation[:300].split()) in text
    assert text.count("203.0.113.9") == 200


def test_no_events_says_so(light):
    text = text_of(certificate(a_document(), []))
    assert "No events were recorded." in text


# --- the footer --------------------------------------------------------------------------------

SHAPES = {
    "plain": fixture_bytes("plain.pdf"),
    "rotated-90": fixture_bytes("rotated-90.pdf"),
    "cropped-offset": fixture_bytes("cropped-offset.pdf"),
    "cropped-offset-rotated-270": with_rotation(fixture_bytes("cropped-offset.pdf"), 270),
}


def footer_box(pdf: bytes, page_number: int, footer: str):
    """(left, bottom, right, top) of the footer's characters, as fractions of the DISPLAYED
    page (origin bottom-left), and whether every character lies inside the crop box."""
    geometry = page_geometry(pdf)[page_number - 1]
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[page_number - 1]
        text = page.get_textpage()
        searcher = text.search(footer)
        found = searcher.get_next()
        assert found is not None, f"no footer on page {page_number}"
        start, count = found
        boxes = [text.get_charbox(index) for index in range(start, start + count)]
        searcher.close()
        text.close()
        page.close()
    finally:
        document.close()
    boxes = [box for box in boxes if box[2] > box[0]]  # spaces have empty boxes
    x0, y0, x1, y1 = geometry.crop_box
    inside = all(x0 <= bx0 and bx1 <= x1 and y0 <= by0 and by1 <= y1
                 for bx0, by0, bx1, by1 in boxes)
    # A displayed point p is (a*px + c*py + e, b*px + d*py + f) in user space: invert that.
    a, b, c, d, e, f = geometry.ctm
    determinant = a * d - b * c
    shown = []
    for bx0, by0, bx1, by1 in boxes:
        for ux, uy in ((bx0, by0), (bx1, by1)):
            shown.append(((d * (ux - e) - c * (uy - f)) / determinant / geometry.width,
                          (-b * (ux - e) + a * (uy - f)) / determinant / geometry.height))
    xs, ys = [x for x, _y in shown], [y for _x, y in shown]
    return (min(xs), min(ys), max(xs), max(ys)), inside


def assert_at_the_foot(pdf: bytes, page_number: int, footer: str) -> None:
    (left, bottom, right, top), inside = footer_box(pdf, page_number, footer)
    assert inside, page_number
    assert bottom > 0 and top < 0.04, page_number  # along the bottom edge as displayed
    assert left > 0 and right < 1 and abs((left + right) / 2 - 0.5) < 0.02, page_number
    assert top - bottom < 0.03, page_number  # one horizontal line, not a vertical strip


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_footer_sits_at_the_foot_of_the_displayed_page(shape):
    source = SHAPES[shape]
    stamped = add_footer(source, document_id=7, verification_code=CODE)
    assert page_geometry(stamped) == page_geometry(source)
    footer = f"Document 7 · Verification code {CODE} · Page 1 of 1"
    assert footer in text_of(stamped)
    assert_at_the_foot(stamped, 1, footer)


def test_the_footer_shrinks_to_fit_a_tiny_page():
    buffer = BytesIO()
    tiny = canvas.Canvas(buffer, pagesize=(120, 80))
    tiny.showPage()
    tiny.save()
    stamped = add_footer(buffer.getvalue(), document_id=7, verification_code=CODE)
    footer = f"Document 7 · Verification code {CODE} · Page 1 of 1"
    (left, _bottom, right, _top), inside = footer_box(stamped, 1, footer)
    assert inside and left > 0 and right < 1


def test_every_page_gets_its_number_and_the_total(light):
    writer = PdfWriter()
    for shape in SHAPES.values():
        writer.append(PdfReader(BytesIO(shape)))
    buffer = BytesIO()
    writer.write(buffer)
    final = assembled(a_document("pt"), buffer.getvalue())
    texts = page_texts(final)
    total = len(texts)
    assert total > len(SHAPES)  # the certificate follows the document's pages
    for number, text in enumerate(texts, 1):
        footer = f"Documento 123 · Código de verificação {CODE} · Página {number} de {total}"
        assert footer in " ".join(text.split()), number
        assert_at_the_foot(final, number, footer)


def test_add_footer_in_a_given_language(light):
    stamped = add_footer(fixture_bytes("three-pages.pdf"), document_id=5,
                         verification_code=CODE, locale="ru")
    texts = [" ".join(text.split()) for text in page_texts(stamped)]
    assert f"Документ 5 · Код проверки {CODE} · Страница 3 из 3" in texts[2]


# --- a real completed document -----------------------------------------------------------------

def test_a_completed_document_gets_its_certificate_and_footer(app, admin):
    with app.app_context():
        document_id = sent_document(admin["id"], client_sms=True, approver=True, cc=True)
        fill_signatures(document_id)
        for role in ("approver", "company", "client"):
            signer = load(document_id).parties_with_role(role)[0]
            signer.consent_at = signer.code_confirmed_at = utcnow()
            signer.ip, signer.user_agent = "192.0.2.44", USER_AGENT
            db.session.commit()
            sign(document_id, role, then_advance=role != "client")
        document = load(document_id)
        document.completed_at = utcnow()
        db.session.commit()
        source = read(document.source_sha256)
        history = events_for(document_id)
        final = assemble_final(source, document, original_sha256=document.source_sha256,
                               events=history, chain_head=history[-1].hash,
                               verify_url=VERIFY_URL)
        number, title = document.number, document.title
        names = [p.name for p in document.parties]
        source_sha256, head = document.source_sha256, history[-1].hash
    texts = page_texts(final)
    assert len(texts) > len(page_texts(source))
    text = text_of(final)
    for expected in (number, title, source_sha256, head, *names, "192.0.2.44",
                     "Sent for signing", "Invitation sent", "Copies sent to"):
        assert expected in text, expected
    for address in (*EMAILS[1:], COPY, CLIENT_PHONE, "admin@example.com"):
        assert address not in text, address
    for page, page_text in enumerate(texts, 1):
        assert f"Page {page} of {len(texts)}" in page_text


@pytest.mark.parametrize(("language", "subject"), [
    ("en", "Signed electronically: document ACT-2026-00042"),
    ("ru", "Подписано электронно: документ ACT-2026-00042"),
])
def test_the_final_pdf_says_what_it_is_in_its_properties(light, language, subject):
    final = PdfReader(BytesIO(assembled(a_document(language))))
    info = final.metadata
    assert info.title == "Act of completed work"
    assert info.author == "Signet Demo LLC"
    assert info.subject.startswith(subject) and CODE in info.subject
    root = final.trailer["/Root"]
    assert root["/Lang"] == language
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    # The XMP packet is the final PDF's own (no uploaded one left to contradict the title).
    assert final.xmp_metadata.dc_title == {"x-default": "Act of completed work"}
