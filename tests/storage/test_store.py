"""The content-addressed blob store: one file and one row per distinct content."""

import hashlib
from pathlib import Path

import pytest

from portal.extensions import db
from portal.storage import BlobMissing, blob_root, path_for, read, store
from portal.storage.models import Blob


def _files_under(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_same_bytes_stored_twice_make_one_file_and_one_row(app):
    data = "Договор №1 — signed".encode()
    with app.app_context():
        first = store(data, "text/plain")
        second = store(data, "text/plain")
        assert second is first
        digest = first.sha256
        db.session.commit()
        db.session.remove()  # a later request, a new session
        third = store(data, "text/plain")
        db.session.commit()
        assert third.sha256 == digest == hashlib.sha256(data).hexdigest()
        assert db.session.execute(db.select(db.func.count()).select_from(Blob)).scalar() == 1
        assert _files_under(blob_root()) == [path_for(digest)]
        assert read(digest) == data


def test_second_store_does_not_rewrite_the_file(app):
    with app.app_context():
        blob = store(b"stamp bytes", "image/png")
        db.session.commit()
        path = path_for(blob.sha256)
        before = path.stat()
        store(b"stamp bytes", "image/png")
        after = path.stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_file_is_laid_out_by_digest_and_row_waits_for_the_callers_commit(app):
    data = b"%PDF-1.7 tiny"
    digest = hashlib.sha256(data).hexdigest()
    with app.app_context():
        blob = store(data, "application/pdf")
        assert path_for(digest) == blob_root() / digest[:2] / digest[2:4] / digest
        assert blob_root() == Path(app.instance_path) / "blobs"
        assert (blob.size, blob.content_type) == (len(data), "application/pdf")
        db.session.rollback()  # the caller gave up: no row, the file is harmless
        assert db.session.get(Blob, digest) is None
        again = store(data, "application/pdf")
        db.session.commit()
        assert db.session.get(Blob, digest) is again
        assert read(digest) == data


def test_different_bytes_make_different_blobs(app):
    with app.app_context():
        one, two = store(b"one", "text/plain"), store(b"two", "text/plain")
        db.session.commit()
        assert one.sha256 != two.sha256
        assert (read(one.sha256), read(two.sha256)) == (b"one", b"two")


def test_blob_dir_setting_moves_the_store(make_app, tmp_path):
    app = make_app(SIGNET_BLOB_DIR=str(tmp_path / "elsewhere"))
    with app.app_context():
        blob = store(b"moved", "text/plain")
        db.session.commit()
        assert path_for(blob.sha256).is_relative_to(tmp_path / "elsewhere")
        assert path_for(blob.sha256).read_bytes() == b"moved"


def test_bad_names_and_missing_files_are_refused(app):
    with app.app_context():
        with pytest.raises(BlobMissing):
            path_for("../../secret_key")
        with pytest.raises(BlobMissing):
            read("0" * 64)


@pytest.mark.postgres
def test_two_transactions_storing_the_same_file_at_once_both_succeed(make_app, tmp_path):
    """Two requests upload the same PDF at the same moment: one row, no error for either."""
    import threading

    from portal.extensions import db
    from portal.storage import store
    from portal.storage.models import Blob

    app = make_app(SIGNET_BLOB_DIR=str(tmp_path / "race-blobs"))
    start, errors = threading.Barrier(2), []

    def upload():
        try:
            with app.app_context():
                start.wait(timeout=5)
                store(b"%PDF-1.4 same bytes", "application/pdf")
                db.session.commit()
        except Exception as error:  # the test reports any failure below
            errors.append(error)

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Blob)) == 1
