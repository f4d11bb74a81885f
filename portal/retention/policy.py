"""What retention would do now: the completed documents whose periods have passed.

One reading for the dry run, the company page and the purge itself, so what is listed is
exactly what a run would do.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.documents.models import Document
from portal.extensions import db
from portal.parties.models import Company
from portal.parties.rules import RETENTION_MAX_DAYS

FILES = "files"  # delete the final and source PDFs
MASK = "mask"  # mask the signers' contacts and the trail's addresses and browsers
ACTIONS = (FILES, MASK)


@dataclass(frozen=True)
class Due:
    """One thing retention would do to one document, and why."""

    document_id: int
    number: str
    company_id: int
    company_name: str
    action: str  # one of ACTIONS
    completed_at: datetime
    days: int


def _period(company: Company, action: str) -> int:
    days = company.retention_files_days if action == FILES else company.retention_mask_days
    return days if days and 0 < days <= RETENTION_MAX_DAYS else 0


def _not_done(action: str):
    return Document.files_purged_at.is_(None) if action == FILES \
        else Document.contacts_masked_at.is_(None)


def _conditions(company: Company, action: str, now: datetime) -> list:
    return [Document.company_id == company.id, Document.stage == "completed",
            Document.final_sha256.is_not(None), Document.legal_hold.is_(False),
            Document.completed_at <= now - timedelta(days=_period(company, action)),
            _not_done(action)]


def _companies(company_id: int | None):
    query = select(Company).order_by(Company.id)
    if company_id is not None:
        query = query.where(Company.id == company_id)
    return db.session.execute(query).scalars()


def due(now: datetime, limit: int, action: str, company_id: int | None = None) -> list[Due]:
    """At most `limit` documents whose `action` is due at `now`, oldest completion first.

    Never a document under legal hold, nor one whose final PDF was not issued yet (its source
    is still needed to seal it)."""
    found: list[Due] = []
    for company in _companies(company_id):
        if not _period(company, action) or len(found) >= limit:
            continue
        rows = db.session.execute(
            select(Document.id, Document.number, Document.completed_at)
            .where(*_conditions(company, action, now))
            .order_by(Document.completed_at, Document.id)
            .limit(limit - len(found))
        )
        found += [Due(document_id, number, company.id, company.display_name, action,
                      completed_at, _period(company, action))
                  for document_id, number, completed_at in rows]
    return found


def count_due(now: datetime, action: str, company_id: int | None = None) -> int:
    """How many documents `action` is due for at `now` (unbounded, for the company page)."""
    return sum(
        db.session.execute(select(db.func.count(Document.id))
                           .where(*_conditions(company, action, now))).scalar_one()
        for company in _companies(company_id) if _period(company, action))


def everything_due(now: datetime, limit: int, company_id: int | None = None) -> list[Due]:
    """Both actions, each bounded by `limit`."""
    return [item for action in ACTIONS for item in due(now, limit, action, company_id)]


def held_count(company_id: int) -> int:
    """Documents of the company kept by a legal hold."""
    return db.session.execute(
        select(db.func.count(Document.id))
        .where(Document.company_id == company_id, Document.legal_hold.is_(True))
    ).scalar_one()
