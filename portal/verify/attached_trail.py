"""The audit trail a final PDF carries as the attached file audit-trail.json, checked offline.

Runs in the sandboxed child beside portal.verify.inspection, on a file someone uploaded:
only the attachments the catalog lists (/AF, the /Names /EmbeddedFiles tree) are looked at,
every walk is bounded, and the file's own size claims (/Length, /Params /Size) are never
believed: the stream is inflated until the limit and refused past it.
"""

import zlib

from pyhanko.pdf_utils import generic

from portal.audit.chain import TRAIL_FILENAME, TrailCheck, check_trail

# A trail of a few hundred events is tens of KB; anything this big is not one we wrote.
MAX_TRAIL_BYTES = 4 * 1024 * 1024
# Nodes of the attachments' name tree, and its depth, walked at most.
MAX_NAME_TREE_NODES = 1_000
MAX_NAME_TREE_DEPTH = 16
# Entries of /AF and name-tree leaves read at most (a forged file may list millions).
MAX_LISTED_FILES = 1_000
# Filter names that mean "deflate" (the abbreviation is allowed in inline images only, but
# readers accept it anywhere).
FLATE = {"/FlateDecode", "/Fl"}


class NotATrail(Exception):
    """The attachment named audit-trail.json cannot be read as one (too big, other encoding)."""


def attached_trail(root) -> TrailCheck | None:
    """The check of the trail attached to the PDF whose catalog is `root`; None without one.

    Every copy named audit-trail.json must have the same bytes: two different trails in one
    file say nothing, so they read as unreadable.
    """
    specs = _trail_file_specs(root)
    if not specs:
        return None
    try:
        contents = {_contents(spec) for spec in specs}
    except NotATrail:
        return TrailCheck(readable=False)
    if len(contents) != 1:
        return TrailCheck(readable=False)
    return check_trail(contents.pop())


def _trail_file_specs(root) -> list[generic.DictionaryObject]:
    """The file specifications named audit-trail.json in /AF and in /Names /EmbeddedFiles,
    each object once."""
    found, seen = [], set()
    for spec in [*_associated_files(root), *_embedded_files(root)]:
        if id(spec) in seen or _file_name(spec) != TRAIL_FILENAME:
            continue
        seen.add(id(spec))
        found.append(spec)
    return found


def _associated_files(root) -> list:
    listed = _resolved(root.get("/AF")) if "/AF" in root else None
    if not isinstance(listed, generic.ArrayObject):
        return []
    return [_resolved(item) for item in list(listed)[:MAX_LISTED_FILES]]


def _embedded_files(root) -> list:
    """The values of the /EmbeddedFiles name tree (bounded, cycles visited once)."""
    names = _resolved(root.get("/Names")) if "/Names" in root else None
    tree = _resolved(names.get("/EmbeddedFiles")) \
        if isinstance(names, generic.DictionaryObject) and "/EmbeddedFiles" in names else None
    values, visited, stack = [], set(), [(tree, 0)]
    while stack and len(visited) < MAX_NAME_TREE_NODES and len(values) < MAX_LISTED_FILES:
        node, depth = stack.pop()
        if not isinstance(node, generic.DictionaryObject) or id(node) in visited \
                or depth > MAX_NAME_TREE_DEPTH:
            continue
        visited.add(id(node))
        pairs = _resolved(node.get("/Names")) if "/Names" in node else None
        if isinstance(pairs, generic.ArrayObject):
            values += [_resolved(value) for value in list(pairs)[1:2 * MAX_LISTED_FILES:2]]
        kids = _resolved(node.get("/Kids")) if "/Kids" in node else None
        if isinstance(kids, generic.ArrayObject):
            stack += [(_resolved(kid), depth + 1) for kid in list(kids)[:MAX_NAME_TREE_NODES]]
    return values[:MAX_LISTED_FILES]


def _file_name(spec) -> str:
    if not isinstance(spec, generic.DictionaryObject):
        return ""
    for key in ("/UF", "/F"):
        value = _resolved(spec.get(key)) if key in spec else None
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode("latin-1")
    return ""


def _contents(spec) -> bytes:
    """The attached file's bytes, inflated at most to MAX_TRAIL_BYTES."""
    files = _resolved(spec.get("/EF")) if "/EF" in spec else None
    stream = None
    if isinstance(files, generic.DictionaryObject):
        stream = next((_resolved(files.get(key)) for key in ("/F", "/UF") if key in files), None)
    if not isinstance(stream, generic.StreamObject):
        raise NotATrail
    raw = stream.encoded_data
    if len(raw) > MAX_TRAIL_BYTES:
        raise NotATrail
    return _decoded(raw, _filters(stream))


def _filters(stream) -> list[str]:
    """The stream's filter names; NotATrail unless none or one deflate without a predictor
    (what the portal writes for a JSON file)."""
    listed = _resolved(stream.get("/Filter")) if "/Filter" in stream else None
    if listed is None or isinstance(listed, generic.NullObject):
        names = []
    elif isinstance(listed, generic.ArrayObject):
        names = [str(_resolved(name)) for name in list(listed)[:2]]
    else:
        names = [str(listed)]
    if len(names) > 1 or any(name not in FLATE for name in names) or _predicts(stream):
        raise NotATrail
    return names


def _predicts(stream) -> bool:
    params = _resolved(stream.get("/DecodeParms")) if "/DecodeParms" in stream else None
    if isinstance(params, generic.ArrayObject):
        params = _resolved(params[0]) if len(params) == 1 else None
    if not isinstance(params, generic.DictionaryObject) or "/Predictor" not in params:
        return False
    return _resolved(params.get("/Predictor")) not in (1, None)


def _decoded(raw: bytes, filters: list[str]) -> bytes:
    if not filters:
        return raw
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(raw, MAX_TRAIL_BYTES + 1)
    except zlib.error as error:
        raise NotATrail from error
    if len(data) > MAX_TRAIL_BYTES:
        raise NotATrail
    return data


def _resolved(value):
    return value.get_object() if isinstance(value, generic.PdfObject) else value
