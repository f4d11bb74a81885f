"""Files built to exhaust a parser: compression, object-graph, page-count and pixel bombs.

Small on disk, enormous once opened. Written as raw bytes (no library would make them), fast
enough to build in a test: a deflate stream of zeros is one compressed block repeated.

    python -m tests.hostile.bombs DIR    writes each of them into DIR
"""

import struct
import sys
import zlib
from pathlib import Path

from tests.verify.garbage import (
    deeply_nested_arrays,
    deeply_nested_dictionaries,
    huge_object_graph,
    pdf_from_objects,
    signature_field_flood,
)

GIB = 1024 ** 3
_BLOCK = 16 * 1024 * 1024
_ADLER_MOD = 65521


def zeros_deflated(size: int) -> bytes:
    """A zlib stream that inflates to `size` zero bytes (a multiple of 16 MiB), ~1/1000 of it.

    A full flush makes each compressed block stand alone, so one block repeated is a valid
    stream; the Adler-32 of n zeros is (n mod 65521) << 16 | 1.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(_BLOCK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush(zlib.Z_FINISH)
    repeats = max(1, size // _BLOCK)
    adler = ((repeats * _BLOCK) % _ADLER_MOD) << 16 | 1
    return b"\x78\xda" + block * repeats + end + struct.pack(">I", adler)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return (b"<< /Length %d /Filter /FlateDecode %s >>\nstream\n" % (len(data), extra)
            + data + b"\nendstream")


def content_bomb(size: int = 2 * GIB) -> bytes:
    """One page whose content stream inflates to `size` bytes (2 GiB from a ~2 MB file)."""
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(zeros_deflated(size)),
    ])


def pixel_bomb(side: int = 50_000) -> bytes:
    """A page drawing a side x side grey image whose pixels all really are in the file."""
    data = zeros_deflated(side * side)
    image = _stream(data, b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                          b"/ColorSpace /DeviceGray /BitsPerComponent 8" % (side, side))
    contents = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
        b"/Resources << /XObject << /Im0 4 0 R >> >> >>",
        image,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(contents), contents),
    ])


def reference_bomb(levels: int = 60) -> bytes:
    """Each level an array naming the one below twice: 2**levels paths to the bottom.

    Hung from the page's resources, where a walker that does not remember what it has seen
    never finishes.
    """
    first = 5
    arrays = [b"[%d 0 R %d 0 R]" % (first + level + 1, first + level + 1)
              for level in range(levels)] + [b"[0]"]
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Properties << /Laughs 5 0 R >> >> >>",
        b"<< /Length 8 >>\nstream\n0 0 m S\n\nendstream",
        *arrays,
    ])


def page_flood(count: int = 20_000) -> bytes:
    """`count` pages (a few MB), far over any page limit."""
    first_page = 3
    kids = b" ".join(b"%d 0 R" % number for number in range(first_page, first_page + count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
        *[page] * count,
    ])


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header claiming width x height pixels, with one small compressed row of data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(width + 1))) + chunk(b"IEND", b""))


BOMBS = {
    "content-bomb-2gib.pdf": content_bomb,
    "pixel-bomb-2.5g-pixels.pdf": pixel_bomb,
    "reference-bomb-2pow60.pdf": reference_bomb,
    "object-graph-200k.pdf": huge_object_graph,
    "nested-arrays-100k.pdf": deeply_nested_arrays,
    "nested-dictionaries-50k.pdf": deeply_nested_dictionaries,
    "signature-flood-3000.pdf": signature_field_flood,
    "page-flood-20k.pdf": page_flood,
    "png-claiming-2g-pixels.png": lambda: png_claiming(50_000, 50_000),
}


def build_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, build in BOMBS.items():
        path = folder / name
        path.write_bytes(build())
        written[name] = path
    return written


if __name__ == "__main__":
    for name, path in build_all(Path(sys.argv[1])).items():
        print(f"{path.stat().st_size:>10}  {name}")
