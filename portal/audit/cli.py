"""`flask signet audit-check`: detect audit events edited after they were recorded."""

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.audit.service import broken_links
from portal.documents.models import Document
from portal.extensions import db


def _documents_to_check(document_id: int | None) -> list[tuple[int, str]]:

    query = select(Document.id, Document.number).order_by(Document.id)
    if document_id is not None:
        query = query.where(Document.id == document_id)
    return [(row.id, row.number) for row in db.session.execute(query)]


def _event_count(document_ids: list[int]) -> int:

    if not document_ids:
        return 0
    return db.session.execute(
        select(func.count(AuditEvent.id)).where(AuditEvent.document_id.in_(document_ids))
    ).scalar_one()


@click.command("audit-check")
@click.option("--document", "document_id", type=int, default=None,
              help="Check only the document with this id.")
@with_appcontext
def audit_check_command(document_id: int | None):
    """Walk every document's audit chain; exit 1 if any event was changed or removed."""

    documents = _documents_to_check(document_id)
    if document_id is not None and not documents:
        raise click.UsageError(f"There is no document with id {document_id}.")

    broken_documents = 0
    for doc_id, number in documents:
        broken = broken_links(doc_id)
        if broken:
            broken_documents += 1
            event_ids = ", ".join(str(event_id) for event_id in broken)
            click.echo(f"Document {doc_id} ({number}): broken events {event_ids}")

    events = _event_count([doc_id for doc_id, _ in documents])
    if broken_documents:
        click.echo(f"Checked {len(documents)} documents, {events} events: "
                   f"{broken_documents} document(s) with a broken chain.")
        click.get_current_context().exit(1)
    click.echo(f"Checked {len(documents)} documents, {events} events: all chains intact.")
