"""The API blueprint with every route module attached (what the app factory registers)."""

from portal.api import bulk, documents, links, lookups  # noqa: F401  (they add their routes to bp)
from portal.api.blueprint import bp

__all__ = ["bp"]
