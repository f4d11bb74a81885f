"""Domain events, published by the workflow and heard by the processes that react to them.

The workflow (a domain package) changes a document's stage and publishes what happened; it
never calls sealing, notices or automation itself, which sit above it. Each of those
subscribes when the app is built (`portal.reactions`). A reaction runs inside the publisher's
transaction, in a savepoint of its own: whatever it adds (a queued notice, its audit event)
commits with the change, and a reaction that fails is rolled back alone and logged, so it can
never undo or block the change it reacts to. Work that must wait for the commit (a job, a
message's dispatch) is handed to `portal.unit.after_commit`.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from portal.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Happened:
    """One domain event: its name (an audit event type, or a signal such as "turn"), the
    document's id and what the reactions need to know."""

    name: str
    document_id: int
    data: dict = field(default_factory=dict)


_reactions: dict[str, list[Callable[[Happened], object]]] = defaultdict(list)


def subscribe(name, reaction: Callable[[Happened], object]) -> None:
    """Hear every `name` event (a catalogue EventType or a name) from now on (idempotent:
    apps built twice subscribe once)."""
    name = getattr(name, "name", name)
    if reaction not in _reactions[name]:
        _reactions[name].append(reaction)


def publish(name, document_id: int, **data) -> None:
    """Run every reaction to `name`, each in a savepoint of the current transaction."""
    name = getattr(name, "name", name)
    happened = Happened(name, document_id, data)
    for reaction in list(_reactions.get(name, ())):
        try:
            with db.session.begin_nested():
                reaction(happened)
        except Exception:
            log.exception("Reaction %s to %s of document %s failed",
                          getattr(reaction, "__qualname__", reaction), name, document_id)

