"""Find and remove what a PDF can run, open or carry: scripts, actions, attachments, media.

Runs inside the sandboxed child that handles files the portal did not make: no Flask, no
database, no translation. Results are plain values (frozen dataclasses of str and int) so
they cross the pipe; the parent translates the `kind` codes.

Only the document's interactive layer is walked: the catalog, the page tree, annotations,
form fields, outline items, action chains and the name trees that hold scripts, files and
media. That is everywhere a viewer looks for something to run or to offer the reader.
Content streams, fonts, images and the structure tree are never read: they run nothing,
and a content stream may inflate to gigabytes. A payload hidden in such a place (bytes in an
unused image) cannot be told from data by any scanner; what matters is that no viewer offers
or runs it.

Every indirect object is visited at most once (twice if it is both part of the structure and
an action, which only a forged file does), so cycles and graphs that repeat a reference at
every level cost what their distinct objects cost, and the walk stops with `TooManyObjects`
past a bound instead of taking the whole time limit.
"""

import re
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream, String

JAVASCRIPT = "javascript"  # a script: the document's script list, a JavaScript action, /JS
OPEN_ACTION = "open_action"  # the document does something on opening other than show a page
ADDITIONAL_ACTIONS = "additional_actions"  # /AA triggers: open, close, print, keystroke...
LAUNCH = "launch"  # starts a program or opens a file on the reader's computer
SUBMIT_FORM = "submit_form"  # sends the form's contents to an address
IMPORT_DATA = "import_data"  # loads form data from another file
EXTERNAL_ACTION = "external_action"  # opens another PDF or a file inside one (GoToR, GoToE)
UNKNOWN_ACTION = "unknown_action"  # an action type no standard defines (a viewer plug-in's)
UNSAFE_LINK = "unsafe_link"  # a link that is not http, https, mailto or tel
EMBEDDED_FILES = "embedded_files"  # attached files: the list, annotations, /AF, portfolios
RICH_MEDIA = "rich_media"  # video, sound, Flash, 3D: annotations, actions, renditions
XFA = "xfa"  # an XFA form, which viewers may show instead of the PDF's own pages
EXTRA_DATA = "extra_data"  # bytes before the header or after the end: another file inside

KINDS = (
    JAVASCRIPT, OPEN_ACTION, ADDITIONAL_ACTIONS, LAUNCH, SUBMIT_FORM, IMPORT_DATA,
    EXTERNAL_ACTION, UNKNOWN_ACTION, UNSAFE_LINK, EMBEDDED_FILES, RICH_MEDIA, XFA, EXTRA_DATA,
)

# Objects the walk may touch. Each costs ~20 µs (qpdf parses it on first touch): the bound
# keeps the worst case near 2.5 s, well inside the sandbox's time limit. An array is charged
# for its length before it is read, so one listing a million objects is refused at once.
# Real documents stay in the thousands (a 200-page form: pages, widgets and fields).
MAX_OBJECTS = 100_000

# XMP is a few KB, rarely a few MB with a thumbnail; qpdf writes it decoded (see below).
MAX_METADATA_BYTES = 16 * 1024 * 1024

