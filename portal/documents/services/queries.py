"""Read-only queries for the document pages."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.auth.models import User
from portal.auth.permissions import visible
from portal.doctemplates.models import DocumentTemplate
from portal.documents.models import Document
from portal.extensions import db

PER_PAGE = 25


def documents_page(user, page: int = 1, per_page: int = PER_PAGE, mine: bool = False):
    """One page of the documents this user may see (or only theirs), most recently changed first."""
    query = (
        select(Document)
        .where(visible(user, "documents", Document))
        .options(selectinload(Document.parties), selectinload(Document.counterparty),
                 selectinload(Document.responsible))
        .order_by(Document.updated_at.desc(), Document.id.desc())
    )
    if mine:
        query = query.where(Document.responsible_id == user.id)
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def responsible_choices() -> list[User]:
    return list(db.session.execute(
        select(User).where(User.active.is_(True)).order_by(User.name, User.id)
    ).scalars())


def active_templates() -> list[DocumentTemplate]:
    return list(db.session.execute(
        select(DocumentTemplate).where(DocumentTemplate.active.is_(True))
        .order_by(DocumentTemplate.name, DocumentTemplate.id)
    ).scalars())
