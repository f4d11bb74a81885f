"""Who a link belongs to and what its party may do now (read, sign, or only see a notice)."""

import functools
from datetime import datetime

from flask import g
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal import unit
from portal.documents.models import FINAL_STAGES, OPEN_STAGES, Document, Party
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.signing import page_data
from portal.signing.page_data import PartyRecord
from portal.tokens import hash_token
from portal.unit import fresh_transaction
from portal.workflow.lock import lock_current

TOKEN_MAX_LENGTH = 200
# What a party can do with its link right now. Only "active" shows the document.
STATES = ("active", "waiting", "signed", "declined", "completed", "stopped", "expired")


class LinkInvalid(DomainError):
    """No party has this link."""

    status = 404

    def __init__(self):
        super().__init__(_("This link is not valid. Check that you opened the whole link "
                           "from the message."))


class SigningClosed(DomainError):
    """The party cannot act now; `state` says why (the page for that state explains)."""

    status = 409

    def __init__(self, state: str):
        super().__init__(_("This signing link can no longer be used."))
        self.state = state


class StepRefused(DomainError):
    """A step's input or its order was refused; the message is shown in that step."""

    status = 422


def find_party(token: str) -> Party:
    """The signing party whose link carries `token`, or LinkInvalid."""
    return _usable(_party_by_token_hash(_link_hash(token)))


_PAGE_PARTY_KEY = "signing_page_party"


def read_page_party(token: str, fresh: bool = False) -> PartyRecord:
    """As find_party, as plain records for the signing page, which only reads (page_data).

    Read once per request (the language hook and the page share it); `fresh`: read again,
    after this request wrote.
    """
    token_hash = _link_hash(token)
    found = g.get(_PAGE_PARTY_KEY)
    if fresh or found is None or found[0] != token_hash:
        found = (token_hash, page_data.read_party(token_hash))
        setattr(g, _PAGE_PARTY_KEY, found)
    return _usable(found[1])


def forget_page_party() -> None:
    """At the end of a request: a test's requests may share one app context (and its `g`)."""
    g.pop(_PAGE_PARTY_KEY, None)


def _link_hash(token: str) -> str:
    token = str(token or "")
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise LinkInvalid()
    return hash_token(token)


def _usable(party):
    if party is None or not party.signs or party.document.stage == "draft":
        raise LinkInvalid()
    return party


# A route's language hook and the route itself look one link up in one request: the second
# lookup takes the row from the session (refreshed if a commit expired it), not a new query.
# One joined query brings what the signing routes read (document, company, parties, fields):
# each separate load costs the ORM ~0.4 ms. The statement is built once: building it and its
# cache key again on every request cost another 0.25 ms. (The page itself reads records.)
_FOUND_PARTY_KEY = "signing_party_found"


@functools.cache
def _party_with_its_page_statement():
    return select(Party).where(Party.token_hash == bindparam("token_hash")).options(
        joinedload(Party.document).joinedload(Document.company),
        joinedload(Party.document).joinedload(Document.parties),
        joinedload(Party.document).joinedload(Document.fields))


def _party_by_token_hash(token_hash: str) -> Party | None:
    found = db.session.info.get(_FOUND_PARTY_KEY)
    if found is not None and found[0] == token_hash:
        party = db.session.get(Party, found[1])
        if party is not None and party.token_hash == token_hash:
            return party
    party = db.session.execute(
        _party_with_its_page_statement(), {"token_hash": token_hash}
    ).unique().scalar_one_or_none()
    if party is not None:
        db.session.info[_FOUND_PARTY_KEY] = (token_hash, party.id)
    return party


def lock_party(token: str) -> Party:
    """The party, fresh and row-locked with its document (document first: one lock order).

    A fresh transaction that writes first: PostgreSQL locks the document's row, SQLite takes
    its write lock with the newest snapshot (a read first could not be upgraded later).
    """
    fresh_transaction()
    owner = select(Party.document_id).where(
        Party.token_hash == hash_token(str(token or "")[:TOKEN_MAX_LENGTH])).scalar_subquery()
    lock_current(owner)  # before reading the party: SQLite must write first (see above)
    party = find_party(token)
    return _locked(party.id)


def lock_party_by_id(party_id: int) -> Party | None:
    """As lock_party, for a party reached without its own link (a batch ceremony's)."""
    fresh_transaction()
    lock_current(select(Party.document_id).where(Party.id == party_id).scalar_subquery())
    return _locked(party_id, missing_ok=True)


def _locked(party_id: int, missing_ok: bool = False) -> Party | None:
    result = db.session.execute(
        select(Party).where(Party.id == party_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none() if missing_ok else result.scalar_one()


def earlier_unsigned(party: Party) -> list[Party]:
    """Signers before this party (a lower order) who have not signed yet."""
    return [other for other in party.document.parties
            if other.signs and other.order < party.order and other.status != "signed"]


def state_of(party: Party, now: datetime | None = None) -> str:
    """One of STATES; checked on every request, never trusted from the page."""
    document = party.document
    if party.status == "signed":
        return "signed"
    if party.status == "declined" or document.stage == "declined":
        return "declined"
    if document.stage in FINAL_STAGES:
        return document.stage
    deadline = document.deadline_at
    if deadline is not None and deadline <= (now or utcnow()):
        return "expired"
    if document.stage not in OPEN_STAGES:
        return "stopped"
    if party.status == "waiting" or earlier_unsigned(party):
        return "waiting"
    return "active"


def require_active(party: Party) -> None:
    state = state_of(party)
    if state != "active":
        unit.rollback()
        raise SigningClosed(state)


def step_of(party: Party, in_ceremony: bool) -> str:
    """Where the ceremony stands: agree, then code, then fill (and sign).

    `in_ceremony`: this browser holds the session its code confirmation opened; without it a
    party that confirmed a code elsewhere (or too long ago) is back at the code step.
    """
    if party.consent_at is None:
        return "agree"
    if not in_ceremony:
        return "code"
    return "fill"
