"""Active content: found in every place it hides, removed without touching what pages show."""

import hashlib
import pickle
import subprocess
import sys
import time
import zlib
from io import BytesIO

import pikepdf
import pypdfium2
import pytest
from pikepdf import Array, Dictionary, Name, String
from PIL import Image, ImageChops
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from portal.pdfs import active
from tests.fixtures import fixture_bytes
from tests.hostile import active_pdfs
from tests.hostile.active_pdfs import ACTIVE_PDFS, CLEAN_PDFS, ORDINARY_URI, REFUSED
from tests.hostile.checks import active_keys_in

CLEANABLE = sorted(set(ACTIVE_PDFS) - REFUSED)
EVERY_FILE = sorted(ACTIVE_PDFS) + sorted(CLEAN_PDFS)


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    built = {name: build() for name, (build, _) in ACTIVE_PDFS.items()}
    return built | {name: build() for name, build in CLEAN_PDFS.items()}


@pytest.fixture(scope="module")
def cleaned(corpus) -> dict[str, tuple[bytes, tuple[active.Finding, ...]]]:
    return {name: active.remove_active_content(corpus[name]) for name in CLEANABLE}


def through_a_pipe(value):
    """What the sandbox's parent receives."""
    return pickle.loads(pickle.dumps(value))  # noqa: S301 (our own objects)


def kinds(findings) -> set[str]:
    return {finding.kind for finding in findings}


def renders(pdf_bytes: bytes) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return [page.render(scale=1).to_pil().convert("RGB") for page in document]
    finally:
        document.close()


def uris_in(pdf_bytes: bytes) -> list[str]:
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        return [str(annotation.A.URI) for page in pdf.pages
                for annotation in page.obj.get("/Annots", [])
                if "/A" in annotation and annotation.A.get("/S") == Name.URI]


# -- found --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ACTIVE_PDFS))
def test_every_hostile_file_shows_exactly_its_kinds(corpus, name):
    assert kinds(active.find_active_content(corpus[name])) == ACTIVE_PDFS[name][1]


@pytest.mark.parametrize("name", sorted(CLEAN_PDFS))
def test_ordinary_files_have_no_findings(corpus, name):
    assert active.find_active_content(corpus[name]) == ()


def test_findings_say_where_and_what(corpus):
    findings = active.find_active_content(corpus["everything.pdf"])
    details = {(finding.kind, finding.detail) for finding in findings}
    assert (active.LAUNCH, "page 1: cmd.exe") in details
    assert (active.EMBEDDED_FILES, "attachment 'invoice.exe'") in details
    assert (active.JAVASCRIPT, "document script 'a-init'") in details
    assert (active.JAVASCRIPT, "outline 'Chapter 1'") in details
    assert (active.SUBMIT_FORM, "page 1: https://collect.example/steal") in details
    assert (active.EXTRA_DATA, f"{len(active_pdfs.HTML_PREFIX)} bytes before the header") in details
    assert all(finding.kind in active.KINDS and finding.count >= 1 for finding in findings)


def test_a_shared_action_counts_once_and_a_repeated_one_by_occurrence():
    def two_links_one_launch(pdf):
        shared = pdf.make_indirect(active_pdfs._launch("cmd.exe"))
        active_pdfs._link(pdf, shared, slot=0)
        active_pdfs._link(pdf, shared, slot=1)
        active_pdfs._link(pdf, active_pdfs._launch("cmd.exe"), slot=2)

    data = active_pdfs._built("Shared", two_links_one_launch)
    assert active.find_active_content(data) == (
        active.Finding(active.LAUNCH, "page 1: cmd.exe", 2),)
    cleaned, _ = active.remove_active_content(data)
    assert active_keys_in(cleaned) == set()


def hidden_in_calculation_order(pdf):
    hidden = pdf.make_indirect(Dictionary(
        FT=Name.Tx, T=String("total"), AA=Dictionary(C=active_pdfs._javascript("1"))))
    active_pdfs._form(pdf).CO = Array([hidden])


