"""The stages of a document and the moves between them: a small, explicit state machine.

    draft ──send──▶ approval ◀─▶ company_signing ◀─▶ client_signing ─▶ completed
                        │              │                  │
                        └──────────────┴──────────────────┴──▶ declined | stopped | expired

An open stage says whose turn it is: the role of the group signing now. Usually that only
moves forward, but a document whose client signs first (a public link's) goes from
client_signing to company_signing when the client signed. Every open stage may end as
declined, stopped or expired. Ended stages never change.
"""

from datetime import datetime

from portal.documents.models import FINAL_STAGES, OPEN_STAGES, Document

DRAFT = "draft"
APPROVAL, COMPANY_SIGNING, CLIENT_SIGNING = OPEN_STAGES
COMPLETED, DECLINED, STOPPED, EXPIRED = FINAL_STAGES
ENDINGS = (DECLINED, STOPPED, EXPIRED)

MOVES: dict[str, frozenset[str]] = {
    DRAFT: frozenset({APPROVAL, COMPANY_SIGNING}),
    APPROVAL: frozenset({COMPANY_SIGNING, CLIENT_SIGNING, COMPLETED, *ENDINGS}),
    COMPANY_SIGNING: frozenset({APPROVAL, CLIENT_SIGNING, COMPLETED, *ENDINGS}),
    CLIENT_SIGNING: frozenset({APPROVAL, COMPANY_SIGNING, COMPLETED, *ENDINGS}),
}
# The stage each signing role's turn puts the document in, and their order.
STAGE_FOR_ROLE = {"approver": APPROVAL, "company": COMPANY_SIGNING, "client": CLIENT_SIGNING}
STAGE_RANK = {APPROVAL: 1, COMPANY_SIGNING: 2, CLIENT_SIGNING: 3}
# When a document reached a stage, kept in a column of its own.
STAMPED = {COMPLETED: "completed_at", STOPPED: "stopped_at"}


class IllegalMove(RuntimeError):
    """A bug, not a user's mistake: callers check the stage under the lock before moving."""


def can_move(stage: str, to: str) -> bool:
    return to in MOVES.get(stage, ())


def change_stage(document: Document, to: str, now: datetime) -> str:
    """Move the (locked) document to `to`; its previous stage."""
    previous = document.stage
    if not can_move(previous, to):
        raise IllegalMove(f"document {document.id}: {previous} -> {to}")
    document.stage = to
    document.stage_changed_at = now
    document.updated_at = now
    if previous == DRAFT:
        document.sent_at = now
    if to in STAMPED:
        setattr(document, STAMPED[to], now)
    return previous
