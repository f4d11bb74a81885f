"""The final PDF is an archival PDF/A-3b file that carries its audit trail, and says so only
when it is one.

No full PDF/A validator is reachable from this machine's package sources (veraPDF is on none
of them); these tests check the requirements the portal's own pages could break, on the real
final PDF of the shipped templates, sealed.
"""

import io
import json
import logging
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pikepdf
import pytest
from pikepdf.models.metadata import decode_pdf_date
from reportlab.pdfgen import canvas

from portal.audit.chain import TRAIL_FILENAME, TRAIL_MIME, check_trail
from portal.audit.service import events_for
from portal.pdfs.archival import Archive, make_archival, pdfa_obstacles, srgb_profile
from portal.pdfs.fitting import FONT_NAME, register_font
from portal.sealing.store import trust_roots
from tests.doctemplates.test_builtin_final_text import _sealed_from
from tests.fixtures import fixture_bytes
from tests.progress.support import fill_signatures, load, sent_document, sign
from tests.verify.support import seal_verdict

FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
# PDFBox's preflight (Debian: libpdfbox2-java, libactivation-java, libjaxb-api-java) checks
# PDF/A-1b, the only part it knows. What PDF/A-1 forbids and PDF/A-3 allows is expected:
# attached files (1.2.9, 1.4.7), an ICC v4 profile (2.1.6), soft masks (2.2.2), part 3 in
# the XMP (7.11.2), the seal's zero-size widget without an appearance (5.3.1).
JAVA_LIBRARIES = Path("/usr/share/java")
PREFLIGHT_JARS = ("preflight.jar", "pdfbox2.jar", "xmpbox.jar", "fontbox2.jar",
                  "commons-logging.jar", "javax.activation.jar", "jaxb-api.jar")
ALLOWED_BY_PDFA_3 = {"1.2.9", "1.4.7", "2.1.6", "2.2.2", "7.11.2", "5.3.1"}
PREFLIGHT_ERROR = re.compile(r"^(\d+(?:\.\d+)+) : (.*)$", re.MULTILINE)


def _pdf_with_text(font_name: str, initial_font: str | None = None) -> bytes:
    register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, initialFontName=initial_font)
    pdf.setFont(font_name, 12)
    pdf.drawString(72, 720, "Archival")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _archive() -> Archive:
    return Archive(title="Act", author="Signet Demo LLC", description="Signed by: A; B",
                   identifier="ACT-1", language="en", created=datetime(2026, 12, 3, 20, 0),
                   trail=b'{"format": "x"}', trail_filename=TRAIL_FILENAME,
                   trail_mime=TRAIL_MIME, trail_description="Audit trail")


def _fonts(holder, seen=None):
    """Every font dictionary reachable from a page or form: resources, forms, Type 3."""
    seen = set() if seen is None else seen
    if holder.is_indirect:
        if holder.objgen in seen:
            return
        seen.add(holder.objgen)
    resources = holder.get("/Resources", pikepdf.Dictionary())
    for _name, font in (resources.get("/Font") or pikepdf.Dictionary()).items():
        yield font
        if font.get("/Subtype") == "/Type3":
            yield from _fonts(font, seen)
    for _name, xobject in (resources.get("/XObject") or pikepdf.Dictionary()).items():
        if xobject.get("/Subtype") == "/Form":
            yield from _fonts(xobject, seen)


def _embedded(font) -> bool:
    if font.get("/Subtype") == "/Type3":
        return True
    if font.get("/Subtype") == "/Type0":
        font = font.DescendantFonts[0]
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(isinstance(descriptor.get(key), pikepdf.Stream)
                                          for key in FONT_FILES)


def _assert_archival(final: bytes, document_id: int, language: str, number: str,
                     head: str, roots) -> None:
    with pikepdf.open(io.BytesIO(final)) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert meta["dc:identifier"] == number
        assert meta["dc:title"] == str(pdf.docinfo.Title)
        assert meta["dc:description"] == str(pdf.docinfo.Subject)
        assert "Signed by" in meta["dc:description"] or "Подписали" in meta["dc:description"]
        assert str(pdf.Root.Lang) == language
        assert "/Producer" not in pdf.docinfo or str(pdf.docinfo.Producer) == meta["pdf:Producer"]
        assert list(meta["dc:creator"]) == [str(pdf.docinfo.Author)]
        for info_key, xmp_key in (("/CreationDate", "xmp:CreateDate"),
                                  ("/ModDate", "xmp:ModifyDate")):
            assert decode_pdf_date(str(pdf.docinfo[info_key])) == \
                datetime.fromisoformat(meta[xmp_key])

        intents = pdf.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFA1"
        profile = intents[0].DestOutputProfile
        header = profile.read_bytes()[:128]
        assert profile.N == 3 and len(profile.read_bytes()) == len(srgb_profile())
        # An ICC profile of a display, in RGB, to the PCS in XYZ, version 4.
        assert header[36:40] == b"acsp" and header[12:24] == b"mntrRGB XYZ "
        assert header[8] == 4

        fonts = [font for page in pdf.pages for font in _fonts(page.obj)]
        assert fonts and all(_embedded(font) for font in fonts), \
            [str(font.get("/BaseFont")) for font in fonts if not _embedded(font)]

        (spec,) = pdf.Root.AF
        assert spec.AFRelationship == "/Data" and str(spec.UF) == TRAIL_FILENAME
        assert str(spec.Desc)
        embedded = spec.EF.F
        assert embedded.Subtype == "/" + TRAIL_MIME
        assert int(embedded.Params.Size) == len(embedded.read_bytes())
        assert "/ModDate" in embedded.Params
        assert pdf.attachments[TRAIL_FILENAME].obj.objgen == spec.objgen
        trail = embedded.read_bytes()
        assert not pdf.is_encrypted and len(pdf.trailer.ID) == 2
    assert final.startswith(b"%PDF-1.7\n%") and max(final[10:14]) > 127
    check = check_trail(trail)
    assert check.readable and check.holds and check.document_id == document_id
    assert check.head == head
    assert json.loads(trail)["document"]["number"] == number

    verdict = seal_verdict(final, roots)
    assert verdict.intact and verdict.valid and verdict.trusted and verdict.covers_whole_file


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("template_key", "language"), [("act-ru", "ru"), ("contract-en", "en")])
def test_the_final_pdf_of_a_shipped_template_is_pdfa_3b_with_its_trail(app, admin, template_key,
                                                                        language, tmp_path):
    with app.app_context():
        document_id, final = _sealed_from(template_key, admin["id"])
        number = load(document_id).number
        # The trail ends where the seal began: the finalized event is recorded after it.
        head = events_for(document_id)[-2].hash
        roots = trust_roots()

    _assert_archival(final, document_id, language, number, head, roots)
    _assert_only_pdfa_1_differences(final, tmp_path)