SAFE_URI_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Actions that stay inside the document and the viewer. Hide only shows or hides this
# document's annotations; ResetForm clears fields; SetOCGState switches layers.
SAFE_ACTIONS = frozenset({
    "/GoTo", "/GoToDp", "/Named", "/Thread", "/SetOCGState", "/Trans", "/Hide", "/ResetForm",
    "/GoTo3DView", "/URI",
})
DANGEROUS_ACTIONS = {
    "/JavaScript": JAVASCRIPT,
    "/Launch": LAUNCH,
    "/SubmitForm": SUBMIT_FORM,
    "/ImportData": IMPORT_DATA,
    "/GoToR": EXTERNAL_ACTION,
    "/GoToE": EXTERNAL_ACTION,
    "/Rendition": RICH_MEDIA,
    "/Sound": RICH_MEDIA,
    "/Movie": RICH_MEDIA,
    "/RichMediaExecute": RICH_MEDIA,
}
DANGEROUS_ANNOTATIONS = {
    "/FileAttachment": EMBEDDED_FILES,
    "/RichMedia": RICH_MEDIA,
    "/Screen": RICH_MEDIA,
    "/Movie": RICH_MEDIA,
    "/Sound": RICH_MEDIA,
    "/3D": RICH_MEDIA,
}
# Name trees in /Names dropped whole, and how their entries are reported.
DROPPED_NAME_TREES = {
    "/JavaScript": (JAVASCRIPT, "document script"),
    "/EmbeddedFiles": (EMBEDDED_FILES, "attachment"),
    "/Renditions": (RICH_MEDIA, "rendition"),
    "/AlternatePresentations": (RICH_MEDIA, "slide show"),
}
# Name trees whose values are page objects (named pages, hidden templates a script can
# spawn): their annotations can carry actions like any page's.
PAGE_NAME_TREES = ("/Pages", "/Templates")
# What a removed annotation keeps, for references the walk does not follow (the structure
# tree's /OBJR): its place, no type (viewers ignore it), none of its payload.
HARMLESS_ANNOTATION_KEYS = frozenset({
    "/Type", "/Rect", "/P", "/NM", "/M", "/F", "/StructParent", "/Contents",
})
# Annotations reach other annotations through these; a removed one must not stay linked.
ANNOTATION_LINKS = frozenset({"/Popup", "/IRT", "/Parent"})
ACTION_SLOTS = frozenset({"/A", "/PA"})
# A node with none of these has nothing to report and nothing to lead the walk further.
STRUCTURE_KEYS = frozenset({
    "/AA", "/AF", "/JS", "/Annots", "/Kids", "/First", "/Next"}) | ACTION_SLOTS | ANNOTATION_LINKS
PDF_WHITESPACE = b"\x00\t\n\x0c\r "
DETAIL_LENGTH = 60

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Browsers drop these anywhere in a URL, so "java\tscript:" is javascript:.
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")

# Where a node was met: names its context in the report and what its /Kids are.
PAGE, TEMPLATE, ANNOTATION, FIELD, OUTLINE, ACTION = (
    "page", "template", "annotation", "field", "outline", "action")


@dataclass(frozen=True)
class Finding:
    """Active content of one kind, where it is (untranslated, short) and how many."""

    kind: str
    detail: str
    count: int = 1


class DynamicXfaForm(Exception):
    """The pages are drawn by the viewer from XFA: without it the document is not what was
    sent, so it cannot be cleaned, only refused."""


