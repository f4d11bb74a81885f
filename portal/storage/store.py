"""The filesystem backend: <root>/ab/cd/<sha256>, written once and atomically."""

import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.storage.models import Blob

_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobMissing(LookupError):
    """The registry names a file that is not on disk (or the name is not a sha256)."""


def blob_root() -> Path:
    """SIGNET_BLOB_DIR, else <instance>/blobs."""
    configured = current_app.config.get("SIGNET_BLOB_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "blobs"


def path_for(sha256: str) -> Path:
    """Where the file with this digest lives (the name is checked: no path tricks)."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise BlobMissing(f"not a sha256 digest: {sha256!r}")
    return blob_root() / sha256[:2] / sha256[2:4] / sha256


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temp file in the same folder, then a rename: readers never see half a file, and
    # two writers of the same bytes simply replace one complete copy with another.
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _registered(sha256: str) -> Blob | None:
    for pending in db.session.new:
        if isinstance(pending, Blob) and pending.sha256 == sha256:
            return pending
    return db.session.get(Blob, sha256)


def store(data: bytes, content_type: str) -> Blob:
    """Keep `data` once; the Blob row is added to the session (the caller commits)."""
    sha256 = hashlib.sha256(data).hexdigest()
    _write_once(path_for(sha256), data)
    blob = _registered(sha256)
    if blob is not None:
        return blob
    blob = Blob(sha256=sha256, size=len(data), content_type=content_type)
    try:
        # A savepoint: when another transaction registers the same file at the same moment,
        # its row wins and ours is dropped instead of failing the caller's whole transaction.
        with db.session.begin_nested():
            db.session.add(blob)
    except IntegrityError:
        blob = db.session.execute(db.select(Blob).filter_by(sha256=sha256)).scalar_one()
    return blob


def read(sha256: str) -> bytes:
    """The stored bytes, or BlobMissing."""
    try:
        return path_for(sha256).read_bytes()
    except FileNotFoundError as error:
        raise BlobMissing(sha256) from error
