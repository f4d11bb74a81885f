"""A zip of selected signed documents, made in a job, for the user who asked, for one day.

A bundle is a folder under SIGNET_BUNDLE_DIR (default <instance>/bundles) named by an
unguessable id: state.json (owner, documents, progress, status) and, when ready, the zip. The
state lives beside the file rather than in a table (no schema change for a one-day artefact);
with web and workers on separate machines the folder must be shared, like the blob store.
"""

import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from portal.auth.models import User
from portal.auth.permissions import can
from portal.documents.models import Document
from portal.documents.services.common import as_utc
from portal.errors import DomainError
from portal.extensions import db
from portal.jobs import app_job, enqueue
from portal.models_base import utcnow
from portal.sealing.finalize import final_filename
from portal.storage import read
from portal.vault.queries import signed_documents

log = logging.getLogger(__name__)

BUNDLE_ID = re.compile(r"[A-Za-z0-9_\-]{22}")
BUNDLE_LIFETIME = timedelta(days=1)
MAX_DOCUMENTS = 200
STATE_FILE = "state.json"
ZIP_FILE = "signed-documents.zip"


class BundleNotFound(DomainError):
    status = 404

    def __init__(self):
        super().__init__(_("This download does not exist or has expired."))


class BundleRefused(DomainError):
    status = 400


@dataclass
class Bundle:
    """What a bundle is and how far its job got."""

    id: str
    owner_id: int
    document_ids: list[int]
    created_at: str
    status: str = "queued"  # queued, running, ready, failed
    done: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.document_ids)

    @property
    def finished(self) -> bool:
        return self.status in ("ready", "failed")

    @property
    def expires_at(self) -> datetime:
        return as_utc(datetime.fromisoformat(self.created_at)) + BUNDLE_LIFETIME


def bundle_root() -> Path:
    configured = current_app.config.get("SIGNET_BUNDLE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "bundles"


def _folder(bundle_id: str) -> Path:
    if not isinstance(bundle_id, str) or not BUNDLE_ID.fullmatch(bundle_id):
        raise BundleNotFound()
    return bundle_root() / bundle_id


def request_bundle(user, document_ids) -> Bundle:
    """Start a zip of the chosen documents the user may see; the job fills it in."""
    wanted = sorted({int(value) for value in document_ids if str(value).isdigit()
                     and len(str(value)) < 10})
    if not wanted:
        raise BundleRefused(_("Choose at least one document."))
    if len(wanted) > MAX_DOCUMENTS:
        raise BundleRefused(_("Choose at most %(max)d documents at a time.", max=MAX_DOCUMENTS))
    allowed = db.session.scalars(
        signed_documents(user).with_only_columns(Document.id)
        .where(Document.id.in_(wanted)).order_by(Document.id)).all()
    if not allowed:
        raise BundleRefused(_("None of the chosen documents is in your vault."))
    bundle = Bundle(id=secrets.token_urlsafe(16), owner_id=user.id, document_ids=list(allowed),
                    created_at=utcnow().isoformat())
    _folder(bundle.id).mkdir(parents=True)
    _save(bundle)
    db.session.commit()
    enqueue(build_bundle, bundle.id, queue="default")
    return load_bundle(bundle.id, user)


@app_job
def build_bundle(bundle_id: str) -> str | None:
    """Write the zip, one document at a time, keeping the progress in the bundle's state."""
    bundle = _load(bundle_id)
    if bundle is None or bundle.finished:
        return None
    owner = db.session.get(User, bundle.owner_id)
    bundle.status, bundle.done, bundle.files = "running", 0, []
    _save(bundle)
    folder = _folder(bundle_id)
    try:
        _write_zip(bundle, owner, folder)
    except Exception:
        log.exception("Bundle %s failed", bundle_id)
        bundle.status = "failed"
        _save(bundle)
        return None
    bundle.status = "ready"
    _save(bundle)
    return bundle_id


def _write_zip(bundle: Bundle, owner: User | None, folder: Path) -> None:
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".zip")
    os.close(handle)
    try:
        # Stored, not deflated: sealed PDFs are compressed already.
        with zipfile.ZipFile(temp_name, "w", compression=zipfile.ZIP_STORED) as archive:
            for document_id in bundle.document_ids:
                document = _still_visible(owner, document_id)
                if document is not None:
                    name = _unique_name(final_filename(document), bundle.files)
                    archive.writestr(name, read(document.final_sha256))
                    bundle.files.append(name)
                bundle.done += 1
                db.session.commit()  # no snapshot held across the whole zip
                _save(bundle)
        os.replace(temp_name, folder / ZIP_FILE)
    finally:
        Path(temp_name).unlink(missing_ok=True)


def _still_visible(owner: User | None, document_id: int) -> Document | None:
    # Checked again in the job: access may have been taken away since the request.
    if owner is None or not owner.active:
        return None
    document = db.session.scalars(
        signed_documents(owner).where(Document.id == document_id)).first()
    return document if document is not None and can(owner, "view", "vault", document) else None


def _unique_name(name: str, taken: list[str]) -> str:
    # Numbers are unique per company only: two companies may both have "ACT-00001".
    stem, suffix = name.rsplit(".", 1)
    candidate, counter = name, 2
    while candidate in taken:
        candidate, counter = f"{stem}-{counter}.{suffix}", counter + 1
    return candidate


def load_bundle(bundle_id: str, user) -> Bundle:
    """The user's own bundle, unexpired; anyone else's (or none) is BundleNotFound."""
    bundle = _load(bundle_id)
    if bundle is None or bundle.owner_id != getattr(user, "id", None) \
            or bundle.expires_at <= utcnow():
        raise BundleNotFound()
    return bundle


def zip_path(bundle: Bundle) -> Path:
    """The finished zip of a ready bundle."""
    path = _folder(bundle.id) / ZIP_FILE
    if bundle.status != "ready" or not path.exists():
        raise BundleNotFound()
    return path


def purge_expired_bundles(now: datetime | None = None) -> int:
    """Delete bundles older than a day (and leftovers without a state); how many went."""
    now = now or utcnow()
    root = bundle_root()
    if not root.is_dir():
        return 0
    purged = 0
    for folder in root.iterdir():
        if not folder.is_dir() or not BUNDLE_ID.fullmatch(folder.name):
            continue
        bundle = _load(folder.name)
        expires_at = bundle.expires_at if bundle is not None else _made_at(folder) + BUNDLE_LIFETIME
        if expires_at <= now:
            shutil.rmtree(folder, ignore_errors=True)
            purged += 1
    return purged


def _made_at(folder: Path) -> datetime:
    return datetime.fromtimestamp(folder.stat().st_mtime, UTC)


def _load(bundle_id: str) -> Bundle | None:
    try:
        values = json.loads((_folder(bundle_id) / STATE_FILE).read_text())
        return Bundle(**values)
    except (OSError, ValueError, TypeError):
        return None


def _save(bundle: Bundle) -> None:
    # Written aside and renamed: the status poll never reads half a file.
    folder = _folder(bundle.id)
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=".state-")
    with os.fdopen(handle, "w") as temp:
        json.dump(asdict(bundle), temp)
    os.replace(temp_name, folder / STATE_FILE)

