"""The final PDF as an archival PDF/A-3b file carrying its audit trail.

Runs in the sandboxed child that composes the final PDF (the source is a file someone
uploaded): no Flask, no database. `make_archival` adds what every final PDF gets, PDF/A or
not: the audit trail as an associated file (/AF, /EmbeddedFiles), an sRGB output intent, XMP
metadata equal to the document information dictionary, print flags on annotations. It then
claims PDF/A-3b (pdfaid in the XMP) only when `pdfa_obstacles` finds nothing in the way: an
uploaded source may use fonts that are not embedded, CMYK without a CMYK output intent, LZW,
and so on, and such a file is given honestly without the claim.

The checks are the ones that can be made here without a full validator (veraPDF is on none of
the package sources this project installs from): they cover what our own pages (xhtml2pdf
templates, reportlab certificate and overlays) could get wrong and the common failures of
uploaded files, not every clause of ISO 19005-3. PDFBox's preflight (Debian's
libpdfbox2-java) checks PDF/A-1b only; run on our final PDF it finds nothing beyond what
PDF/A-1 forbids and PDF/A-3 allows (attachments, ICC v4, soft masks, the seal's zero-size
widget without an appearance); tests/sealing/test_pdfa.py runs it when it is installed.
"""

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, Stream, String

PDF_VERSION = "1.7"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
# Annotation flags (PDF 32000-1, 12.5.3): PDF/A wants Print set, Hidden, Invisible, NoView not.
INVISIBLE, HIDDEN, PRINT, NO_VIEW = 1, 2, 4, 32
# Annotations that need no appearance stream (PDF/A-2/3 6.3.3).
NO_APPEARANCE_NEEDED = ("/Popup", "/Link")
FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
FORBIDDEN_FILTER = "/LZWDecode"
CMYK_OPERATORS = "k K"
# A k or K operator, or the CMYK colour space by name, as it can appear in content bytes.
CMYK_HINT = re.compile(rb"(?:^|[\s\])>])[kK](?=[\s%]|$)|DeviceCMYK")
# A content stream is parsed to find CMYK colour operators; past this the check gives up
# (no claim) rather than parse a bomb.
MAX_CONTENT_BYTES = 32 * 1024 * 1024
MAX_FORM_DEPTH = 12
MAX_REASONS = 8


@dataclass(frozen=True)
class Archive:
    """What the final PDF says about itself, and the trail it carries."""

    title: str
    author: str  # the company
    description: str  # what it is and who signed it
    identifier: str  # the document's number
    language: str  # BCP 47 ("ru", "en")
    created: datetime
    trail: bytes
    trail_filename: str
    trail_mime: str
    trail_description: str


@functools.cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile made by Little CMS (through Pillow), once per process."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return profile.tobytes()


