"""Where a sent document stands, for the top of its page: whose turn it is, since when, and
when "Remind now" is allowed again (the same rules as the board's panel: cards, controls)."""

from dataclasses import dataclass
from datetime import datetime

from portal.documents.models import Document, Party
from portal.pipeline.cards import (
    current_signers,
    days_in_stage,
    deadline_close,
    is_stuck,
    stage_since,
)
from portal.pipeline.controls import next_reminder_at


@dataclass(frozen=True)
class Turn:
    party: Party
    since: datetime  # when their invitation went (their turn started)
    remind_after: datetime | None  # None: "Remind now" is allowed


def current_turns(document: Document) -> list[Turn]:
    """The parties whose signature the document waits for now, oldest invitation first."""
    turns = [Turn(party, party.sent_at or stage_since(document),
                  next_reminder_at(document.id, party.id))
             for party in current_signers(document)]
    return sorted(turns, key=lambda turn: turn.since)


def decliner(document: Document) -> Party | None:
    """Who declined a declined document."""
    return next((party for party in document.parties if party.status == "declined"), None)


def warnings(document: Document) -> dict:
    """What the board's card warns of: days in the stage (stuck past the limit), the deadline
    within a day."""
    return {"days": days_in_stage(document), "stuck": is_stuck(document),
            "due_soon": deadline_close(document)}
