"""Read-only queries behind the board: counts per stage, a column's cards, the list, changes.

Counts come from one grouped query; a column reads only its newest cards (keyset paging on
(updated_at, id), served by the (stage, updated_at) index), so the board's cost stays flat as
documents pile up.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select, text, union_all

from portal.auth.models import User
from portal.auth.permissions import visible
from portal.documents.models import IS_APPROVER, OPEN_STAGES, STAGES, Document, Party
from portal.documents.services.common import as_utc
from portal.extensions import db
from portal.models_base import utcnow
from portal.parties.models import Counterparty
from portal.parties.search import like_pattern
from portal.pipeline import keyset
from portal.pipeline.card_data import CardDocument, read_cards
from portal.pipeline.cards import DEADLINE_WARNING
from portal.pipeline.filters import BoardFilter
from portal.pipeline.search import contains

COLUMN_SIZE = 20
LIST_PAGE_SIZE = 25
# Changes are looked for a little before the last render: a transaction that stamped its rows
# just before that render may have committed just after it.
CHANGE_OVERLAP = timedelta(seconds=10)
CHANGES_MAX = 200
SORT_COLUMNS = {
    "updated": Document.updated_at, "number": Document.number, "title": Document.title,
    "deadline": Document.deadline_at, "created": Document.created_at, "stage": Document.stage,
}


# The stages that end a document unsigned share one "Closed" column, a part per stage: the
# whole board then fits a laptop's screen and the open work keeps the room.
CLOSED_STAGES = ("declined", "stopped", "expired")


@dataclass(frozen=True)
class Column:
    stage: str
    count: int
    cards: list
    cursor: str | None  # where "load more" continues; None when every card is shown


@dataclass(frozen=True)
class ClosedColumn:
    parts: list[Column]  # one per closed stage, in the order of STAGES

    @property
    def count(self) -> int:
        return sum(part.count for part in self.parts)


# --- the filter as SQL -----------------------------------------------------------------------

def _department_ids(user) -> set[int]:
    if user.department_id is None:
        return set()
    return {user.department_id} | user.department.descendant_ids()


def _counterparty_ids(text: str):
    return select(Counterparty.id).where(
        Counterparty.search_text.like(like_pattern(text), escape="\\"))


def conditions(user, board: BoardFilter) -> list:
    """Where-clauses for the documents this user may see that match the filter."""
    where = [visible(user, "documents", Document)]
    if board.whose == "mine":
        where.append(Document.responsible_id == user.id)
    elif board.whose == "department":
        where.append(Document.responsible_id.in_(
            select(User.id).where(User.department_id.in_(_department_ids(user) or {-1}))))
    if board.company:
        where.append(Document.company_id == board.company)
    if board.responsible:
        where.append(Document.responsible_id == board.responsible)
    if board.counterparty:
        where.append(Document.counterparty_id.in_(_counterparty_ids(board.counterparty)))
    if board.created_from:
        where.append(Document.created_at >= _start_of(board.created_from))
    if board.created_to:
        where.append(Document.created_at < _start_of(board.created_to) + timedelta(days=1))
    if board.q:
        where.append(or_(contains(Document.number, board.q), contains(Document.title, board.q),
                         Document.counterparty_id.in_(_counterparty_ids(board.q))))
    if board.focus:
        where.append(focus_condition(user, board.focus))
    return where


# --- what needs attention (the same SQL behind the dashboard's counts and the board's filter) ---

def focus_condition(user, focus: str, now: datetime | None = None):
    """Documents in the `focus` of filters.FOCUSES; the card helpers (cards.py) say the same."""
    now = now or utcnow()
    is_open = Document.stage.in_(OPEN_STAGES)
    if focus == "waiting_for_me":
        return or_(and_(Document.stage == "draft", Document.responsible_id == user.id),
                   and_(is_open, _user_signs_now(user)))
    if focus == "waiting_for_client":
        return Document.stage == "client_signing"
    if focus == "stuck":
        stuck_days = current_app.config.get("SIGNET_STUCK_DAYS", 3)
        since = func.coalesce(Document.stage_changed_at, Document.created_at)
        return and_(is_open, since <= now - timedelta(days=stuck_days))
    if focus == "due_soon":
        return and_(is_open, Document.deadline_at.is_not(None),
                    Document.deadline_at < now + DEADLINE_WARNING)
    if focus == "completed_this_week":
        return and_(Document.stage == "completed", Document.completed_at >= start_of_week(now))
    raise ValueError(f"unknown focus {focus}")


def _user_signs_now(user):
    """The user is one of our signers (an approver or the company's signer, matched by email)
    whose invitation is out and unanswered: as cards.current_signers reads a turn."""
    return exists().where(
        Party.document_id == Document.id, Party.role.in_(("approver", "company")),
        Party.status.in_(("sent", "opened")), Party.token_hash.is_not(None),
        func.lower(Party.email) == (user.email or "").lower())


def start_of_week(now: datetime) -> datetime:
    """Monday 00:00 UTC of the week `now` falls in."""
    return _start_of(now.date() - timedelta(days=now.weekday()))


def _start_of(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# --- the board -------------------------------------------------------------------------------

def stage_counts(user, board: BoardFilter) -> dict[str, int]:
    """Documents per stage under the filter, in one grouped query."""
    rows = db.session.execute(
        select(Document.stage, func.count()).where(*conditions(user, board))
        .group_by(Document.stage))
    counts = dict.fromkeys(STAGES, 0)
    counts.update({stage: count for stage, count in rows})
    return counts


def approval_used() -> bool:
    """Does anyone use the approval step at all (else its column stays hidden)?

    The condition is written as the partial index's, inline: only then may the planner use it.
    """
    return db.session.execute(
        select(Party.id).where(text("parties." + IS_APPROVER)).limit(1)).first() is not None


def board_stages(counts: dict[str, int]) -> list[str]:
    return [stage for stage in STAGES
            if stage != "approval" or counts["approval"] or approval_used()]


def column_cards(user, board: BoardFilter, stage: str, after: str | None = None,
                 size: int = COLUMN_SIZE) -> tuple[list[CardDocument], str | None]:
    """The newest cards of one column after the `after` cursor, and the next cursor."""
    query = _column_ids(conditions(user, board), stage, parse_cursor(after), size)
    return _cut(_loaded(db.session.execute(query).scalars().all()), size)


def _column_ids(where: list, stage: str, position: tuple[datetime, int] | None, size: int):
    """Ids of a column's newest documents (one more than shown: is there a next page?)."""
    query = select(Document.id).where(*where, Document.stage == stage)
    if position is not None:
        moment, document_id = position
        query = query.where(or_(Document.updated_at < moment,
                                and_(Document.updated_at == moment, Document.id < document_id)))
    return query.order_by(Document.updated_at.desc(), Document.id.desc()).limit(size + 1)


def _loaded(ids) -> list[CardDocument]:
    """The documents as cards, newest first (as the columns order them)."""
    return sorted(read_cards(ids), key=lambda document: (document.updated_at, document.id),
                  reverse=True)


def _cut(cards: list, size: int) -> tuple[list, str | None]:
    if len(cards) <= size:
        return cards, None
    cards = cards[:size]
    return cards, cursor_of(cards[-1])


def board_columns(user, board: BoardFilter) -> list[Column | ClosedColumn]:
    """The board's columns left to right, the closed stages gathered into the last one.

    Every column's first cards come in one round trip: a union of per-stage keyset reads
    (each served by the (stage, updated_at) index), then one load of those documents.
    """
    counts = stage_counts(user, board)
    stages = board_stages(counts)
    where = conditions(user, board)
    filled = [stage for stage in stages if counts[stage]]
    by_stage: dict[str, list[CardDocument]] = {stage: [] for stage in stages}
    if filled:
        reads = [_column_ids(where, stage, None, COLUMN_SIZE).subquery().select()
                 for stage in filled]
        ids = db.session.execute(union_all(*reads)).scalars().all()
        for document in _loaded(ids):
            by_stage[document.stage].append(document)
    columns, closed = [], []
    for stage in stages:
        cards, cursor = _cut(by_stage[stage], COLUMN_SIZE)
        (closed if stage in CLOSED_STAGES else columns).append(
            Column(stage, counts[stage], cards, cursor))
    return [*columns, ClosedColumn(closed)]


def closed_count(counts: dict[str, int]) -> int:
    return sum(counts[stage] for stage in CLOSED_STAGES)


def cursor_of(document) -> str:
    return f"{document.updated_at.isoformat()}~{document.id}"


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    """(updated_at, id) from a cursor; a malformed one starts from the top."""
    try:
        moment, document_id = str(value or "").rsplit("~", 1)
        return as_utc(datetime.fromisoformat(moment)), int(document_id)
    except ValueError:
        return None


# --- the list --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListPage:
    """One page of the list, with the cursors its Previous and Next links carry."""

    items: list
    total: int
    page: int
    per_page: int
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None


def list_page(user, board: BoardFilter, per_page: int = LIST_PAGE_SIZE) -> ListPage:
    """One page of the filtered documents, sorted as asked.

    Previous and Next carry the cursor of the row next to the page (keyset paging): page 400
    reads 25 rows like page 1. A page number alone (a typed URL) is read by offset.
    """
    descending = board.sort.startswith("-")
    column = SORT_COLUMNS[board.sort.lstrip("-")]
    is_time = column.key.endswith("_at")
    where = conditions(user, board)
    total = db.session.scalar(select(func.count()).select_from(Document).where(*where))
    query = select(Document.id).where(*where)
    after = keyset.parse_position(board.after, is_time) if board.after else None
    before = keyset.parse_position(board.before, is_time) if board.before else None
    page = board.page
    if after is not None:
        query = query.where(keyset.after(column, Document.id, descending, after)) \
            .order_by(*keyset.ordering(column, Document.id, descending))
    elif before is not None:
        query = query.where(keyset.before(column, Document.id, descending, before)) \
            .order_by(*keyset.ordering(column, Document.id, descending, reverse=True))
    else:
        page = min(page, max((total + per_page - 1) // per_page, 1))
        query = query.order_by(*keyset.ordering(column, Document.id, descending)) \
            .offset((page - 1) * per_page)
    ids = db.session.execute(query.limit(per_page + 1)).scalars().all()
    more = len(ids) > per_page
    ids = ids[:per_page]
    if before is not None:
        ids.reverse()
    items = read_cards(ids)
    attribute = column.key

    def cursor(document):
        return keyset.cursor_of(getattr(document, attribute), document.id)

    reading_back = before is not None
    has_next = (more and not reading_back) or (reading_back and bool(items))
    has_prev = (more and reading_back) or \
        (not reading_back and (after is not None or page > 1) and bool(items))
    if reading_back and not more:
        page = 1  # read back to the very first row
    return ListPage(items=items, total=total, page=page, per_page=per_page,
                    next_cursor=cursor(items[-1]) if has_next and items else None,
                    prev_cursor=cursor(items[0]) if has_prev and items else None)


# --- refresh ---------------------------------------------------------------------------------

def changed_since(user, board: BoardFilter,
                  since: datetime) -> tuple[list[CardDocument], list[int]]:
    """Cards changed since `since` that match the filter, and ids of changed ones that no longer do.

    Ids only go to the second list when the user may see the document: no one learns of others'.
    """
    since = since - CHANGE_OVERLAP
    changed = read_cards(db.session.execute(
        select(Document.id).where(*conditions(user, board), Document.updated_at > since)
        .order_by(Document.updated_at.asc(), Document.id.asc()).limit(CHANGES_MAX)).scalars())
    shown = {document.id for document in changed}
    gone = [document_id for document_id in db.session.execute(
        select(Document.id).where(visible(user, "documents", Document),
                                  Document.updated_at > since).limit(CHANGES_MAX)).scalars()
            if document_id not in shown]
    return changed, gone


def parse_since(value) -> datetime | None:
    try:
        return as_utc(datetime.fromisoformat(str(value or "")))
    except ValueError:
        return None
