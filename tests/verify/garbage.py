"""Hostile and broken PDFs for the verify page, written as raw bytes (cheap, and no library
would produce most of them). Each builder returns the complete file."""

import zlib

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def pdf_from_objects(bodies: list[bytes], *, header: bytes = HEADER) -> bytes:
    """Objects 1..n with a correct classic xref table; object 1 is the catalog."""
    out = bytearray(header)
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


def _catalog(extra: bytes = b"") -> bytes:
    return b"<< /Type /Catalog /Pages 2 0 R " + extra + b" >>"


def _one_page_tree() -> list[bytes]:
    return [b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE]


def minimal_pdf() -> bytes:
    """A valid one-page PDF (the base the builders below distort)."""
    return pdf_from_objects([_catalog(), *_one_page_tree()])


def broken_xref(pdf: bytes) -> bytes:
    """startxref points into the middle of the file, at no xref table."""
    at = pdf.rindex(b"startxref")
    return pdf[:at] + b"startxref\n%d\n%%%%EOF\n" % (len(pdf) // 3)


def deeply_nested_arrays(depth: int = 100_000) -> bytes:
    """The form's field list is an array nested `depth` levels deep."""
    return pdf_from_objects([_catalog(b"/AcroForm << /Fields 4 0 R >>"), *_one_page_tree(),
                             b"[" * depth + b"]" * depth])


def deeply_nested_dictionaries(depth: int = 50_000) -> bytes:
    """A field dictionary nested `depth` levels deep."""
    return pdf_from_objects([_catalog(b"/AcroForm << /Fields [4 0 R] >>"), *_one_page_tree(),
                             b"<< /A " * depth + b"1" + b" >>" * depth])


def cyclic_trees() -> bytes:
    """The page tree and the form field tree both loop back on themselves."""
    return pdf_from_objects([
        _catalog(b"/AcroForm << /Fields [4 0 R] >>"),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>",
        b"<< /T (a) /Kids [5 0 R] >>",
        b"<< /T (b) /Parent 4 0 R /Kids [4 0 R 5 0 R] >>",
    ])


def huge_object_graph(count: int = 200_000) -> bytes:
    """`count` objects, every one a form field listed in the form (about 13 MB)."""
    refs = b" ".join(b"%d 0 R" % number for number in range(4, count + 4))
    fields = [b"<</T(f)>>"] * count
    return pdf_from_objects([_catalog(b"/AcroForm << /Fields [" + refs + b"] >>"),
                             *_one_page_tree(), *fields])


def huge_image(side: int = 100_000) -> bytes:
    """A page drawing a side x side RGB image whose Flate stream inflates to 30 GB."""
    data = zlib.compress(b"\0" * (4 * 1024 * 1024), 9)  # the first 4 MB of it, really
    image = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
             b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
             % (side, side, len(data), data))
    contents = b"q %d 0 0 %d 0 0 cm /Im0 Do Q" % (side, side)
    return pdf_from_objects([
        _catalog(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
        b"/Resources << /XObject << /Im0 4 0 R >> >> >>",
        image,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(contents), contents),
    ])


def object_stream_bomb(megabytes: int = 300) -> bytes:
    """The catalog sits in an object stream behind `megabytes` of Flate-compressed padding."""
    compressor = zlib.compressobj(9)
    head = b"4 0 "
    padding = b" " * (1024 * 1024)
    data = compressor.compress(head)
    for _ in range(megabytes):
        data += compressor.compress(padding)
    data += compressor.compress(_catalog()) + compressor.flush()
    first = len(head) + megabytes * len(padding)
    objects = {
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: PAGE,
        5: b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s"
           b"\nendstream" % (first, len(data), data),
    }
    out, offsets = bytearray(HEADER), {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    offsets[6] = len(out)
    # A cross-reference stream (/W [1 4 2]): object 4 is entry 0 of object stream 5.
    rows = [(0, 0, 65535), (0, 0, 0), (1, offsets[2], 0), (1, offsets[3], 0), (2, 5, 0),
            (1, offsets[5], 0), (1, offsets[6], 0)]
    table = b"".join(bytes([kind]) + field.to_bytes(4, "big") + extra.to_bytes(2, "big")
                     for kind, field, extra in rows)
    out += (b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 4 0 R /Length %d >>\nstream\n"
            % len(table)) + table + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)


def signature_field_flood(count: int = 3000, contents_hex: bytes = b"3082") -> bytes:
    """`count` filled signature fields sharing one signature value (`contents_hex`, hex CMS)."""
    value = (b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached "
             b"/ByteRange [0 10 20 10] /Contents <" + contents_hex + b"> >>")
    refs = b" ".join(b"%d 0 R" % number for number in range(5, count + 5))
    fields = [b"<< /FT /Sig /T (Signature%d) /V 4 0 R >>" % number for number in range(count)]
    return pdf_from_objects([_catalog(b"/AcroForm << /Fields [" + refs + b"] /SigFlags 3 >>"),
                             *_one_page_tree(), value, *fields])
