"""Page previews: what the user sees (crop box, rotation), rendered once and kept on disk."""

import hashlib
import os
import re
import tempfile
from io import BytesIO
from pathlib import Path

from flask import current_app, has_app_context
from PIL import Image

from portal.pdfs.pdfium import open_document

MIN_WIDTH, MAX_WIDTH = 200, 2000
# JPEG, measured on a dense 9 pt text page at 1000 px: PNG level 6 took 68 ms for 659 KB,
# JPEG quality 80 takes 6 ms for 461 KB and small text stays crisp. Without chroma
# subsampling (4:4:4) thin coloured strokes (blue ink, stamps) keep their edges.
PREVIEW_FORMAT = "JPEG"
PREVIEW_EXTENSION = "jpg"
PREVIEW_MIMETYPE = "image/jpeg"
JPEG_OPTIONS = {"quality": 80, "subsampling": 0}
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


def render_preview(pdf_bytes_or_sha256: bytes | str, page: int, width: int = 1000) -> bytes:
    """The image of page `page` (1-based), `width` pixels wide (clamped to 200..2000).

    Pass the PDF bytes, or the sha256 of a stored blob (then the file is read only when
    the preview is not cached yet). Cached under (sha256, page, width) when an app context
    exists. Raises ValueError for a page the PDF does not have.
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

    cached = preview_path(sha256, page, width) if has_app_context() else None
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    if pdf_bytes is None:
        from portal.storage import read

        pdf_bytes = read(sha256)
    image = encode_preview(render_page_image(pdf_bytes, page, width))
    if cached is not None:
        _write_atomically(cached, image)
    return image


def render_page_image(pdf_bytes: bytes, page: int, width: int) -> Image.Image:
    """Render one displayed page to an RGB image exactly `width` pixels wide."""
    with open_document(pdf_bytes, with_forms=True) as document:
        if page > len(document):
            raise ValueError(f"page {page} does not exist (the PDF has {len(document)})")
        pdf_page = document[page - 1]
        try:
            page_width, page_height = pdf_page.get_size()
            scale = width / page_width
            bitmap = pdf_page.render(scale=scale, may_draw_forms=True)
            try:
                # A copy: the bitmap's memory belongs to PDFium and is freed under the lock.
                image = bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            pdf_page.close()
    height = max(1, round(page_height * scale))
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    return image


def encode_preview(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, PREVIEW_FORMAT, **JPEG_OPTIONS)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
