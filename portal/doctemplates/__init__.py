"""Document templates: sandboxed HTML rendered to PDF, with a default field layout."""
