"""Retention: per-company periods after which a completed document's PDFs are deleted and its
signers' contacts masked, the legal hold that keeps a document whole, and the purge run."""
