"""What the bulk pages show: the actor's batches, a batch's rows and counts, the example file,
and the first valid row's document rendered as it will be sent (nothing is stored).

Reading only: every function checks the permission as the services do (batch_for), and the
preview rolls back whatever it built.
"""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import unit
from portal.auth.models import User
from portal.auth.permissions import visible
from portal.bulk.jobs import CLIENT_KEYS, document_arguments
from portal.bulk.models import ROW_STATUSES, BulkBatch, BulkRow
from portal.bulk.rows import DOCUMENT_VARIABLES, TARGETS, fold_header, printed_variables
from portal.bulk.services import BATCH_ACTION, batch_for, require_bulk_permission
from portal.doctemplates.models import DocumentTemplate
from portal.doctemplates.rendering import (
    RenderedPdf,
    TemplateRefused,
    build_context,
    render_document_pdf,
)
from portal.documents.errors import DocumentRefused
from portal.documents.models import Document
from portal.documents.numbering import local_today
from portal.documents.services.create import clean_items
from portal.documents.services.parties import client_from_dict
from portal.extensions import db
from portal.parties.models import Company, Counterparty

RECENT_BATCHES = 50
PREVIEW_PAGES = 2
# What create_from_template takes when a row leaves them out (its own defaults).
DEFAULT_CURRENCY = "RUB"
DEFAULT_VAT_RATE = Decimal(0)

# The statuses as the pages name them, and the badge each wears.
BATCH_STATUS_LABELS = {
    "validated": _l("checked, not sent"), "confirmed": _l("queued"), "running": _l("sending"),
    "done": _l("done"), "cancelled": _l("cancelled")}
ROW_STATUS_LABELS = {
    "invalid": _l("has errors"), "valid": _l("ready"), "skipped": _l("skipped"),
    "pending": _l("waiting"), "working": _l("sending"), "sent": _l("sent"),
    "failed": _l("failed")}
STATUS_BADGES = {"validated": "info", "confirmed": "info", "running": "info", "done": "ok",
                 "cancelled": "off", "invalid": "off", "valid": "ok", "skipped": "",
                 "pending": "", "working": "info", "sent": "ok", "failed": "off"}


@dataclass(frozen=True)
class BatchLine:
    """One batch in the list: the batch, its template's name, who started it ("" when the
    reader did) and its rows by status."""

    batch: BulkBatch
    template_name: str
    started_by: str
    counts: dict[str, int]


@dataclass(frozen=True)
class RowLine:
    """One row of a batch as its pages show it."""

    row: BulkRow
    client_name: str  # the directory entry it matched, "" when a new client will be made
    document_number: str


def batches_of(actor, limit: int = RECENT_BATCHES) -> list[BatchLine]:
    """The latest batches the actor may open (batch_for's rule: their own, or within their
    scope for sending documents), newest first, with their rows counted by status."""
    require_bulk_permission(actor)
    rows = db.session.execute(
        select(BulkBatch, DocumentTemplate.name, User.name)
        .join(DocumentTemplate, DocumentTemplate.id == BulkBatch.template_id)
        .join(User, User.id == BulkBatch.created_by_id)
        .where(visible(actor, "documents", BulkBatch, action=BATCH_ACTION))
        .order_by(BulkBatch.id.desc()).limit(limit)).all()
    counts = _counts_by_batch([batch.id for batch, _name, _user in rows])
    return [BatchLine(batch, name, "" if batch.created_by_id == actor.id else user_name,
                      counts.get(batch.id, dict.fromkeys(ROW_STATUSES, 0)))
            for batch, name, user_name in rows]


