"""The shipped templates render to PDFs in their language, with anchors and no marker text."""

import base64
import contextlib
import io
import socket
import threading

import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image
from pypdf import PdfReader

from portal.doctemplates.builtin import BUILTIN_TEMPLATES, default_layout
from portal.doctemplates.pdf import REFUSED, _link_callback
from portal.doctemplates.rendering import (
    AnchorBox,
    TemplateRefused,
    render_document_pdf,
    resolve_layout,
)
from portal.doctemplates.sample import sample_context
from portal.pdfs.pdfium import open_document

# Words each language's document must contain (accents and Cyrillic intact), and the total.
EXPECTED = {
    ("act", "en"): ["Act of completed work", "Contractor", "Customer", "Northwind Trading Ltd",
                    "2,707.20"],
    ("act", "ru"): ["Акт", "Исполнитель", "Заказчик", "ООО «Вектор»", "152 256,00"],
    ("act", "pt"): ["Auto de execução de serviços", "Prestador de serviços",
                    "Soluções Atlântico, Lda.", "2 658,40"],
    ("invoice", "en"): ["Invoice", "Supplier", "Buyer", "Northwind Trading Ltd", "2,707.20"],
    ("invoice", "ru"): ["Счёт на оплату", "Покупатель", "ООО «Вектор»", "152 256,00"],
    ("invoice", "pt"): ["Fatura", "Fornecedor", "Soluções Atlântico, Lda.", "2 658,40"],
    ("contract", "en"): ["Service contract", "Contractor", "Northwind Trading Ltd", "2,707.20"],
    ("contract", "ru"): ["Договор оказания услуг", "Исполнитель", "ООО «Вектор»",
                         "152 256,00"],
    ("contract", "pt"): ["Contrato de prestação de serviços", "Prestador de serviços",
                         "Soluções Atlântico, Lda.", "2 658,40"],
}


def pdf_text(pdf_bytes: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture(scope="module")
def rendered():
    """Each shipped template rendered once with the sample data of its language."""
    return {(shipped.kind, shipped.language): render_document_pdf(
        shipped.body_html(), sample_context(shipped.kind, shipped.language))
        for shipped in BUILTIN_TEMPLATES}


def test_nine_templates_are_shipped():
    assert {(t.kind, t.language) for t in BUILTIN_TEMPLATES} == set(EXPECTED)
    assert len({t.key for t in BUILTIN_TEMPLATES}) == 9


@pytest.mark.parametrize("kind, language", sorted(EXPECTED))
def test_shipped_template_renders_in_its_language(rendered, kind, language):
    result = rendered[(kind, language)]
    assert result.pdf_bytes.startswith(b"%PDF-")
    assert 1 <= result.page_count == len(PdfReader(io.BytesIO(result.pdf_bytes)).pages)
    text = pdf_text(result.pdf_bytes)
    for expected in EXPECTED[(kind, language)]:
        assert expected in text, expected
    assert "ACT-2026-00042" in text or "INV-2026-00042" in text or "CON-2026-00042" in text


@pytest.mark.parametrize("kind, language", sorted(EXPECTED))
def test_anchors_are_found_inside_the_page_without_marker_text(rendered, kind, language):
    result = rendered[(kind, language)]
    assert {"company.signature", "client.signature", "company.stamp", "client.stamp",
            "company.date", "client.date", "client.requisites"} <= set(result.anchors)
    for box in result.anchors.values():
        assert 1 <= box.page <= result.page_count
        assert 0 <= box.x < box.x + box.w <= 1 and 0 <= box.y < box.y + box.h <= 1
    signature = result.anchors["client.signature"]
    # The size the template asked for (35 x 12 mm on A4, 210 x 297 mm), not shrunk to fit.
    assert signature.w == pytest.approx(35 / 210, abs=0.002)
    assert signature.h == pytest.approx(12 / 297, abs=0.002)
    # The company signs on the left, the client on the right, on the same row.
    company = result.anchors["company.signature"]
    assert company.x < 0.5 <= signature.x and company.page == signature.page
    text = pdf_text(result.pdf_bytes)
    for leftover in (*result.anchors, "anchor", "data:image", "base64"):
        assert leftover not in text


def test_dejavu_fonts_are_embedded(rendered):
    reader = PdfReader(io.BytesIO(rendered[("act", "ru")].pdf_bytes))
    embedded = set()
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = font.get("/FontDescriptor")
        if descriptor is not None and "/FontFile2" in descriptor.get_object():
            embedded.add(str(font["/BaseFont"]).split("+")[-1])
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= embedded


def test_client_stamp_anchor_only_for_a_company_client():
    person = {"kind": "person", "name": "Maria Silva", "email": "maria@example.com"}
    result = render_document_pdf(BUILTIN_TEMPLATES[0].body_html(),
                                 sample_context("act", "en", counterparty=person))
    assert "client.stamp" not in result.anchors and "client.signature" in result.anchors
    fields = resolve_layout(default_layout("en"), result.anchors, result.page_count)
    assert [(f["role"], f["type"]) for f in fields] == [
        ("company", "signature"), ("company", "date"), ("company", "stamp"),
        ("client", "signature"), ("client", "date"), ("client", "requisites")]


def test_default_layout_resolves_to_the_anchor_boxes(rendered):
    result = rendered[("contract", "ru")]
    fields = resolve_layout(default_layout("ru"), result.anchors, result.page_count)
    assert len(fields) == 7
    by_key = {(f["role"], f["type"]): f for f in fields}
    signature, box = by_key[("client", "signature")], result.anchors["client.signature"]
    assert (signature["page"], signature["x"], signature["y"], signature["w"], signature["h"]) \
        == (box.page, box.x, box.y, box.w, box.h)
    assert signature["label"] == "Подпись" and signature["required"] is True
    assert by_key[("company", "stamp")]["required"] is False
    assert set(signature) == {"role", "type", "page", "x", "y", "w", "h", "required", "label"}


def test_long_invoice_keeps_its_signatures_together():
    shipped = next(t for t in BUILTIN_TEMPLATES if t.key == "invoice-en")
    result = render_document_pdf(shipped.body_html(), sample_context("invoice", "en", 60))
    assert result.page_count >= 2
    text = pdf_text(result.pdf_bytes)
    assert "Technical support (60)" in text
    company, client = result.anchors["company.signature"], result.anchors["client.signature"]
    assert company.page == client.page == result.page_count


# --- resources --------------------------------------------------------------------------------

def _image_objects(pdf_bytes: bytes) -> list[tuple[int, int]]:
    with open_document(pdf_bytes) as document:
        page = document[0]
        sizes = [image.get_px_size() for image in
                 page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4)]
        page.close()
    return sizes


