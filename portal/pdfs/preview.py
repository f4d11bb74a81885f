"""Page previews: what the user sees (crop box, rotation), rendered once and kept on disk.

The drawing itself runs bounded in the sandbox (portal/pdfs/isolated.py); a page too costly
to draw raises PdfRejected, and the views answer with a picture that says so.
"""

import hashlib
import os
import re
import tempfile
import textwrap
from functools import lru_cache
from html import escape
from pathlib import Path

from flask import Response, current_app

from portal.pdfs.bounded import run_bounded
from portal.pdfs.isolated import page_sizes, render_page_jpeg
from portal.storage import read

MIN_WIDTH, MAX_WIDTH = 200, 2000
PREVIEW_EXTENSION = "jpg"
PREVIEW_MIMETYPE = "image/jpeg"
PLACEHOLDER_MIMETYPE = "image/svg+xml"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def preview_mimetype() -> str:
    """The content type of what render_preview returns."""
    return PREVIEW_MIMETYPE


def clamp_width(width) -> int:
    return max(MIN_WIDTH, min(MAX_WIDTH, int(width)))


def preview_dir() -> Path:
    """SIGNET_PREVIEW_DIR, else <instance>/previews."""
    configured = current_app.config.get("SIGNET_PREVIEW_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "previews"


def preview_path(sha256: str, page: int, width: int) -> Path:
    return preview_dir() / sha256[:2] / f"{sha256}-p{page}-w{width}.{PREVIEW_EXTENSION}"


def forget_previews(sha256: str) -> int:
    """Delete every cached page image of this PDF (its file is being deleted); how many."""
    folder = preview_dir() / sha256[:2]
    gone = 0
    for path in folder.glob(f"{sha256}-p*"):
        path.unlink(missing_ok=True)
        gone += 1
    return gone


def render_preview(pdf_bytes_or_sha256: bytes | str, page: int, width: int = 1000) -> bytes:
    """The image of page `page` (1-based), `width` pixels wide (clamped to 200..2000).

    Pass the PDF bytes, or the sha256 of a stored blob (then the file is read only when
    the preview is not cached yet). Cached under (sha256, page, width). Raises ValueError
    for a page the PDF does not have, PdfRejected for one too costly to draw.
    """
    width = clamp_width(width)
    page = int(page)
    if page < 1:
        raise ValueError(f"page {page} does not exist")
    source = pdf_bytes_or_sha256
    if isinstance(source, str):
        if not _SHA256.fullmatch(source):
            raise ValueError("not a sha256 digest")
        sha256, pdf_bytes = source, None
    else:
        pdf_bytes = bytes(source)
        sha256 = hashlib.sha256(pdf_bytes).hexdigest()

    cached = preview_path(sha256, page, width)
    if cached.is_file():
        return cached.read_bytes()
    if pdf_bytes is None:

        pdf_bytes = read(sha256)
    image = run_bounded(render_page_jpeg, pdf_bytes, page, width)
    write_atomically(cached, image)
    return image


def placeholder_image(message: str, width: int = 1000) -> bytes:
    """An SVG page-sized picture saying why the page cannot be shown (not cached)."""
    width = clamp_width(width)
    height = round(width * 1.414)
    lines = textwrap.wrap(message, 44)[:8]
    size = width / 34
    top = height / 2 - len(lines) * size * 0.7
    text = "".join(
        f'<text x="{width / 2:.0f}" y="{top + index * size * 1.4:.0f}">{escape(line)}</text>'
        for index, line in enumerate(lines))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="#f3f4f7"/>'
            f'<g font-family="sans-serif" font-size="{size:.0f}" fill="#5b6070" '
            f'text-anchor="middle">{text}</g></svg>').encode()


def page_unavailable(message: str, width: int = 1000) -> Response:
    """The answer to a page image request for a page that cannot be drawn: a picture of why."""
    response = Response(placeholder_image(message, width), mimetype=PLACEHOLDER_MIMETYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


@lru_cache(maxsize=2048)
def stored_page_sizes(sha256: str) -> tuple[tuple[float, float], ...]:
    """Each page's displayed (width, height) in points, of a stored PDF (never changes).

    BlobMissing if the file is gone, PdfRejected if it cannot be read within the bounds.
    """

    return tuple(run_bounded(page_sizes, read(sha256)))


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none of it (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
