"""What a signer reads before signing: the document with every value filled so far.

The values are turned into marks by the sealing's own mark_for() and drawn by the compose()
that makes the final PDF, so the picture and the final cannot differ. Shown are the fields of
the parties that signed already (and fields of nobody's, filled by the sender), and, only
when the caller says the request belongs to the signer's ceremony, the signer's own values.

Pictures and PDFs are kept on disk under the source's sha256, the page, the width and a digest
of what is drawn on that page, so an unchanged page is never composed twice; the store is
bounded (see prune). portal.signing.pages imports this module at start-up, so the sandbox's
forkserver has preloaded the renderer (preview_render) before the first picture.
"""

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext as _

from portal.documents.models import Field, Party
from portal.models_base import end_read_before_slow_work, utcnow
from portal.pdfs import fitting, geometry, render_preview, run_bounded
from portal.pdfs.preview import clamp_width, preview_dir, write_atomically
from portal.sealing import burn, finalize
from portal.signing import preview_render
from portal.signing.filling import AUTO_TYPES, auto_value
from portal.storage import read

# A page's family (source, page, width) keeps this many pictures: the one with the signer's
# values and the one without, and the previous version while a save is under way.
KEEP_PER_FAMILY = 4
DEFAULT_CACHE_MB = 256
PRUNE_EVERY_WRITES = 32

# Whatever changes how a mark is drawn changes this, so no picture drawn the old way is served
# after a deploy (the code is the key, not a number someone must remember to raise).
_RENDERER = hashlib.sha256(b"".join(
    Path(module.__file__).read_bytes()
    for module in (burn, fitting, finalize, geometry, preview_render)
)).hexdigest()[:16]

_writes = 0
_writes_lock = threading.Lock()


@dataclass(frozen=True)
class PagePreview:
    version: str  # what is drawn ("" when nothing is): the picture's URL and ETag carry it
    image: bytes


def shown_fields(party: Party, *, include_own: bool) -> list:
    """The fields whose values this party's preview draws, own auto fields as they will be.

    Another party's values appear only once that party signed: until then they are its own
    business and may still change.
    """
    document = party.document
    signed = {other.id for other in document.parties if other.signed_at is not None}
    now = utcnow()
    shown = []
    for field in document.fields:
        if field.party_id == party.id:
            if include_own:
                shown.append(_as_it_will_be(field, party, now))
        elif field.party_id is None or field.party_id in signed:
            shown.append(field)
    return shown


def _as_it_will_be(field: Field, party: Party, moment):
    """An own field as signing would burn it in.

    Auto fields (date signed, requisites) are filled only when the party signs. They are
    shown with the values signing now would give: the signer checks the requisites (and that
    they fit their box) before signing, and the date is today's; a signature on a later day
    carries that day instead.
    """
    if field.type not in AUTO_TYPES or field.value:
        return field
    return SimpleNamespace(type=field.type, page=field.page, x=field.x, y=field.y, w=field.w,
                           h=field.h, value=auto_value(field, party, moment),
                           value_sha256=None, font_size=getattr(field, "font_size", None))


def _carries_value(field) -> bool:
    return bool((field.value or "").strip() or field.value_sha256)


def _describe(field) -> list:
    # Everything mark_for reads (image bytes by their sha256), nothing else.
    return [field.type, field.page, field.x, field.y, field.w, field.h, field.value or "",
            field.value_sha256 or "", getattr(field, "font_size", None)]