def make_archival(pdf_bytes: bytes, archive: Archive) -> tuple[bytes, tuple[str, ...]]:
    """The file with the trail attached, the output intent and the metadata; and why it is
    not PDF/A-3b (empty when it is, and then it says so in its XMP)."""
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        obstacles = pdfa_obstacles(pdf)
        _attach_trail(pdf, archive)
        _add_output_intent(pdf)
        _print_annotations(pdf)
        _describe(pdf, archive, claim_pdfa=not obstacles)
        out = BytesIO()
        # qpdf writes the binary comment after the header and a trailer /ID; object streams
        # off: a PDF/A-1 reader (and some validators) expect classic cross-reference tables.
        pdf.save(out, force_version=PDF_VERSION, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.disable,
                 stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue(), obstacles


# --- the decision ---------------------------------------------------------------------------

def pdfa_obstacles(pdf: Pdf) -> tuple[str, ...]:
    """Why this file cannot be claimed PDF/A-3b as it stands; empty when nothing was found.

    Checked: encryption, every font embedded (page, form, annotation appearance and Type 3
    resources, descendant fonts too), no LZW, no CMYK colour in content or images (the
    output intent is sRGB), no interpolated image, no transfer function or halftone, no
    annotation without an appearance (but zero-size ones), no form asking the viewer to draw
    the fields, no XFA, named optional content. Not checked: inline images, shadings and
    transparency groups in CMYK, fonts' glyph widths against their programs.
    """
    if pdf.is_encrypted:
        return ("the file is encrypted",)
    found: list[str] = []
    seen: set = set()
    for number, page in enumerate(pdf.pages, start=1):
        _check_resources(page.obj, f"page {number}", found, seen, 0)
        for annotation in page.obj.get("/Annots", Array()):
            _check_annotation(annotation, f"page {number}", found, seen)
    for obj in pdf.objects:
        if isinstance(obj, Stream) and FORBIDDEN_FILTER in _filters(obj):
            found.append("an LZW-compressed stream")
            break
    layers = pdf.Root.get("/OCProperties")
    if isinstance(layers, Dictionary) and not str(layers.get("/D", Dictionary()).get("/Name", "")):
        found.append("optional content without a configuration name")
    acroform = pdf.Root.get("/AcroForm")
    if isinstance(acroform, Dictionary):
        if acroform.get("/NeedAppearances") is True:
            found.append("form fields without appearances (NeedAppearances)")
        if "/XFA" in acroform:
            found.append("an XFA form")
    # Each reason once, in the order found; a file failing on every page says so a few times.
    return tuple(dict.fromkeys(found))[:MAX_REASONS]


def _check_resources(holder, where: str, found: list, seen: set, depth: int) -> None:
    """The fonts, images and forms of `holder` (a page or form), its content's colours."""
    if depth > MAX_FORM_DEPTH:
        found.append(f"forms nested too deep on {where}")
        return
    key = holder.objgen if holder.is_indirect else None
    if key is not None and key in seen:
        return
    if key is not None:
        seen.add(key)
    resources = holder.get("/Resources", Dictionary())
    if not isinstance(resources, Dictionary):
        return
    for _name, font in _items(resources.get("/Font")):
        problem = _font_problem(font)
        if problem:
            found.append(f"font {_font_name(font)}: {problem}")
        if font.get("/Subtype") == "/Type3":
            _check_resources(font, where, found, seen, depth + 1)
    for _name, xobject in _items(resources.get("/XObject")):
        if not isinstance(xobject, Stream):
            continue
        if xobject.get("/Subtype") == "/Image" and _is_cmyk(xobject.get("/ColorSpace")):
            found.append(f"a CMYK image on {where}")
        elif xobject.get("/Subtype") == "/Image" and xobject.get("/Interpolate") is True:
            found.append(f"an image asking to be interpolated on {where}")
        elif xobject.get("/Subtype") == "/Form":
            _check_resources(xobject, where, found, seen, depth + 1)
    for _name, state in _items(resources.get("/ExtGState")):
        if isinstance(state, Dictionary) and ("/TR" in state or "/HTP" in state or
                                              state.get("/TR2", Name.Default) != Name.Default):
            found.append(f"a transfer function or halftone on {where}")
    # The costly check (the content is read) only while the claim still stands.
    if not found and _uses_cmyk(holder, resources):
        found.append(f"CMYK colour on {where}")


def _check_annotation(annotation, where: str, found: list, seen: set) -> None:
    if not isinstance(annotation, Dictionary):
        return
    appearance = annotation.get("/AP")
    if annotation.get("/Subtype") in NO_APPEARANCE_NEEDED:
        return
    rect = [float(side) for side in annotation.get("/Rect", Array([0, 0, 0, 0]))]
    if len(rect) == 4 and rect[0] == rect[2] and rect[1] == rect[3]:
        return  # a zero-size annotation (an invisible signature field) shows nothing
    if not isinstance(appearance, Dictionary):
        found.append(f"an annotation without an appearance on {where}")
        return
    for _state, stream in _appearance_streams(appearance):
        _check_resources(stream, where, found, seen, 1)


def _appearance_streams(appearance: Dictionary):
    for _kind, value in appearance.items():
        if isinstance(value, Stream):
            yield _kind, value
        elif isinstance(value, Dictionary):
            yield from ((state, stream) for state, stream in value.items()
                        if isinstance(stream, Stream))


def _font_problem(font) -> str:
    if not isinstance(font, Dictionary):
        return "not a font dictionary"
    subtype = font.get("/Subtype")
    if subtype == "/Type3":
        return ""  # its glyphs are content streams in the file
    if subtype == "/Type0":
        descendants = font.get("/DescendantFonts", Array())
        if len(descendants) != 1:
            return "no descendant font"
        return _font_problem_of_descriptor(descendants[0])
    return _font_problem_of_descriptor(font)


def _font_problem_of_descriptor(font) -> str:
    descriptor = font.get("/FontDescriptor") if isinstance(font, Dictionary) else None
    if not isinstance(descriptor, Dictionary):
        return "not embedded (no font descriptor)"
    if not any(isinstance(descriptor.get(name), Stream) for name in FONT_FILES):
        return "not embedded"
    return ""


def _font_name(font) -> str:
    name = font.get("/BaseFont") if isinstance(font, Dictionary) else None
    return str(name)[1:] if name is not None else "(unnamed)"


def _items(dictionary):
    return dictionary.items() if isinstance(dictionary, Dictionary) else ()


def _filters(stream: Stream) -> list[str]:
    value = stream.get("/Filter")
    if isinstance(value, Array):
        return [str(item) for item in value]
    return [str(value)] if value is not None else []


def _is_cmyk(colour_space) -> bool:
    if colour_space == "/DeviceCMYK":
        return True
    if isinstance(colour_space, Array) and len(colour_space) > 1:
        family = colour_space[0]
        if family in ("/Indexed", "/Separation", "/DeviceN"):
            base = colour_space[1] if family == "/Indexed" else colour_space[2] \
                if len(colour_space) > 2 else None
            return _is_cmyk(base)
    return False


def _uses_cmyk(holder, resources: Dictionary) -> bool:
    """Whether the content paints in DeviceCMYK (k, K, or a CMYK colour space set by name)."""
    if any(_is_cmyk(space) for _name, space in _items(resources.get("/ColorSpace"))):
        return True
    streams = _content_streams(holder)
    if sum(int(stream.get("/Length", 0)) for stream in streams) > MAX_CONTENT_BYTES:
        return True  # not looked at: no claim
    try:
        content = b"\n".join(stream.read_bytes() for stream in streams)
        # Tokenising is the slow part: only content that may set CMYK at all is parsed.
        if not CMYK_HINT.search(content):
            return False
        operators = pikepdf.parse_content_stream(holder, CMYK_OPERATORS + " cs CS")
    except pikepdf.PdfError:
        return True
    for operands, operator in operators:
        if str(operator) in ("k", "K"):
            return True
        if operands and operands[0] == "/DeviceCMYK":
            return True
    return False


def _content_streams(holder) -> list[Stream]:
    if isinstance(holder, Stream):
        return [holder]
    contents = holder.get("/Contents")
    items = list(contents) if isinstance(contents, Array) else [contents]
    return [item for item in items if isinstance(item, Stream)]


# --- what every final PDF gets --------------------------------------------------------------

def _attach_trail(pdf: Pdf, archive: Archive) -> None:
    moment = _pdf_date(archive.created)
    spec = pikepdf.AttachedFileSpec(
        pdf, archive.trail, description=archive.trail_description,
        filename=archive.trail_filename, mime_type=archive.trail_mime,
        creation_date=moment, mod_date=moment, relationship=Name.Data)
    pdf.attachments[archive.trail_filename] = spec
    # The name tree's entry (qpdf keeps file specifications indirect): /AF names that very
    # dictionary, not a copy.
    reference = pdf.attachments[archive.trail_filename].obj
    if not reference.is_indirect:
        raise ValueError("the attached file's specification is not an indirect object")
    pdf.Root.AF = Array([reference])


def _add_output_intent(pdf: Pdf) -> None:
    profile = Stream(pdf, srgb_profile())
    profile.N = 3
    intent = pdf.make_indirect(Dictionary(
        Type=Name.OutputIntent, S=Name.GTS_PDFA1,
        OutputConditionIdentifier=String(OUTPUT_CONDITION),
        Info=String(OUTPUT_CONDITION), RegistryName=String("http://www.color.org"),
        DestOutputProfile=profile))
    pdf.Root.OutputIntents = Array([intent])


def _print_annotations(pdf: Pdf) -> None:
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", Array()):
            if not isinstance(annotation, Dictionary) or annotation.get("/Subtype") == "/Popup":
                continue
            flags = int(annotation.get("/F", 0))
            annotation.F = (flags | PRINT) & ~(INVISIBLE | HIDDEN | NO_VIEW)


def _describe(pdf: Pdf, archive: Archive, claim_pdfa: bool) -> None:
    """The document information dictionary and the XMP packet, saying the same things."""
    moment = _pdf_date(archive.created)
    for key in list(pdf.docinfo.keys()):
        del pdf.docinfo[key]
    pdf.docinfo.Title = archive.title
    pdf.docinfo.Author = archive.author
    pdf.docinfo.Subject = archive.description
    pdf.docinfo.Creator = "Signet"
    # No Producer: the seal's library writes its own name into the XMP packet and appends it
    # to an Info producer, and the two would then differ (PDF/A wants them equal).
    pdf.docinfo.CreationDate = moment
    pdf.docinfo.ModDate = moment
    pdf.Root.Lang = String(archive.language)
    if "/Metadata" in pdf.Root:
        del pdf.Root.Metadata
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta.load_from_docinfo(pdf.docinfo)
        if "pdf:Producer" in meta:
            del meta["pdf:Producer"]
        meta["dc:identifier"] = archive.identifier
        meta["dc:language"] = [archive.language]
        meta["xmp:MetadataDate"] = _xmp_date(archive.created)
        if claim_pdfa:
            meta["pdfaid:part"] = "3"
            meta["pdfaid:conformance"] = "B"


def _pdf_date(moment: datetime) -> str:
    return _utc(moment).strftime("D:%Y%m%d%H%M%SZ")


def _xmp_date(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