def _png(size=(8, 5)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_only_fonts_and_inline_images_are_resources():
    assert _link_callback("signet-font:DejaVuSans-Bold", None).endswith("DejaVuSans-Bold.ttf")
    assert _link_callback("signet-font:../../etc/passwd", None) == REFUSED
    for uri in ("/etc/passwd", "file:///etc/passwd", "http://169.254.169.254/latest/",
                "https://example.com/logo.png", "../portal/fonts/DejaVuSans.ttf",
                "data:text/html;base64,PGI+", "DejaVuSans.ttf"):
        assert _link_callback(uri, None) == REFUSED, uri
    assert _link_callback("data:image/png;base64,iVBOR", None) is None


def test_local_files_are_not_embedded(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png())
    inline = base64.b64encode(_png((7, 9))).decode()
    result = render_document_pdf(
        f'<p>Logo</p><img src="{logo}"><img src="file://{logo}">'
        f'<img src="data:image/png;base64,{inline}" width="20" height="20">'
        '<style>@font-face { font-family: X; src: url("/usr/share/fonts/x.ttf"); }</style>',
        {"language": "en"})
    assert _image_objects(result.pdf_bytes) == [(7, 9)]
    assert "Logo" in pdf_text(result.pdf_bytes)


def test_no_network_requests_are_made():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    connections = []

    def accept():
        with contextlib.suppress(OSError):  # the timeout: nobody connected
            connections.append(listener.accept())

    thread = threading.Thread(target=accept)
    thread.start()
    url = f"http://127.0.0.1:{port}/x"
    result = render_document_pdf(
        f'<link rel="stylesheet" href="{url}.css"><img src="{url}.png">'
        f'<style>@import url("{url}.css"); p {{ background-image: url("{url}.png"); }}</style>'
        "<p>Offline</p>", {"language": "en"})
    thread.join()
    listener.close()
    assert connections == []
    assert "Offline" in pdf_text(result.pdf_bytes)


def test_a_template_error_is_refused_before_the_pdf():
    with pytest.raises(TemplateRefused) as caught:
        render_document_pdf("<p>ok</p>\n{% for x in %}", {"language": "en"})
    assert caught.value.line == 2


# --- layouts ----------------------------------------------------------------------------------

ANCHORS = {"client.signature": AnchorBox(page=2, x=0.6, y=0.8, w=0.2, h=0.05)}


def test_resolve_layout_places_anchored_entries_with_offset_and_size():
    fields = resolve_layout([
        {"role": "client", "type": "signature", "anchor": "client.signature",
         "required": True, "label": "Sign"},
        {"role": "client", "type": "stamp", "anchor": "client.signature", "dx": 0.25,
         "dy": -0.05, "w": 0.15, "h": 0.1, "required": False, "label": ""},
    ], ANCHORS, 2)
    assert fields[0] == {"role": "client", "type": "signature", "page": 2, "x": 0.6, "y": 0.8,
                         "w": 0.2, "h": 0.05, "required": True, "label": "Sign"}
    # 0.6 + 0.25 would leave the page: clamped so the whole box stays on it.
    assert fields[1]["x"] == pytest.approx(0.85) and fields[1]["y"] == pytest.approx(0.75)
    assert (fields[1]["w"], fields[1]["h"], fields[1]["required"]) == (0.15, 0.1, False)


def test_resolve_layout_drops_missing_anchors_pages_and_bad_entries():
    fields = resolve_layout([
        {"role": "client", "type": "signature", "anchor": "client.initials"},
        {"role": "company", "type": "date", "page": 3, "x": 0.1, "y": 0.1, "w": 0.1, "h": 0.1},
        {"role": "company", "type": "date", "page": 2, "x": 0.95, "y": 0.99, "w": 0.2,
         "h": 0.05},
        {"role": "nobody", "type": "date", "page": 1, "x": 0, "y": 0, "w": 0.1, "h": 0.1},
        {"role": "client", "type": "scribble", "page": 1, "x": 0, "y": 0, "w": 0.1, "h": 0.1},
        "not a dict",
    ], {"client.signature": {"page": 1, "x": 0.1, "y": 0.1, "w": 0.1, "h": 0.1}}, 2)
    assert fields == [{"role": "company", "type": "date", "page": 2, "x": 0.8, "y": 0.95,
                       "w": 0.2, "h": 0.05, "required": True, "label": ""}]
    assert resolve_layout(None, {}, 1) == []


def test_xhtml2pdf_limits_become_template_refusals():
    with pytest.raises(TemplateRefused) as caught:
        render_document_pdf("<div>" * 400 + "deep" + "</div>" * 400, {"language": "en"})
    assert "The PDF could not be made" in caught.value.message
