"""Content-addressed blob store: every file is kept once, named by its sha256."""