def hidden_in_a_template_page(pdf):
    template = pdf.make_indirect(Dictionary(
        Type=Name.Page, MediaBox=Array([0, 0, 595, 842]),
        Annots=Array([Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 9, 9]),
                                 A=active_pdfs._launch("cmd.exe"))])))
    active_pdfs._names(pdf).Templates = Dictionary(Names=Array([String("spare"), template]))


def hidden_behind_a_popup(pdf):
    active_pdfs.add_file_attachment_annotation(pdf)
    (attachment,) = pdf.pages[0].Annots
    popup = active_pdfs._annotate(pdf, Dictionary(Subtype=Name.Popup, Parent=attachment,
                                                  Rect=Array([0, 0, 9, 9])))
    attachment.Popup = popup


def harmless_scripts_list(pdf):
    jump = Dictionary(S=Name.GoTo, D=active_pdfs._first_page_fit(pdf))
    active_pdfs._names(pdf).JavaScript = Dictionary(
        Names=Array([String("jump"), jump, String("junk"), 42]))


def javascript_on_a_field_parent(pdf):
    parent = pdf.make_indirect(Dictionary(T=String("group"), Kids=Array(),
                                          AA=Dictionary(V=active_pdfs._javascript("1"))))
    widget = active_pdfs._annotate(pdf, Dictionary(Subtype=Name.Widget, FT=Name.Tx,
                                                   T=String("child"), Parent=parent,
                                                   Rect=Array([72, 400, 200, 420])))
    parent.Kids.append(widget)
    active_pdfs._form(pdf).Fields.append(parent)


@pytest.mark.parametrize(("mutation", "expected"), [
    (hidden_in_calculation_order, {(active.ADDITIONAL_ACTIONS, "field 'total': C"),
                                   (active.JAVASCRIPT, "field 'total', trigger C")}),
    (hidden_in_a_template_page, {(active.LAUNCH, "template 'spare': cmd.exe")}),
    (hidden_behind_a_popup, {(active.EMBEDDED_FILES, "page 1: attached file 'report.exe'")}),
    (harmless_scripts_list, {(active.JAVASCRIPT, "document script 'jump'"),
                             (active.JAVASCRIPT, "document script 'junk'")}),
    (javascript_on_a_field_parent, {(active.ADDITIONAL_ACTIONS, "field 'group': V"),
                                    (active.JAVASCRIPT, "field 'group', trigger V")}),
])
def test_active_content_is_found_where_it_hides(mutation, expected):
    data = active_pdfs._built("Hidden", mutation)
    findings = active.find_active_content(data)
    assert {(finding.kind, finding.detail) for finding in findings} == expected
    cleaned, removed = active.remove_active_content(data)
    assert removed == findings
    assert active.find_active_content(cleaned) == ()
    assert active_keys_in(cleaned) == set()


@pytest.mark.parametrize(("uri", "safe"), [
    ("https://example.com/a?b=c", True),
    ("HTTP://example.com", True),
    ("mailto:office@example.com", True),
    ("tel:+15551234567", True),
    ("javascript:alert(1)", False),
    (" javascript:alert(1)", False),
    ("java\nscript:alert(1)", False),
    ("vbscript:msgbox", False),
    ("file:///etc/passwd", False),
    ("data:text/html,<script>", False),
    ("\\\\server\\share\\run.exe", False),
    ("//server/share", False),
    ("run.exe", False),
    ("ftp://example.com/file", False),
])
def test_links_are_safe_only_with_an_ordinary_scheme(uri, safe):
    findings = active.find_active_content(active_pdfs.with_links([uri]))
    assert (findings == ()) is safe


# -- removed ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CLEANABLE)
def test_removal_leaves_nothing_to_find(corpus, cleaned, name):
    result, removed = cleaned[name]
    assert result != corpus[name]
    assert removed == active.find_active_content(corpus[name])
    assert active.find_active_content(result) == ()
    assert active_keys_in(result) == set()


@pytest.mark.parametrize("name", [name for name, (_, expected) in sorted(ACTIVE_PDFS.items())
                                  if expected != {active.EXTRA_DATA}])
def test_the_check_sees_what_the_hostile_files_carry(corpus, name):
    assert active_keys_in(corpus[name])


