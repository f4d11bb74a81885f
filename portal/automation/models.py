"""Automation rules and their runs; webhook endpoints and their deliveries."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import TimestampMixin, UTCDateTime, utcnow

# Work that is retried: queued -> running -> succeeded, or -> retrying -> ... -> failed.
# A rule run can also end as "stopped" (the loop guard) without running its action.
RETRY_STATUSES = ("queued", "running", "retrying", "succeeded", "failed", "stopped")


class RetriedWork:
    """Columns shared by rule runs and webhook deliveries: attempts, the next try, the error."""

    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str] = mapped_column(Text, default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 index=True)


class AutomationRule(TimestampMixin, db.Model):
    """When `trigger` happens to a document that meets `conditions`, do `action`."""

    __tablename__ = "automation_rules"
    __table_args__ = (Index("ix_automation_rules_trigger_position", "trigger", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(32))  # triggers.TRIGGERS
    # The board column the rule hangs on: the trigger's stage, or the stage a stuck rule watches.
    stage: Mapped[str] = mapped_column(String(20))
    stuck_days: Mapped[int | None] = mapped_column(Integer)
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    action: Mapped[str] = mapped_column(String(32))  # actions.ACTIONS
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # Rules of one trigger run in this order (lower first).
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    created_by = relationship("User")


class RuleRun(RetriedWork, db.Model):
    """One rule acting on one event of one document: the run log."""

    __tablename__ = "automation_runs"
    __table_args__ = (
        # The same event never runs a rule twice, however often its job is delivered.
        UniqueConstraint("rule_id", "event_key", name="uq_automation_runs_rule_event"),
        Index("ix_automation_runs_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("automation_rules.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_events.id", ondelete="SET NULL"))
    event_key: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(32))
    # How many rules led to this event: 0 for a person's action, +1 per rule in between.
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # What the action did, as a key and values (audit.labels.Outcome.stored): put into words
    # in the reader's language; None for runs that did not succeed.
    outcome: Mapped[dict | None] = mapped_column(JSON)

    rule = relationship("AutomationRule")
    document = relationship("Document")


class WebhookEndpoint(TimestampMixin, db.Model):
    """An integration's URL that receives document events, signed with its own secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(String(100))
    # Event types sent here; empty means every document event.
    events: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))


class HandledEvent(db.Model):
    """An audit event whose rules and webhooks were started: the sweep replays the others."""

    __tablename__ = "automation_handled_events"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("audit_events.id", ondelete="CASCADE"), primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(RetriedWork, db.Model):
    """One event sent (and resent) to one endpoint: the delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # One first delivery per endpoint and event, even if the event is handled twice at once.
        Index("uq_webhook_deliveries_first", "endpoint_id", "event_id", unique=True,
              sqlite_where=text("resent_from_id IS NULL"),
              postgresql_where=text("resent_from_id IS NULL")),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_events.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(String(64))
    # The exact body sent, so "send again" repeats it byte for byte (with a fresh signature).
    payload: Mapped[str] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    resent_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="SET NULL"))

    endpoint = relationship("WebhookEndpoint")