class TooComplex(Exception):
    """Examining or rewriting the file would pass a bound: refuse it as too complex."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


class TooManyObjects(TooComplex):
    """The interactive layer has more objects to examine than the bound allows."""

    def __str__(self) -> str:
        return f"more than {self.limit} objects to examine for active content"


class MetadataTooLarge(TooComplex):
    """The XMP metadata inflates past the bound: qpdf writes it out decoded."""

    def __str__(self) -> str:
        return f"the XMP metadata inflates to more than {self.limit} bytes"


class CleaningFailed(RuntimeError):
    """The rewritten file still carries active content (a defect here, never a user error)."""


def find_active_content(pdf_bytes: bytes, max_objects: int = MAX_OBJECTS
                        ) -> tuple[Finding, ...]:
    """What active content the file carries, in the order of KINDS; () for a clean file.

    Raises pikepdf's error for a file qpdf cannot read, TooManyObjects past the bound.
    """
    with _opened(pdf_bytes) as pdf:
        walk = _Walk(pdf, max_objects, cleaning=False)
        walk.run()
    return walk.findings() + _extra_data(pdf_bytes)


def remove_active_content(pdf_bytes: bytes, max_objects: int = MAX_OBJECTS
                          ) -> tuple[bytes, tuple[Finding, ...]]:
    """The file without its active content, and what was removed.

    A clean file comes back as the very same bytes object, so its sha256 does not change.
    Raises DynamicXfaForm for a form whose pages only exist in XFA, TooComplex past a bound
    (TooManyObjects, MetadataTooLarge), pikepdf's error for a file qpdf cannot read.
    """
    with _opened(pdf_bytes) as pdf:
        walk = _Walk(pdf, max_objects, cleaning=True)
        walk.run()
        removed = walk.findings() + _extra_data(pdf_bytes)
        if not removed:
            return pdf_bytes, ()
        if walk.dynamic_xfa:
            raise DynamicXfaForm()
        walk.neutralize_removed_objects()
        _check_metadata_size(pdf)
        cleaned = _save_untouched_streams(pdf)
    left = find_active_content(cleaned, max_objects)
    if left:
        raise CleaningFailed(f"still present after cleaning: {left}")
    return cleaned, removed


def _opened(pdf_bytes: bytes) -> pikepdf.Pdf:
    return pikepdf.open(BytesIO(pdf_bytes))


def _save_untouched_streams(pdf: pikepdf.Pdf) -> bytes:
    """The rewritten file, every stream's bytes copied as they are.

    Decoding a page's content would inflate a deflate bomb and recompressing a scan costs
    seconds, so nothing is decoded or recompressed; nor is the XMP metadata read to fix its
    version (it is a stream like any other).
    """
    out = BytesIO()
    with warnings.catch_warnings():
        # pikepdf warns about widgets missing from /AcroForm: the file came that way.
        warnings.simplefilter("ignore")
        pdf.save(
            out,
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            compress_streams=False,
            recompress_flate=False,
            object_stream_mode=pikepdf.ObjectStreamMode.preserve,
            fix_metadata_version=False,
            deterministic_id=True,
        )
    return out.getvalue()


def _check_metadata_size(pdf: pikepdf.Pdf) -> None:
    """Refuse a metadata bomb before qpdf writes it: it always writes the document's XMP
    decoded (for PDF/A readers), whatever the decode level asked for."""
    metadata = pdf.Root.get(Name.Metadata)
    if not isinstance(metadata, Stream):
        return
    raw = metadata.read_raw_bytes()  # as stored: never more than the file itself
    filters = _as_list(metadata.get(Name.Filter))
    if not filters:
        return
    if filters == [Name.FlateDecode]:
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(raw, MAX_METADATA_BYTES + 1)
        except zlib.error:
            return  # qpdf writes a stream it cannot decode unchanged
        if len(inflated) > MAX_METADATA_BYTES:
            raise MetadataTooLarge(MAX_METADATA_BYTES)
        return
    # Other filters on XMP are rare; their worst expansion (LZW, a few hundred to one) is
    # harmless on a small stream.
    if len(raw) > MAX_METADATA_BYTES // 512:
        raise MetadataTooLarge(MAX_METADATA_BYTES)


def _extra_data(pdf_bytes: bytes) -> tuple[Finding, ...]:
    """Bytes outside the PDF: what makes a file also an HTML page, a ZIP or an executable."""
    findings = []
    header_at = pdf_bytes.find(b"%PDF-")
    if header_at != 0:
        what = "no PDF header" if header_at < 0 else f"{header_at} bytes before the header"
        findings.append(Finding(EXTRA_DATA, what))
    end_at = pdf_bytes.rfind(b"%%EOF")
    if end_at < 0:
        findings.append(Finding(EXTRA_DATA, "no end-of-file marker"))
    else:
        trailing = pdf_bytes[end_at + len(b"%%EOF"):].strip(PDF_WHITESPACE)
        if trailing:
            findings.append(Finding(EXTRA_DATA, f"{len(trailing)} bytes after the end"))
    return tuple(findings)


class _Walk:
    """One pass over the interactive layer: records findings and, when cleaning, removes
    each one from its holder as it is met."""

    def __init__(self, pdf: pikepdf.Pdf, max_objects: int, cleaning: bool):
        self.pdf = pdf
        self.cleaning = cleaning
        self.limit = max_objects
        self.spent = 0
        self.visited: set[tuple[tuple[int, int], bool]] = set()
        self.counts: dict[tuple[str, str], int] = {}
        self.reported: set[tuple[str, tuple[int, int]]] = set()
        self.pending: list[tuple[object, str, str]] = []
        self.pages_seen = 0
        self.dynamic_xfa = False
        # Indirect objects removed from every place the walk saw them, emptied at the end
        # for places it does not look (the structure tree keeps references to annotations).
        self.removed_actions: list[Dictionary] = []
        self.removed_annotations: list[Dictionary] = []
        self.removed_file_specs: list[Dictionary] = []

    def run(self) -> None:
        with pikepdf.explicit_conversion():
            root = _value(self.pdf.trailer, "/Root")
            if not isinstance(root, Dictionary):
                return
            self.visit_catalog(root)
            while self.pending:
                self.visit(*self.pending.pop())

    def findings(self) -> tuple[Finding, ...]:
        order = {kind: position for position, kind in enumerate(KINDS)}
        ranked = sorted(self.counts.items(), key=lambda item: order[item[0][0]])
        return tuple(Finding(kind, detail, count) for (kind, detail), count in ranked)

    # -- bookkeeping ---------------------------------------------------------------------

    def spend(self, amount: int = 1) -> None:
        self.spent += amount
        if self.spent > self.limit:
            raise TooManyObjects(self.limit)

    def report(self, kind: str, detail: str, offender=None) -> None:
        """Count a finding once per offending indirect object, however many paths reach it."""
        if offender is not None and offender.is_indirect:
            key = (kind, offender.objgen)
            if key in self.reported:
                return
            self.reported.add(key)
        self.counts[(kind, detail)] = self.counts.get((kind, detail), 0) + 1

    def push(self, node, role: str, context: str, paid: bool = False) -> None:
        """Queue a node to visit; `paid` when its array was charged for as a whole."""
        if not paid:
            self.spend()
        if isinstance(node, Dictionary | Stream):
            self.pending.append((node, role, context))

    def first_visit(self, node, role: str) -> bool:
        """Each object once as an action and once as part of the document's structure: a
        node met as a page, a field and an annotation is looked at for all three at once."""
        if not node.is_indirect:
            return True  # a direct object has exactly one holder
        key = (node.objgen, role == ACTION)
        if key in self.visited:
            return False
        self.visited.add(key)
        return True

    def drop(self, holder, key: str) -> None:
        if self.cleaning and key in holder:
            del holder[key]

    # -- the catalog ---------------------------------------------------------------------

    def visit_catalog(self, root: Dictionary) -> None:
        self.check_common(root, root.keys(), "document")
        self.check_open_action(root)
        if "/Collection" in root:
            self.report(EMBEDDED_FILES, "portfolio")
            self.drop(root, "/Collection")
        names = _value(root, "/Names")
        if isinstance(names, Dictionary):
            self.check_name_trees(names)
        acroform = _value(root, "/AcroForm")
        if isinstance(acroform, Dictionary):
            self.check_xfa(root, acroform)
        # Last pushed, first walked: the page tree goes first so pages number in order.
        self.push(_value(root, "/Outlines"), OUTLINE, "outline")
        if isinstance(acroform, Dictionary):
            # The calculation order may name hidden fields the field list leaves out: their
            # calculate scripts run all the same.
            self.check_annotation_list(acroform, "/CO", FIELD, "form")
            self.check_annotation_list(acroform, "/Fields", FIELD, "form")
        self.push(_value(root, "/Pages"), PAGE, "")

    def check_open_action(self, root: Dictionary) -> None:
        action = _value(root, "/OpenAction")
        if not _is_action(action) or _is_plain_go_to(action):
            return  # a destination: the page and zoom to open at
        chain = self.chain_of(action)
        self.report(OPEN_ACTION, ", ".join(_action_type(link)[1:] for link in chain[:5]))
        self.report_dangerous(chain, "open action")
        self.drop(root, "/OpenAction")

    def check_name_trees(self, names: Dictionary) -> None:
        for tree_key, (kind, label) in DROPPED_NAME_TREES.items():
            if tree_key not in names:
                continue
            entries = list(self.name_tree_entries(_value(names, tree_key)))
            for name, value in entries:
                self.report_tree_entry(kind, label, name, value)
            if not entries:
                self.report(kind, f"{label} list (empty)")
            self.drop(names, tree_key)
        for tree_key in PAGE_NAME_TREES:
            for name, page in self.name_tree_entries(_value(names, tree_key)):
                self.push(page, TEMPLATE, f"template '{name}'")

    def report_tree_entry(self, kind: str, label: str, name: str, value) -> None:
        if kind == JAVASCRIPT and _is_action(value):
            self.report(kind, f"{label} '{name}'", value)
            self.report_dangerous(self.chain_of(value)[1:], f"{label} '{name}'")
            return
        if kind == EMBEDDED_FILES:
            self.report(kind, f"{label} '{_file_name(value) or name}'", value)
            self.note_file_spec(value)
            return
        self.report(kind, f"{label} '{name}'", value)

    def check_xfa(self, root: Dictionary, acroform: Dictionary) -> None:
        if "/XFA" not in acroform:
            return
        self.dynamic_xfa = _is_true(_value(root, "/NeedsRendering"))
        self.report(XFA, "dynamic form" if self.dynamic_xfa else "form")
        self.drop(acroform, "/XFA")

    # -- nodes ---------------------------------------------------------------------------

    def visit(self, node, role: str, context: str) -> None:
        if not self.first_visit(node, role):
            return
        keys = node.keys()  # one call, then set lookups: pikepdf's own are ~1.5 µs each
        if role == ACTION:
            if "/Next" in keys:
                self.visit_action(node, context)
            return
        if role == PAGE and "/Kids" not in keys:
            self.pages_seen += 1
            context = f"page {self.pages_seen}"
        if keys.isdisjoint(STRUCTURE_KEYS):
            return
        context = self.context_of(node, keys, role, context)
        self.check_common(node, keys, context)
        for slot in ACTION_SLOTS & keys:
            self.check_action_slot(node, slot, context)
        for key in ANNOTATION_LINKS & keys:
            if _dangerous_annotation(node[key]):
                self.remove_annotation(node[key], context)
                self.drop(node, key)
        if "/Annots" in keys:
            self.check_annotation_list(node, "/Annots", ANNOTATION, context)
        if "/Kids" in keys:
            kids_role = role if role in (PAGE, TEMPLATE) else FIELD
            self.check_annotation_list(node, "/Kids", kids_role, context)
        if role == OUTLINE or "/First" in keys:
            self.push(_value(node, "/Next"), OUTLINE, "outline")
            self.push(_value(node, "/First"), OUTLINE, "outline")

    def context_of(self, node, keys: set[str], role: str, context: str) -> str:
        """Where a node is, as the report names it: field 'total', outline 'Terms'."""
        if role == FIELD and "/T" in keys:
            return f"field '{_text(node['/T'])}'"
        if role == OUTLINE and "/Title" in keys:
            return f"outline '{_text(node['/Title'])}'"
        return context

    def check_common(self, node, keys: set[str], context: str) -> None:
        """What any node of the interactive layer may carry, wherever it sits."""
        if "/AA" in keys:
            self.report_additional_actions(node, node["/AA"], context)
            self.drop(node, "/AA")
        if "/AF" in keys:
            self.report_associated_files(node["/AF"], context)
            self.drop(node, "/AF")
        if "/JS" in keys:
            self.report(JAVASCRIPT, context, node)
            self.drop(node, "/JS")

    def report_additional_actions(self, holder, additional, context: str) -> None:
        triggers = list(additional.keys()) if isinstance(additional, Dictionary) else []
        self.spend(len(triggers))
        listed = ", ".join(trigger[1:] for trigger in triggers[:8])
        self.report(ADDITIONAL_ACTIONS, f"{context}: {listed}" if listed else context, holder)
        for trigger in triggers:
            action = _value(additional, trigger)
            if _is_action(action):
                self.report_dangerous(self.chain_of(action), f"{context}, trigger {trigger[1:]}")

    def report_associated_files(self, associated, context: str) -> None:
        specs = list(associated) if isinstance(associated, Array) else [associated]
        self.spend(len(specs))
        named = [spec for spec in specs if isinstance(spec, Dictionary | String)]
        for spec in named:
            self.report(EMBEDDED_FILES, f"{context}: associated file '{_file_name(spec)}'", spec)
            self.note_file_spec(spec)
        if not named:
            self.report(EMBEDDED_FILES, f"{context}: associated files")

    # -- annotations ---------------------------------------------------------------------

    def check_annotation_list(self, holder, key: str, role: str, context: str) -> None:
        """Remove media and attachment annotations from a list; walk the others."""
        items = _value(holder, key)
        if not isinstance(items, Array):
            return
        self.spend(len(items))
        doomed, kept = [], []
        for index, item in enumerate(items):
            if _dangerous_annotation(item):
                self.remove_annotation(item, context)
                doomed.append(index)
            else:
                kept.append(item)
        for item in reversed(kept):  # walked in document order: pages number as viewers do
            self.push(item, role, context, paid=True)
        if self.cleaning:
            for index in reversed(doomed):
                del items[index]

    def remove_annotation(self, annotation, context: str) -> None:
        subtype = str(_value(annotation, "/Subtype"))
        kind = DANGEROUS_ANNOTATIONS[subtype]
        if kind == EMBEDDED_FILES:
            spec = _value(annotation, "/FS")
            self.report(kind, f"{context}: attached file '{_file_name(spec)}'", annotation)
            self.note_file_spec(spec)
        else:
            self.report(kind, f"{context}: {subtype[1:]} annotation", annotation)
        if annotation.is_indirect:
            self.removed_annotations.append(annotation)

    # -- actions -------------------------------------------------------------------------

    def check_action_slot(self, holder, key: str, context: str) -> None:
        """An action a click or a bookmark runs: kept if harmless, else the slot goes."""
        action = _value(holder, key)
        if not _is_action(action):
            return
        if _danger_of(action) is None:
            self.push(action, ACTION, context)
            return
        self.report_dangerous(self.chain_of(action), context)
        self.drop(holder, key)

    def visit_action(self, action, context: str) -> None:
        """Cut dangerous actions out of this action's /Next chain, keeping what follows them."""
        following = _value(action, "/Next")
        if following is None:
            return
        kept, cut = [], False
        stack = list(reversed(_as_list(following)))
        seen: set[tuple[int, int]] = set()
        while stack:
            self.spend()
            link = stack.pop()
            if not _is_action(link) or _danger_of(link) is None:
                kept.append(link)
                self.push(link, ACTION, context, paid=True)
                continue
            cut = True
            self.report_one(link, context)
            if link.is_indirect:
                if link.objgen in seen:
                    continue
                seen.add(link.objgen)
            stack.extend(reversed(_as_list(_value(link, "/Next"))))
        if cut and self.cleaning:
            self.replace_next(action, kept)

    @staticmethod
    def replace_next(action, kept: list) -> None:
        if not kept:
            del action["/Next"]
        elif len(kept) == 1:
            action["/Next"] = kept[0]
        else:
            action["/Next"] = Array(kept)

    def chain_of(self, head) -> list:
        """The action and every action its /Next chain reaches, each once."""
        chain, stack = [], [head]
        seen: set[tuple[int, int]] = set()
        while stack:
            self.spend()
            link = stack.pop()
            if not _is_action(link):
                continue
            if link.is_indirect:
                if link.objgen in seen:
                    continue
                seen.add(link.objgen)
            chain.append(link)
            stack.extend(reversed(_as_list(_value(link, "/Next"))))
        return chain

    def report_dangerous(self, chain: list, context: str) -> None:
        for link in chain:
            if _danger_of(link) is not None:
                self.report_one(link, context)

    def report_one(self, action, context: str) -> None:
        what = _action_target(action)
        detail = f"{context}: {what}" if what else context
        for kind in _kinds_of(action):
            self.report(kind, detail, action)
        if action.is_indirect:
            self.removed_actions.append(action)

    # -- names and files -----------------------------------------------------------------

    def name_tree_entries(self, tree) -> Iterator[tuple[str, object]]:
        """(name, value) of a name tree, through its /Kids, each node once."""
        stack, seen = [tree], set()
        while stack:
            self.spend()
            node = stack.pop()
            if not isinstance(node, Dictionary):
                continue
            if node.is_indirect:
                if node.objgen in seen:
                    continue
                seen.add(node.objgen)
            pairs = _value(node, "/Names")
            if isinstance(pairs, Array):
                self.spend(len(pairs))
                flat = list(pairs)
                for name, value in zip(flat[::2], flat[1::2], strict=False):
                    yield _text(name), value
            kids = _value(node, "/Kids")
            if isinstance(kids, Array):
                stack.extend(reversed(list(kids)))

    def note_file_spec(self, spec) -> None:
        if isinstance(spec, Dictionary) and spec.is_indirect:
            self.removed_file_specs.append(spec)

    def neutralize_removed_objects(self) -> None:
        """Empty what was removed, for references outside the walk (structure tree, custom
        keys): they would otherwise keep the payload in the file."""
        with pikepdf.explicit_conversion():
            for action in self.removed_actions:
                for key in list(action.keys()):
                    del action[key]
            for annotation in self.removed_annotations:
                for key in list(annotation.keys()):
                    if key not in HARMLESS_ANNOTATION_KEYS:
                        del annotation[key]
            for spec in self.removed_file_specs:
                for key in ("/EF", "/RF"):
                    if key in spec:
                        del spec[key]