@pytest.mark.parametrize("name", ["polyglot-html.pdf", "junk-after-eof.pdf", "everything.pdf"])
def test_the_result_starts_with_the_header_and_ends_at_the_end(cleaned, name):
    result, _ = cleaned[name]
    assert result.startswith(b"%PDF-")
    assert result.rstrip().endswith(b"%%EOF")
    assert b"<script>" not in result


@pytest.mark.parametrize("name", sorted(CLEAN_PDFS))
def test_a_clean_file_comes_back_as_the_same_bytes(corpus, name):
    data = corpus[name]
    result, removed = active.remove_active_content(data)
    assert result is data
    assert removed == ()
    assert hashlib.sha256(result).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize("name", CLEANABLE + sorted(CLEAN_PDFS))
def test_every_page_renders_exactly_as_before(corpus, name):
    result, _ = active.remove_active_content(corpus[name])
    before, after = renders(corpus[name]), renders(result)
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert old.getextrema() != ((255, 255),) * 3  # the page does draw something
        assert ImageChops.difference(old, new).getbbox() is None


@pytest.mark.parametrize("name", ["unsafe-uris.pdf", "everything.pdf"])
def test_ordinary_links_survive(corpus, cleaned, name):
    assert ORDINARY_URI in uris_in(corpus[name])
    assert uris_in(cleaned[name][0]) == [ORDINARY_URI]


def test_a_dangerous_action_is_cut_out_of_a_next_chain_keeping_what_follows(cleaned):
    with pikepdf.open(BytesIO(cleaned["next-chain-launch.pdf"][0])) as pdf:
        (link,) = pdf.pages[0].Annots
        assert str(link.A.S) == "/GoTo"
        assert (str(link.A.Next.S), str(link.A.Next.N)) == ("/Named", "/NextPage")


def test_the_clean_outline_item_stays_and_the_scripted_one_loses_its_action(cleaned):
    with pikepdf.open(BytesIO(cleaned["outline-javascript.pdf"][0])) as pdf:
        first = pdf.Root.Outlines.First
        assert str(first.Title) == "Chapter 1"
        assert "/A" not in first
        assert str(first.Next.Title) == "Chapter 2"
        assert "/Dest" in first.Next


def test_a_hybrid_xfa_form_keeps_its_acroform_fields(cleaned):
    with pikepdf.open(BytesIO(cleaned["hybrid-xfa.pdf"][0])) as pdf:
        assert "/XFA" not in pdf.Root.AcroForm
        assert [str(field.T) for field in pdf.Root.AcroForm.Fields] == ["amount"]


def test_fields_lose_their_scripts_but_stay(cleaned):
    with pikepdf.open(BytesIO(cleaned["additional-actions.pdf"][0])) as pdf:
        (field,) = pdf.Root.AcroForm.Fields
        assert str(field.T) == "amount"
        assert "/AA" not in field
        assert "/AA" not in pdf.Root
        assert "/AA" not in pdf.pages[0].obj


def test_a_dynamic_xfa_form_is_refused_and_reported(corpus):
    data = corpus["dynamic-xfa.pdf"]
    assert active.find_active_content(data) == (active.Finding(active.XFA, "dynamic form"),)
    with pytest.raises(active.DynamicXfaForm):
        active.remove_active_content(data)


def test_an_annotation_also_held_by_the_structure_tree_loses_its_payload():
    def tagged_attachment(pdf):
        active_pdfs.add_file_attachment_annotation(pdf)
        (annotation,) = pdf.pages[0].Annots
        reference = Dictionary(Type=Name.OBJR, Obj=annotation)
        element = Dictionary(Type=Name.StructElem, S=Name.Annot, K=Array([reference]))
        pdf.Root.StructTreeRoot = Dictionary(Type=Name.StructTreeRoot, K=element)

    data = active_pdfs._built("Tagged", tagged_attachment)
    cleaned, removed = active.remove_active_content(data)
    assert kinds(removed) == {active.EMBEDDED_FILES}
    assert active_keys_in(cleaned) == set()  # a shell without type or file remains
    assert active_pdfs.FAKE_EXE not in cleaned


# -- our own output and the fixtures ------------------------------------------------------

