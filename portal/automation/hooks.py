"""The link from the audit trail to automation: which events wait for their commit, at what depth.

Kept apart from the engine so `audit.record` can call it without importing every service.
"""

from contextvars import ContextVar

from portal.automation.triggers import WATCHED_EVENTS
from portal.extensions import db

# How many rules led to what is being recorded now: 0 for a person's action or the clock.
DEPTH: ContextVar[int] = ContextVar("signet_automation_depth", default=0)
SESSION_KEY = "signet_automation_events"


def note_event(event) -> None:
    """Remember a watched event until its transaction commits (called by audit.record)."""
    if event.document_id is not None and event.type in WATCHED_EVENTS:
        db.session.info.setdefault(SESSION_KEY, []).append((event.id, DEPTH.get()))