def _counts_by_batch(batch_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    if not batch_ids:
        return counts
    for batch_id, status, count in db.session.execute(
            select(BulkRow.batch_id, BulkRow.status, func.count(BulkRow.id))
            .where(BulkRow.batch_id.in_(batch_ids))
            .group_by(BulkRow.batch_id, BulkRow.status)):
        counts.setdefault(batch_id, dict.fromkeys(ROW_STATUSES, 0))[status] = count
    return counts


def row_lines(batch: BulkBatch) -> list[RowLine]:
    """Every row of the batch in sheet order, with its matched client and its document."""
    rows = db.session.execute(
        select(BulkRow, Counterparty.name, Document.number)
        .outerjoin(Counterparty, Counterparty.id == BulkRow.counterparty_id)
        .outerjoin(Document, Document.id == BulkRow.document_id)
        .where(BulkRow.batch_id == batch.id).order_by(BulkRow.row_number)).all()
    return [RowLine(row, name or "", number or "") for row, name, number in rows]


def check_summary(lines: list[RowLine]) -> dict[str, int]:
    """Counts before the confirmation (as rows.summary): valid, invalid, to create, matched."""
    valid = [line.row for line in lines if line.row.status == "valid"]
    return {"valid": len(valid), "invalid": sum(line.row.status == "invalid" for line in lines),
            "to_create": sum(row.counterparty_id is None for row in valid),
            "matched": sum(row.counterparty_id is not None for row in valid)}


def mapping_targets(template) -> list:
    """The targets a mapping form offers: all but the document variables the template does
    not print (those would change nothing)."""
    printed = printed_variables(template)
    return [target for target in TARGETS
            if target.key not in DOCUMENT_VARIABLES or target.key in printed]


# --- the example file ------------------------------------------------------------------------

EXAMPLE_ROWS = (
    {"kind": "person", "name": "Maria Silva", "email": "maria@example.com", "phone": "",
     "channel": "email", "amount": "1500.00", "items": "", "place": "Lisboa"},
    {"kind": "company", "name": "Northwind Trading Ltd", "email": "contracts@northwind.example",
     "phone": "+44 20 7946 0456", "channel": "sms", "amount": "",
     "items": "Design; 2; 750.00 | Support; 300", "place": "Bristol"},
)


def example_header(target) -> str:
    """The column name for a target in the example: its label when the mapping recognises
    that spelling, else the first spelling it does."""
    label = str(target.label)
    known = {fold_header(spelling) for spelling in target.headers}
    return label if fold_header(label) in known else target.headers[0]


def example_csv() -> str:
    """A small CSV with the usual columns, as a user may fill it in (UTF-8, commas)."""
    targets = [target for target in TARGETS if target.key in EXAMPLE_ROWS[0]]
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow([example_header(target) for target in targets])
    for row in EXAMPLE_ROWS:
        writer.writerow([row[target.key] for target in targets])
    return output.getvalue()


# --- the first document ----------------------------------------------------------------------

def first_valid_row(batch: BulkBatch) -> BulkRow | None:
    return db.session.scalar(select(BulkRow).where(
        BulkRow.batch_id == batch.id, BulkRow.status.in_(("valid", "pending", "sent")))
        .order_by(BulkRow.row_number).limit(1))


def preview_first_row(actor, batch_id, preview_pages: int = PREVIEW_PAGES) -> RenderedPdf | None:
    """The first valid row's document rendered as create_from_template would make it, with
    images of its first pages; None when no row is valid. Nothing is numbered or stored: the
    number reads as a placeholder. TemplateRefused says why it cannot be rendered."""
    batch = batch_for(actor, batch_id)
    row = first_valid_row(batch)
    if row is None:
        return None
    template = db.session.get(DocumentTemplate, batch.template_id)
    try:
        context = _context(row, template, db.session.get(Company, batch.company_id))
        body_html = template.body_html
    finally:
        # Ends the read before the render (seconds), and the client built for the context
        # stays unsaved.
        unit.rollback()
    return render_document_pdf(body_html, context, preview_pages)


def _context(row: BulkRow, template: DocumentTemplate, company: Company) -> dict:
    values = row.values
    record = db.session.get(Counterparty, row.counterparty_id) if row.counterparty_id else None
    if record is None:
        try:
            _party, record = client_from_dict({key: values.get(key, "") for key in CLIENT_KEYS})
        except DocumentRefused as refused:  # the row was checked; the rules changed since
            raise TemplateRefused(next(iter(refused.errors.values()))) from None
    arguments = document_arguments(values, template.name)
    errors: dict = {}
    items = clean_items(arguments["items"], errors)
    with force_locale(template.language):  # the document's language, not the page's
        placeholder = _("(number given when sent)")
    return build_context(
        company, record, number=placeholder, title=arguments["title"],
        date=arguments.get("date") or local_today(), place=arguments["place"], items=items,
        vat_rate=arguments.get("vat_rate", DEFAULT_VAT_RATE),
        currency=arguments.get("currency", DEFAULT_CURRENCY), language=template.language)
