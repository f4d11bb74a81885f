"""Bulk send: a batch made from one uploaded spreadsheet, and one row per client in it.

A batch is "validated" after the upload (rows checked, nothing written elsewhere),
"confirmed" (its run is queued), "running" once a run started (its pending rows are created
and sent by jobs), then "done"; or "cancelled".
A row is "invalid" or "valid" after validation; at confirmation a valid row becomes
"pending" (an invalid one "skipped"); a run claims it ("working", with a lease), creates and
sends its document, and settles it "sent" or "failed" (with the message).
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from portal.extensions import db
from portal.models_base import TimestampMixin, UTCDateTime, utcnow

BATCH_STATUSES = ("validated", "confirmed", "running", "done", "cancelled")
# A run is queued for these (the sweep queues it again when it was lost).
QUEUED_OR_RUNNING = ("confirmed", "running")
ROW_STATUSES = ("invalid", "valid", "skipped", "pending", "working", "sent", "failed")
# Claimed by a run: the row is being created and sent (retries.claim's "running" status).
WORKING = "working"


class BulkBatch(TimestampMixin, db.Model):
    __tablename__ = "bulk_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("document_templates.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The uploaded spreadsheet, a stored blob: a new mapping reads it again.
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    # The sheet's column names, and target -> column index as the rows were read.
    headers: Mapped[list] = mapped_column(JSON, default=list)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    # The document variables for the whole batch (place, date, currency, VAT rate, cleaned
    # and JSON-safe): a row whose cell is empty takes them (see rows.clean_batch_values).
    batch_values: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="validated", index=True)
    skip_invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    invalid_count: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last time a run worked on it: a running batch silent for long lost its job.
    progressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by = relationship("User")
    # Whose batch it is, as permissions.can reads an owned object and permissions.visible
    # filters a list of them (documents' scopes apply).
    responsible_id = synonym("created_by_id")
    responsible = synonym("created_by")


class BulkRow(db.Model):
    __tablename__ = "bulk_rows"
    __table_args__ = (UniqueConstraint("batch_id", "row_number", name="uq_bulk_rows_batch_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("bulk_batches.id", ondelete="CASCADE"))
    # The row as the spreadsheet program numbers it (the header is usually row 1).
    row_number: Mapped[int] = mapped_column(Integer)
    # The cleaned values by target (JSON-safe: figures and dates as text), and the messages.
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    errors: Mapped[dict] = mapped_column(JSON, default=dict)
    counterparty_id: Mapped[int | None] = mapped_column(
        ForeignKey("counterparties.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="valid", index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The claims taken (see portal.retries): the last one's start is when its lease began.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class BulkMapping(TimestampMixin, db.Model):
    """The columns last used with a template (header name -> target), and its batch-wide
    place, currency and VAT rate (not the date: that of a batch is its own), offered first
    next time."""

    __tablename__ = "bulk_mappings"

    template_id: Mapped[int] = mapped_column(
        ForeignKey("document_templates.id", ondelete="CASCADE"), primary_key=True)
    columns: Mapped[dict] = mapped_column(JSON, default=dict)
    batch_values: Mapped[dict] = mapped_column(JSON, default=dict)
