"""The vault: signed (completed and sealed) documents, searchable, and their bulk download."""
