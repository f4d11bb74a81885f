"""Who hears about a document: its employees and the parties already invited."""

from sqlalchemy import select

from portal.auth.models import User
from portal.documents.models import Document, Party
from portal.extensions import db


def employees_of(document: Document) -> list[User]:
    """The responsible employee and the creator, once each, if they can still read mail."""
    people = []
    for user in (document.responsible, document.created_by):
        if user is not None and user.active and user.email and user not in people:
            people.append(user)
    return people


def responsible_of(document: Document) -> list[User]:
    """The responsible employee, when active (a list: none for a deactivated account)."""
    user = document.responsible
    return [user] if user is not None and user.active and user.email else []


def fresh_parties(document: Document) -> list[Party]:
    """The document's parties in signing order, read again from the database."""
    return list(db.session.scalars(
        select(Party).where(Party.document_id == document.id)
        .order_by(Party.order, Party.id).execution_options(populate_existing=True)
    ))


def invited(document: Document, exclude: int | None = None) -> list[Party]:
    """Signers who were sent a link and have not declined (but `exclude`)."""
    return [party for party in fresh_parties(document)
            if party.signs and party.sent_at is not None and party.id != exclude
            and party.status != "declined"]