def marks_digest(fields, page: int | None = None) -> str:
    """A short digest of what the fields draw (on `page`, else on every page); "" if nothing."""
    drawn = sorted((_describe(field) for field in fields
                    if _carries_value(field) and (page is None or field.page == page)),
                   key=lambda described: json.dumps(described))
    if not drawn:
        return ""
    text = json.dumps([_RENDERER, drawn], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def page_versions(party: Party, *, include_own: bool) -> dict[int, str]:
    """Each page's version: the digest of what the preview draws on it."""
    fields = shown_fields(party, include_own=include_own)
    return {number: marks_digest(fields, number)
            for number in range(1, party.document.page_count + 1)}


def _marks(fields, page: int | None = None) -> list:
    return [mark for field in fields if (page is None or field.page == page)
            and _carries_value(field) and (mark := finalize.mark_for(field)) is not None]


def preview_page(party: Party, page: int, width: int, *, include_own: bool) -> PagePreview:
    """Page `page` as the signer's browser shows it, `width` pixels wide (a JPEG).

    BlobMissing if the source (or a value's image) is gone, ValueError for a page the
    document lacks, PdfRejected if the page cannot be drawn within the bounds.
    """
    document = party.document
    width = clamp_width(width)
    if not 1 <= page <= document.page_count:
        raise ValueError(f"page {page} does not exist")
    fields = shown_fields(party, include_own=include_own)
    version = marks_digest(fields, page)
    if not version:  # nothing drawn on this page: the plain preview is the same picture
        return PagePreview("", render_preview(document.source_sha256, page, width))
    path = _cached(document.source_sha256, f"p{page}-w{width}", version, "jpg")
    if path.is_file():
        return PagePreview(version, path.read_bytes())
    marks = _marks(fields, page)
    source = read(document.source_sha256)
    end_read_before_slow_work()
    image = run_bounded(preview_render.composed_page_jpeg, source, marks, page, width)
    _keep(path, image)
    return PagePreview(version, image)


def preview_pdf(party: Party, *, include_own: bool) -> bytes:
    """The whole document with every value so far, marked on each page as not yet signed.

    In the current language; no signature, no certificate pages. BlobMissing, PdfRejected
    as preview_page.
    """
    document = party.document
    fields = shown_fields(party, include_own=include_own)
    notice = _("Not yet signed — preview")
    text = json.dumps([marks_digest(fields), notice], ensure_ascii=False)
    version = hashlib.sha256(text.encode()).hexdigest()[:20]
    path = _cached(document.source_sha256, "pdf", version, "pdf")
    if path.is_file():
        return path.read_bytes()
    marks = _marks(fields)
    source = read(document.source_sha256)
    end_read_before_slow_work()
    pdf = run_bounded(preview_render.draft_pdf, source, marks, notice)
    _keep(path, pdf)
    return pdf


# --- the store -------------------------------------------------------------------------------

def drafts_dir() -> Path:
    """Beside the plain previews: <preview dir>/drafts."""
    return preview_dir() / "drafts"


def _cached(sha256: str, family: str, version: str, extension: str) -> Path:
    return drafts_dir() / sha256[:2] / f"{sha256}-{family}-{version}.{extension}"


def forget_drafts(sha256: str) -> int:
    """Delete the signing pages and PDFs drawn over this source (its file is being deleted)."""
    gone = 0
    for path in (drafts_dir() / sha256[:2]).glob(f"{sha256}-*"):
        path.unlink(missing_ok=True)
        gone += 1
    return gone


def _keep(path: Path, data: bytes) -> None:
    global _writes
    write_atomically(path, data)
    # Superseded versions of this page go at once; the whole store is trimmed now and then.
    family = path.name.rsplit("-", 1)[0]
    _trim(sorted(path.parent.glob(f"{family}-*"), key=_age), KEEP_PER_FAMILY)
    with _writes_lock:
        _writes += 1
        due = _writes % PRUNE_EVERY_WRITES == 0
    if due:
        prune(current_app.config.get("SIGNET_DRAFT_CACHE_MB", DEFAULT_CACHE_MB))


def prune(max_mb: float) -> int:
    """Delete the oldest pictures and PDFs until the store holds at most `max_mb`; how many."""
    files = []
    for path in drafts_dir().glob("*/*"):
        if path.name.startswith(".tmp-"):  # another request is writing it
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:  # another process pruned it first
            continue
        files.append((stat.st_mtime, stat.st_size, path))
    files.sort(key=lambda item: item[0], reverse=True)
    budget, total, removed = max_mb * 1024 * 1024, 0, 0
    for _mtime, size, path in files:
        total += size
        if total > budget:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _age(path: Path) -> float:
    try:
        return -path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _trim(newest_first: list[Path], keep: int) -> None:
    for path in newest_first[keep:]:
        path.unlink(missing_ok=True)