# -- what objects are --------------------------------------------------------------------

def _value(obj, key: str):
    """obj[key], or None. Cheaper than pikepdf's get(), which costs ~3 µs on a missing key:
    on a walk of 200,000 fields that was most of the time."""
    return obj[key] if key in obj else None  # noqa: SIM401


def _is_action(obj) -> bool:
    return isinstance(obj, Dictionary) and isinstance(_value(obj, "/S"), Name)


def _action_type(action) -> str:
    return str(_value(action, "/S"))


def _is_plain_go_to(action) -> bool:
    return _action_type(action) == "/GoTo" and "/Next" not in action


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


def _kinds_of(action) -> list[str]:
    """Every kind an action counts as: a Rendition carrying a script is media and script."""
    kinds = []
    danger = _danger_of(action)
    if danger is not None:
        kinds.append(danger)
    if "/JS" in action and JAVASCRIPT not in kinds:
        kinds.append(JAVASCRIPT)
    return kinds


def _danger_of(action) -> str | None:
    """The kind of a harmful action; None for one that stays inside the document."""
    action_type = _action_type(action)
    if "/JS" in action and action_type != "/JavaScript":
        return DANGEROUS_ACTIONS.get(action_type, JAVASCRIPT)
    if action_type in DANGEROUS_ACTIONS:
        return DANGEROUS_ACTIONS[action_type]
    if action_type == "/URI":
        return None if _is_safe_uri(_value(action, "/URI")) else UNSAFE_LINK
    if action_type == "/Thread" and "/F" in action:
        return EXTERNAL_ACTION  # an article thread in another file
    if action_type in SAFE_ACTIONS:
        return None
    return UNKNOWN_ACTION


