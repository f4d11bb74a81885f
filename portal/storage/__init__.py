"""Content-addressed blob store: every file is kept once, named by its sha256."""

from portal.storage.store import BlobMissing, blob_root, path_for, read, store

__all__ = ["BlobMissing", "blob_root", "path_for", "read", "store"]