def _assert_only_pdfa_1_differences(final: bytes, folder: Path) -> None:
    jars = [JAVA_LIBRARIES / name for name in PREFLIGHT_JARS]
    if shutil.which("java") is None or not all(jar.exists() for jar in jars):
        return  # no PDFBox here: the checks above stand alone
    path = folder / "final.pdf"
    path.write_bytes(final)
    report = subprocess.run(
        ["java", "-cp", ":".join(map(str, jars)), "org.apache.pdfbox.preflight.Validator_A1b",
         str(path)], capture_output=True, text=True, timeout=120).stdout
    errors = PREFLIGHT_ERROR.findall(report)
    assert report.strip() and errors, report  # it ran, and found part 3 not 1 at least
    unexpected = [(code, text) for code, text in errors if code not in ALLOWED_BY_PDFA_3]
    assert unexpected == [], unexpected
    assert all("widget" in text for code, text in errors if code == "5.3.1")


def test_an_upload_whose_fonts_are_not_embedded_keeps_its_trail_but_claims_no_pdfa(
        app, admin, caplog):
    with app.app_context(), caplog.at_level(logging.WARNING, "portal.sealing.certificate"):
        document_id = sent_document(admin["id"])
        fill_signatures(document_id)
        sign(document_id, "company")
        sign(document_id, "client")
        document = load(document_id)
        assert document.final_sha256, document.seal_error
        from portal.storage import read

        final = read(document.final_sha256)
        seal = seal_verdict(final, trust_roots())

    with pikepdf.open(io.BytesIO(final)) as pdf:
        assert "pdfaid:part" not in pdf.open_metadata()
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"
        assert check_trail(pdf.attachments[TRAIL_FILENAME].get_file().read_bytes()).holds
    assert seal.intact and seal.trusted
    assert "not PDF/A-3b" in caplog.text and "not embedded" in caplog.text


def test_the_decision_names_each_obstacle_and_passes_an_embedded_font():
    with pikepdf.open(io.BytesIO(_pdf_with_text("Helvetica"))) as pdf:
        assert pdfa_obstacles(pdf) == ("font Helvetica: not embedded (no font descriptor)",)
    with pikepdf.open(io.BytesIO(_pdf_with_text(FONT_NAME, FONT_NAME))) as pdf:
        assert pdfa_obstacles(pdf) == ()
    with pikepdf.open(io.BytesIO(fixture_bytes("encrypted-empty-password.pdf"))) as pdf:
        assert pdfa_obstacles(pdf) == ("the file is encrypted",)


def test_cmyk_content_keeps_the_claim_away():
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, initialFontName=register_font())
    pdf.setFillColorCMYK(0, 1, 1, 0)
    pdf.rect(10, 10, 50, 50, fill=1)
    pdf.showPage()
    pdf.save()
    final, obstacles = make_archival(buffer.getvalue(), _archive())
    assert obstacles == ("CMYK colour on page 1",)
    with pikepdf.open(io.BytesIO(final)) as archived:
        assert "pdfaid:part" not in archived.open_metadata()
        assert TRAIL_FILENAME in archived.attachments


def test_a_clean_file_is_claimed_pdfa_with_equal_info_and_xmp():
    final, obstacles = make_archival(_pdf_with_text(FONT_NAME, FONT_NAME), _archive())
    assert obstacles == ()
    with pikepdf.open(io.BytesIO(final)) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["dc:title"] == "Act"
        assert list(meta["dc:creator"]) == ["Signet Demo LLC"]
        assert set(meta["dc:language"]) == {"en"}
        assert meta["xmp:CreateDate"].startswith("2026-12-03T20:00:00")
        assert str(pdf.docinfo.CreationDate) == "D:20261203200000Z"