def _is_safe_uri(uri) -> bool:
    """An absolute http(s), mailto or tel address: nothing a relative path, file:, data:,
    javascript: or a UNC path could do."""
    if not isinstance(uri, String):
        return True  # no address: the link goes nowhere
    text = _IGNORED_IN_URLS.sub("", bytes(uri).decode("latin-1"))
    scheme = _SCHEME.match(text)
    return scheme is not None and scheme.group(1).lower() in SAFE_URI_SCHEMES


def _action_target(action) -> str:
    """What an action points at, for the reader of the report: a program, an address."""
    action_type = _action_type(action)
    if action_type == "/URI":
        uri = _value(action, "/URI")
        return _text(String(bytes(uri).decode("latin-1"))) if isinstance(uri, String) else ""
    if action_type == "/Launch":
        windows = _value(action, "/Win")
        if isinstance(windows, Dictionary) and _value(windows, "/F") is not None:
            return _text(_value(windows, "/F"))
    if "/F" in action:
        return _file_name(_value(action, "/F"))
    return "" if action_type == "/JavaScript" else action_type[1:]


def _dangerous_annotation(obj) -> bool:
    return isinstance(obj, Dictionary) and str(_value(obj, "/Subtype")) in DANGEROUS_ANNOTATIONS


def _file_name(spec) -> str:
    if isinstance(spec, String):
        return _text(spec)
    if isinstance(spec, Dictionary):
        for key in ("/UF", "/F", "/DOS", "/Unix"):
            if isinstance(_value(spec, key), String):
                return _text(_value(spec, key))
    return ""


def _is_true(value) -> bool:
    return isinstance(value, pikepdf.Boolean) and bool(value)


def _text(value) -> str:
    """A short printable rendering of a PDF string or name for a report line."""
    if isinstance(value, String):
        text = str(value)
    elif isinstance(value, Name):
        text = str(value)[1:]
    else:
        return ""
    text = "".join(char if char.isprintable() else " " for char in text).strip()
    return text if len(text) <= DETAIL_LENGTH else text[:DETAIL_LENGTH - 1] + "…"
