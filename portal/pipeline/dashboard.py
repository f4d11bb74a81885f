"""The home dashboard: what needs the user's (and, by their scope, their team's) attention.

Each count is the board's own filter (queries.conditions with a focus), counted in one query,
so a count and the board it links to always agree; the activity is the newest audit events
on documents the user may see, a short list. The cost stays flat as documents pile up.
"""

from dataclasses import dataclass

from sqlalchemy import case, func, select

from portal.audit.models import AuditEvent
from portal.auth.permissions import can, visible
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from portal.pipeline import queries
from portal.pipeline.filters import FOCUS_LABELS, FOCUSES, BoardFilter, parse_filter

ACTIVITY_SIZE = 8


@dataclass(frozen=True)
class Attention:
    focus: str
    label: str
    count: int
    board_args: dict  # the board's query string showing exactly these documents


@dataclass(frozen=True)
class Dashboard:
    total: int  # every document the user may see; 0 on a fresh install
    attention: list[Attention]
    activity: list[tuple[AuditEvent, Document]]


def dashboard_for(user) -> Dashboard | None:
    """The user's dashboard; None when they may not see documents at all."""
    if not can(user, "view", "documents"):
        return None
    board = default_board(user)
    total, counts = attention_counts(user, board)
    attention = [Attention(focus, str(FOCUS_LABELS[focus]), counts[focus],
                           board.args(focus=focus)) for focus in FOCUSES]
    activity = recent_activity(user) if total else []
    return Dashboard(total, attention, activity)


def default_board(user) -> BoardFilter:
    """The board as it opens for this user: every document they may see."""
    return parse_filter({}, user)


def attention_counts(user, board: BoardFilter) -> tuple[int, dict[str, int]]:
    """(all documents under `board`, documents per focus), in one aggregate query."""
    now = utcnow()
    columns = [func.count(case((queries.focus_condition(user, focus, now), 1)))
               for focus in FOCUSES]
    row = db.session.execute(
        select(func.count(), *columns).where(*queries.conditions(user, board))).one()
    return row[0], dict(zip(FOCUSES, row[1:], strict=True))


def recent_activity(user, limit: int = ACTIVITY_SIZE) -> list[tuple[AuditEvent, Document]]:
    """The newest audit events on documents the user may see, newest first."""
    rows = db.session.execute(
        select(AuditEvent, Document).join(Document, AuditEvent.document_id == Document.id)
        .where(visible(user, "documents", Document))
        .order_by(AuditEvent.id.desc()).limit(limit))
    return [(event, document) for event, document in rows]
