"""The link from the audit trail to automation: which events wait for their commit, at what depth.

The engine registers `note_event` with `audit.service.on_recorded` when the app is built.
"""

from portal.audit.service import DEPTH
from portal.automation.triggers import WATCHED_EVENTS
from portal.extensions import db

__all__ = ["DEPTH", "SESSION_KEY", "note_event"]

SESSION_KEY = "signet_automation_events"


def note_event(event) -> None:
    """Remember a watched event until its transaction commits (called by audit.record)."""
    if event.document_id is not None and event.type in WATCHED_EVENTS:
        db.session.info.setdefault(SESSION_KEY, []).append((event.id, DEPTH.get()))