def test_reportlab_output_with_links_and_bookmarks_has_no_findings():
    out = BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1)
    canvas.drawString(72, 760, "Terms")
    canvas.bookmarkPage("terms")
    canvas.addOutlineEntry("Terms", "terms")
    canvas.linkURL("https://example.com", (72, 700, 200, 720))
    canvas.linkAbsolute("Terms", "terms", (72, 660, 200, 680))
    canvas.showPage()
    canvas.save()
    assert active.find_active_content(out.getvalue()) == ()


def test_xhtml2pdf_output_has_no_findings():
    from xhtml2pdf import pisa

    out = BytesIO()
    html = "<h1>Act</h1><p>See <a href='https://example.com/terms'>the terms</a>.</p>"
    assert not pisa.CreatePDF(html, dest=out).err
    data = out.getvalue()
    assert active.find_active_content(data) == ()
    assert active.remove_active_content(data)[0] is data


@pytest.mark.parametrize("name", ["plain.pdf", "three-pages.pdf", "rotated-90.pdf",
                                  "cropped-offset.pdf"])
def test_the_fixtures_are_clean(name):
    data = fixture_bytes(name)
    assert active.find_active_content(data) == ()
    assert active.remove_active_content(data)[0] is data


def test_an_unreadable_file_raises_pikepdfs_error():
    with pytest.raises(pikepdf.PdfError):
        active.find_active_content(fixture_bytes("text-file.pdf"))


# -- bytes outside the document -----------------------------------------------------------

def test_whitespace_after_the_end_and_incremental_updates_are_no_extra_data():
    data = active_pdfs.clean_text()
    assert active.find_active_content(data + b"\r\n\x00 \n") == ()
    with pikepdf.open(BytesIO(data)) as pdf:
        pdf.Root.PageMode = Name.UseNone
        updated = BytesIO()
        pdf.save(updated)
    appended = data + updated.getvalue()  # two %%EOF: the last one ends the file
    assert active.find_active_content(appended) == ()


def test_a_file_without_an_end_marker_is_rewritten():
    data = active_pdfs.clean_text()
    truncated = data[:data.rindex(b"%%EOF")]
    result, removed = active.remove_active_content(truncated)
    assert removed == (active.Finding(active.EXTRA_DATA, "no end-of-file marker"),)
    assert active.find_active_content(result) == ()


# -- bounded ------------------------------------------------------------------------------

