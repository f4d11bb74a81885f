"""A zip of selected signed documents, made in a job, for the user who asked, for one day.

A bundle is a folder under SIGNET_BUNDLE_DIR (default <instance>/bundles) named by an
unguessable id: state.json (owner, documents, progress, status) and, when ready, the zip. The
state lives beside the file rather than in a table (no schema change for a one-day artefact);
with web and workers on separate machines the folder must be shared, like the blob store.

The folder, not Redis, is the source of truth. A build claims its bundle with an exclusive
lock on the folder's lock file: a second job for the same bundle (the sweep's replay, a
duplicate) leaves it alone, and the lock lasts exactly as long as its holder (a SIGKILLed
worker's lock is released by the kernel). The sweep builds again an unfinished bundle nobody
holds whose state has not moved for BUNDLE_STALL (its job lost with Redis, or its worker
died), at most BUILD_ATTEMPTS times in all; a build that fails (a missing file) is not
retried: the bundle shows the failure and the user asks again.
"""

import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from portal import unit
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
LOCK_FILE = ".lock"
# A queued bundle's job normally starts within seconds, and a running one saves its progress
# after every document: unmoved this long and unheld, its job was lost.
BUNDLE_STALL = timedelta(minutes=2)
BUILD_ATTEMPTS = 3


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
    attempts: int = 0  # builds started (a lost one is started again by the sweep)

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
    unit.commit()
    enqueue(build_bundle, bundle.id, queue="default")
    return load_bundle(bundle.id, user)


@app_job
def build_bundle(bundle_id: str) -> str | None:
    """Write the zip, one document at a time, keeping the progress in the bundle's state.

    Only the holder of the bundle's lock builds it; another job for it returns at once.
    """
    with _claimed(bundle_id) as held:
        if not held:
            return None
        bundle = _load(bundle_id)  # read under the lock: a build just finished is seen
        if bundle is None or bundle.finished:
            return None
        return _build(bundle)


def _build(bundle: Bundle) -> str | None:
    bundle_id = bundle.id
    owner = db.session.get(User, bundle.owner_id)
    bundle.status, bundle.done, bundle.files = "running", 0, []
    bundle.attempts += 1
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
                unit.commit()  # no snapshot held across the whole zip
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
    if document is None or document.files_purged_at is not None:  # retention deleted it
        return None
    return document if can(owner, "view", "vault", document) else None


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


def replay_lost_bundles(now: datetime | None = None) -> int:
    """Build again the unfinished bundles whose job was lost (Redis emptied, a worker killed);
    how many were queued. One that lost BUILD_ATTEMPTS builds is marked failed."""
    now = now or utcnow()
    root = bundle_root()
    if not root.is_dir():
        return 0
    queued = 0
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or not BUNDLE_ID.fullmatch(folder.name):
            continue
        state = folder / STATE_FILE
        if not state.is_file() or _made_at(state) > now - BUNDLE_STALL:
            continue
        with _claimed(folder.name) as held:
            bundle = _load(folder.name) if held else None
            if bundle is None or bundle.finished or bundle.expires_at <= now:
                continue
            if bundle.attempts >= BUILD_ATTEMPTS:
                log.error("Bundle %s gave up after %s lost builds", bundle.id, bundle.attempts)
                bundle.status = "failed"
                _save(bundle)
                continue
        log.warning("Bundle %s lost its job; building it again", folder.name)
        # Its state counts as moved now: queued once, not again at every sweep till it runs.
        os.utime(state, (now.timestamp(), now.timestamp()))
        enqueue(build_bundle, folder.name, queue="default")
        queued += 1
    return queued


@contextmanager
def _claimed(bundle_id: str):
    """Whether we hold the bundle's lock, held until the block ends (or our process does)."""
    try:
        descriptor = os.open(_folder(bundle_id) / LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
    except (OSError, BundleNotFound):  # purged meanwhile
        yield False
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        yield False
        return
    try:
        yield True
    finally:
        os.close(descriptor)  # closing it releases the lock


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

