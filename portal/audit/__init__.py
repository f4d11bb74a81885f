"""Audit events: who did what to a document, when and from where; a hash chain per document."""