def hand_written_pdf(bodies: list[bytes]) -> bytes:
    """Objects 1..n with a correct xref table; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1, xref_at)
    return bytes(out)


CATALOG_WITH_FORM = b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>"
ONE_PAGE = [b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>"]


def doubling_chain(template: bytes, first: int, levels: int, last: bytes) -> list[bytes]:
    """Objects each naming the next one twice: 2**levels paths, `levels` objects."""
    return [template % (first + level + 1, first + level + 1) for level in range(levels)] + [last]


def assert_quick(seconds: float, function, *args):
    started = time.perf_counter()
    result = function(*args)
    assert time.perf_counter() - started < seconds
    return result


@pytest.mark.parametrize("bodies", [
    pytest.param([CATALOG_WITH_FORM, *ONE_PAGE, *doubling_chain(
        b"<< /T (f) /Kids [%d 0 R %d 0 R] >>", 4, 60,
        b"<< /T (leaf) /AA << /K << /S /JavaScript /JS (1) >> >> /Kids [4 0 R] >>")],
        id="field kids"),
    pytest.param([CATALOG_WITH_FORM, *ONE_PAGE,
                  b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A 5 0 R >>",
                  *doubling_chain(b"<< /S /GoTo /D [3 0 R /Fit] /Next [%d 0 R %d 0 R] >>", 5,
                                  60, b"<< /S /Launch /F (cmd.exe) /Next 5 0 R >>")],
                 id="action chain"),
    pytest.param([b"<< /Type /Catalog /Pages 2 0 R /Outlines 4 0 R >>", *ONE_PAGE,
                  b"<< /First 5 0 R >>",
                  *doubling_chain(b"<< /Title (x) /First %d 0 R /Next %d 0 R >>", 5, 60,
                                  b"<< /Title (end) /A << /S /JavaScript /JS (1) >> "
                                  b"/Next 5 0 R >>")],
                 id="outline"),
    pytest.param([b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
                  *ONE_PAGE, *doubling_chain(b"<< /Kids [%d 0 R %d 0 R] >>", 4, 60,
                                             b"<< /Names [(s) << /S /JavaScript /JS (1) >>] "
                                             b"/Kids [4 0 R] >>")],
                 id="name tree"),
    pytest.param([CATALOG_WITH_FORM, *ONE_PAGE, *doubling_chain(
        b"[%d 0 R %d 0 R]", 4, 60, b"[1 0 R]")], id="nested arrays"),
])
def test_graphs_that_repeat_and_loop_are_walked_once(bodies):
    data = hand_written_pdf(bodies)
    found = assert_quick(1, active.find_active_content, data)
    cleaned, removed = assert_quick(1, active.remove_active_content, data)
    assert removed == found
    assert active.find_active_content(cleaned) == ()


def test_a_million_references_are_refused_before_being_read():
    references = b" ".join([b"4 0 R"] * 1_000_000)
    data = hand_written_pdf([b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields ["
                             + references + b"] >> >>", *ONE_PAGE, b"<< /T (f) >>"])
    with pytest.raises(active.TooManyObjects):
        assert_quick(3, active.find_active_content, data)


def test_a_long_chain_of_distinct_objects_stops_at_the_bound():
    count = 5_000
    items = [b"<< /Title (i) /Next %d 0 R >>" % (number + 1) for number in range(5, count + 4)]
    data = hand_written_pdf([b"<< /Type /Catalog /Pages 2 0 R /Outlines 4 0 R >>", *ONE_PAGE,
                             b"<< /First 5 0 R >>", *items, b"<< /Title (last) >>"])
    assert active.find_active_content(data) == ()
    with pytest.raises(active.TooManyObjects) as raised:
        active.find_active_content(data, max_objects=1_000)
    assert raised.value.limit == 1_000
    assert through_a_pipe(raised.value).limit == 1_000


def zeros_deflated(size: int) -> bytes:
    """A zlib stream inflating to `size` zero bytes (a multiple of 16 MiB), ~1/1000 of it."""
    block_size = 16 * 1024 * 1024
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(block_size)) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush(zlib.Z_FINISH)
    repeats = size // block_size
    adler = ((repeats * block_size) % 65521) << 16 | 1
    return b"\x78\xda" + block * repeats + end + adler.to_bytes(4, "big")


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return (b"<< /Length %d /Filter /FlateDecode %s >>\nstream\n" % (len(data), extra)
            + data + b"\nendstream")


LIMITED_CHILD = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (600 * 2**20, 600 * 2**20))
from portal.pdfs import active
data = sys.stdin.buffer.read()
started = time.perf_counter()
cleaned, removed = active.remove_active_content(data)
print(time.perf_counter() - started, len(cleaned), sorted({f.kind for f in removed}))
"""


def test_cleaning_copies_a_content_bomb_without_inflating_it():
    bomb = zeros_deflated(2 * 1024 ** 3)
    data = hand_written_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (1) >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        stream(bomb),
    ])
    child = subprocess.run([sys.executable, "-c", LIMITED_CHILD], input=data,
                           capture_output=True, check=True, timeout=60)
    seconds, size, removed = child.stdout.decode().split(maxsplit=2)
    assert float(seconds) < 2
    assert abs(int(size) - len(data)) < 1000  # the 2 MB of deflate, copied as they were
    assert removed == "['javascript', 'open_action']\n"


def test_a_metadata_bomb_is_refused_before_qpdf_writes_it_inflated():
    data = hand_written_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R "
        b"/OpenAction << /S /JavaScript /JS (1) >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        stream(zeros_deflated(64 * 1024 * 1024), b"/Type /Metadata /Subtype /XML"),
    ])
    with pytest.raises(active.MetadataTooLarge):
        assert_quick(2, active.remove_active_content, data)


