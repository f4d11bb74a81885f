"""Does a PDF still carry active content? Independent of the code that removes it.

`active_keys_in` looks twice: at every object qpdf can reach through the cross-reference
(including those packed in object streams and those nothing refers to), and at the raw bytes
(every object written in the file, old revisions included, and the inside of every object
stream it finds, inflated). Use it on any PDF the portal sends or seals.
"""

import re
import zlib
from io import BytesIO

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream, String

# Keys whose presence is active content wherever they appear.
ACTIVE_KEYS = frozenset({
    "/JS", "/AA", "/XFA", "/EmbeddedFiles", "/EF", "/RichMediaContent", "/3DD",
})
# Names that are active content as a value (an action type, an annotation or stream type);
# /JavaScript is also the key of the document's script list.
ACTIVE_NAMES = frozenset({
    "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/EmbeddedFile", "/RichMedia",
    "/GoToR", "/GoToE", "/Rendition", "/RichMediaExecute", "/FileAttachment", "/Screen",
    "/Sound", "/Movie",
})
SAFE_URI_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# An /OpenAction that is a destination (an array) or a plain jump is no active content.
HARMLESS_OPEN_ACTIONS = frozenset({"/GoTo"})
RAW_NAMES = ACTIVE_KEYS | ACTIVE_NAMES
# Inflating an object stream stops here: a bomb must not take the test run down.
MAX_INFLATED = 64 * 1024 * 1024

_NAME_TOKEN = re.compile(rb"/([^\s/\[\]()<>{}%]*)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM_START = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")
_OBJECT_START = re.compile(rb"\d+\s+\d+\s+obj\b")
_DIRECT_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")


def active_keys_in(pdf_bytes: bytes) -> set[str]:
    """Every active-content key or name found in the file, e.g. {"/JS", "/Launch"}."""
    return _keys_in_objects(pdf_bytes) | _keys_in_raw_bytes(pdf_bytes)


def _keys_in_objects(pdf_bytes: bytes) -> set[str]:
    found: set[str] = set()
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf, pikepdf.explicit_conversion():
        for obj in [pdf.trailer, *pdf.objects]:
            _collect(obj, found)
    return found


def _collect(obj, found: set[str]) -> None:
    """Keys and names of one object and of the direct objects inside it."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, Dictionary | Stream):
            for key, value in item.items():
                if key in ACTIVE_KEYS or key == "/JavaScript":
                    found.add(key)
                if key == "/OpenAction" and _is_active_open_action(value):
                    found.add(key)
                if key == "/URI" and isinstance(value, String) and not _is_safe_uri(value):
                    found.add("/URI")
                if _is_direct(value):
                    stack.append(value)
        elif isinstance(item, Array):
            stack.extend(element for element in item if _is_direct(element))
        elif isinstance(item, Name) and str(item) in ACTIVE_NAMES:
            found.add(str(item))


def _is_direct(value) -> bool:
    return value is not None and not value.is_indirect  # pikepdf gives PDF null as None


def _is_active_open_action(value) -> bool:
    if not isinstance(value, Dictionary):
        return False
    return str(value.get(Name.S)) not in HARMLESS_OPEN_ACTIONS or Name.Next in value


def _is_safe_uri(uri) -> bool:
    text = re.sub(r"[\x00-\x20\x7f]", "", bytes(uri).decode("latin-1"))
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", text)
    return scheme is not None and scheme[1].lower() in SAFE_URI_SCHEMES


def _keys_in_raw_bytes(pdf_bytes: bytes) -> set[str]:
    found: set[str] = set()
    for text in _object_texts(pdf_bytes):
        for token in _NAME_TOKEN.findall(text):
            name = "/" + _HEX_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), token).decode("latin-1")
            if name in RAW_NAMES:
                found.add(name)
    return found


def _object_texts(pdf_bytes: bytes):
    """The file's bytes outside stream data, and the inflated inside of each object stream."""
    position = 0
    while True:
        start = _STREAM_START.search(pdf_bytes, position)
        if start is None:
            yield pdf_bytes[position:]
            return
        head = pdf_bytes[position:start.end()]
        yield head
        data_end = _stream_end(pdf_bytes, head, start.end())
        dictionary = head[_last_object_start(head):]
        if b"/ObjStm" in dictionary:
            yield _inflated(pdf_bytes[start.end():data_end], dictionary)
        position = data_end


def _last_object_start(head: bytes) -> int:
    starts = [match.start() for match in _OBJECT_START.finditer(head)]
    return starts[-1] if starts else 0


def _stream_end(pdf_bytes: bytes, head: bytes, data_start: int) -> int:
    length = _DIRECT_LENGTH.findall(head[_last_object_start(head):])
    if length:
        end = data_start + int(length[-1])
        if pdf_bytes[end:end + 12].lstrip().startswith(b"endstream"):
            return end
    found = pdf_bytes.find(b"endstream", data_start)
    return len(pdf_bytes) if found < 0 else found


def _inflated(data: bytes, dictionary: bytes) -> bytes:
    if b"/FlateDecode" not in dictionary:
        return data
    try:
        return zlib.decompressobj().decompress(data, MAX_INFLATED)
    except zlib.error:
        return b""