def test_image_streams_are_copied_byte_for_byte():
    def scan_with_script(pdf):
        image = Image.effect_noise((600, 800), 60).convert("RGB")
        jpeg = BytesIO()
        image.save(jpeg, "JPEG", quality=85)
        xobject = pikepdf.Stream(pdf, jpeg.getvalue())
        xobject.update({"/Type": Name.XObject, "/Subtype": Name.Image, "/Width": 600,
                        "/Height": 800, "/ColorSpace": Name.DeviceRGB, "/BitsPerComponent": 8,
                        "/Filter": Name.DCTDecode})
        page = pdf.pages[0]
        page.obj.Resources.XObject = Dictionary(Scan=xobject)
        pdf.Root.OpenAction = active_pdfs._javascript("1")
        page.contents_add(pikepdf.Stream(pdf, b"q 300 0 0 400 150 300 cm /Scan Do Q"))

    data = active_pdfs._built("Scan", scan_with_script)
    cleaned, _ = active.remove_active_content(data)

    def raw_streams(pdf_bytes):
        with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
            page = pdf.pages[0].obj
            contents = page.Contents if isinstance(page.Contents, Array) else [page.Contents]
            return ([part.read_raw_bytes() for part in contents],
                    page.Resources.XObject.Scan.read_raw_bytes())

    assert raw_streams(cleaned) == raw_streams(data)
    assert ImageChops.difference(renders(data)[0], renders(cleaned)[0]).getbbox() is None


# -- the independent check ----------------------------------------------------------------

def with_revision(data: bytes, number: int, body: bytes) -> bytes:
    """`data` plus an incremental update that replaces object `number` with `body`."""
    previous = int(data[data.rindex(b"startxref") + 9:].split()[0])
    size = int(pikepdf.open(BytesIO(data)).trailer.Size)
    at = len(data) + 1
    update = b"\n%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(data) + len(update)
    update += b"xref\n%d 1\n%010d 00000 n \n" % (number, at)
    update += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size, previous, xref_at)
    return data + update


def test_the_check_sees_an_earlier_revision_that_find_leaves_alone():
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (1) >> >>"
    original = hand_written_pdf([catalog, *ONE_PAGE, b"<< /Type /Annot /Subtype /Link "
                                                     b"/Rect [0 0 9 9] >>"])
    updated = with_revision(original, 1, b"<< /Type /Catalog /Pages 2 0 R >>")
    # A viewer reads the last revision only: nothing runs, and the file is kept as it is.
    assert active.find_active_content(updated) == ()
    assert active_keys_in(updated) == {"/JS", "/JavaScript"}  # in the raw bytes only


def test_the_check_looks_inside_object_streams():
    with pikepdf.open(BytesIO(active_pdfs.page_pdf("Packed"))) as pdf:
        active_pdfs.add_launch_link(pdf)
        packed = BytesIO()
        pdf.save(packed, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    data = packed.getvalue()
    assert b"/Launch" not in data  # only inside the compressed object stream
    assert "/Launch" in active_keys_in(data)
    assert active_keys_in(active.remove_active_content(data)[0]) == set()


# -- across the pipe ----------------------------------------------------------------------

def test_results_and_refusals_pickle(corpus):
    findings = active.find_active_content(corpus["everything.pdf"])
    assert through_a_pipe(findings) == findings
    for error in (active.DynamicXfaForm(), active.TooManyObjects(5),
                  active.MetadataTooLarge(7)):
        copy = through_a_pipe(error)
        assert type(copy) is type(error)
        assert str(copy) == str(error)


def test_a_finding_is_plain_and_frozen():
    finding = active.Finding(active.LAUNCH, "page 1: cmd.exe", 1)
    with pytest.raises(AttributeError):
        finding.count = 2  # type: ignore[misc]
    assert isinstance(finding.detail, str)


def test_the_file_name_in_a_detail_is_short_and_printable():
    def long_name(pdf):
        name = "invoice\u202e" + "x" * 200 + ".exe"
        spec = active_pdfs._file_spec(pdf, name, b"MZ")
        active_pdfs._names(pdf).EmbeddedFiles = Dictionary(Names=Array([String(name), spec]))

    (finding,) = active.find_active_content(active_pdfs._built("Long name", long_name))
    assert len(finding.detail) <= len("attachment ''") + active.DETAIL_LENGTH
    assert finding.detail.isprintable()
