"""Running rules and webhooks after the event's transaction commits.

`record()` notes every watched audit event in the session. When that session commits, the
events move to the app context; when the context ends (the request, the job, the command is
done) they are handed to one job: RQ's with Redis, run right away otherwise. So a rule never
sees an event that was rolled back, and never runs before the work that recorded it is over.

Rules can set off rules (a rule creates and sends a document, whose "sent" sets off another).
Each event carries its depth: 0 when a person (or the clock) caused it, one more for each
rule in between. Rules for an event deeper than SIGNET_AUTOMATION_MAX_DEPTH are logged as
stopped and do nothing, which ends any loop.
"""

import logging
from datetime import datetime, timedelta

from flask import Flask, current_app, g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import retries, unit
from portal.audit.catalogue import AUTOMATION_RAN, PARTY_SIGNED
from portal.audit.labels import Outcome
from portal.audit.models import AuditEvent
from portal.audit.service import on_recorded, record
from portal.automation.actions import RunContext, perform
from portal.automation.conditions import unmet
from portal.automation.hooks import DEPTH, SESSION_KEY, note_event
from portal.automation.models import (
    AutomationRule,
    HandledEvent,
    RuleRun,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.automation.triggers import WATCHED_EVENTS, WEBHOOK_EVENTS, trigger_of
from portal.automation.webhooks import WEBHOOK_QUEUE, deliver_webhook, fan_out, send_deliveries
from portal.delivery.jobs import describe
from portal.documents.models import Document, Party
from portal.documents.services.common import as_utc
from portal.extensions import db
from portal.jobs import app_job, enqueue
from portal.models_base import utcnow

log = logging.getLogger(__name__)

AUTOMATION_QUEUE = "default"
# Events older than this without a mark lost their job; older than the window are left alone.
REPLAY_GRACE = timedelta(minutes=5)
REPLAY_WINDOW = timedelta(days=2)
REPLAY_BATCH = 500
_READY_KEY = "_signet_automation_ready"
STUCK_BATCH = 500


# --- from the audit trail to a job ------------------------------------------------------------

def _committed(session: Session) -> None:
    events = session.info.pop(SESSION_KEY, None)
    if events and has_app_context():
        g.setdefault(_READY_KEY, []).extend(events)


def _rolled_back(session: Session) -> None:
    session.info.pop(SESSION_KEY, None)


def _hand_over(_error=None) -> None:
    """At the end of an app context: the committed events go to their job."""
    events = g.pop(_READY_KEY, None) if has_app_context() else None
    if not events:
        return
    items = [list(item) for item in events]
    try:
        queued = current_app.config.get("REDIS_URL") and enqueue(
            handle_events, items, queue=AUTOMATION_QUEUE)
        if not queued:  # no Redis, or Redis is down: run now rather than lose the events
            handle_events(items)  # in its own app context and session
    except Exception:  # the caller's work is done and committed: never fail it
        log.exception("Automation for events %s failed", events)


def init_app(app: Flask) -> None:
    # Registered after Flask-SQLAlchemy: teardowns run in reverse, so the session still exists.
    app.teardown_appcontext(_hand_over)
    on_recorded(note_event)
    if not getattr(init_app, "listening", False):
        sqlalchemy_event.listen(Session, "after_commit", _committed)
        sqlalchemy_event.listen(Session, "after_rollback", _rolled_back)
        init_app.listening = True


def anything_listens() -> bool:
    """Cheap check before loading events: is any rule or endpoint switched on?"""

    rules = db.session.scalar(select(func.count()).select_from(AutomationRule)
                              .where(AutomationRule.enabled.is_(True)))
    endpoints = db.session.scalar(select(func.count()).select_from(WebhookEndpoint)
                                  .where(WebhookEndpoint.enabled.is_(True)))
    return bool(rules or endpoints)


# --- the job ----------------------------------------------------------------------------------

@app_job
def handle_events(events: list) -> int:
    """Webhooks and rules for each (event id, depth); the number of rule runs started.

    Each event is marked handled once its work is started, so the sweep replays only the
    events whose job was lost (a Redis restart, a worker killed mid-way).
    """
    if not anything_listens():
        mark_handled([int(event_id) for event_id, _depth in events])
        return 0
    started = 0
    for event_id, depth in events:
        if _handled(int(event_id)):
            continue  # delivered twice, or replayed while its job still ran
        try:
            started += handle_event(int(event_id), int(depth))
            mark_handled([int(event_id)])
        except Exception:
            unit.rollback()
            log.exception("Automation for event %s failed", event_id)
    return started


def _handled(event_id: int) -> bool:
    return db.session.get(HandledEvent, event_id) is not None


def mark_handled(event_ids: list[int]) -> None:
    unit.rollback()
    known = set(db.session.scalars(select(AuditEvent.id).where(AuditEvent.id.in_(event_ids))))
    done = set(db.session.scalars(select(HandledEvent.event_id)
                                  .where(HandledEvent.event_id.in_(known or [-1]))))
    db.session.add_all(HandledEvent(event_id=event_id) for event_id in known - done)
    try:
        unit.commit()
    except IntegrityError:  # marked by a concurrent job meanwhile: the same result
        unit.rollback()


def handle_event(event_id: int, depth: int = 0) -> int:
    event = db.session.get(AuditEvent, event_id)
    document = db.session.get(Document, event.document_id) if event is not None else None
    if document is None:
        unit.rollback()
        return 0
    if event.type in WEBHOOK_EVENTS:

        send_deliveries(fan_out(event, document))
        document = db.session.get(Document, event.document_id)
    trigger = trigger_of(event.type, event.details, _signer_role(event))
    if trigger is None:
        unit.rollback()
        return 0
    run_ids = start_runs(trigger, document, f"event:{event.id}", event.id, depth)
    for run_id in run_ids:
        execute_run(run_id)
    return len(run_ids)


def _signer_role(event: AuditEvent) -> str | None:
    if event.type != PARTY_SIGNED.name or event.actor_type != "party":
        return None
    party = db.session.get(Party, event.actor_id)
    return party.role if party is not None else None


def rules_for(trigger: str, stage: str | None = None) -> list[AutomationRule]:
    query = (select(AutomationRule)
             .where(AutomationRule.trigger == trigger, AutomationRule.enabled.is_(True))
             .order_by(AutomationRule.position, AutomationRule.id))
    if stage is not None:
        query = query.where(AutomationRule.stage == stage)
    return list(db.session.scalars(query))


def start_runs(trigger: str, document: Document, event_key: str, event_id: int | None,
               depth: int, rules: list[AutomationRule] | None = None) -> list[int]:
    """Log a run for each enabled rule whose conditions hold, in order; ids of those to do.

    Past the depth limit the runs are logged as stopped. A run already logged for this rule
    and event (a job delivered twice) is not logged again.
    """
    limit = current_app.config.get("SIGNET_AUTOMATION_MAX_DEPTH", 3)
    to_do = []
    for rule in rules if rules is not None else rules_for(trigger):
        if unmet(rule.conditions, document) is not None:
            continue
        stopped = depth >= limit
        run = RuleRun(rule_id=rule.id, document_id=document.id, event_id=event_id,
                      event_key=event_key, trigger=trigger, depth=depth,
                      status="stopped" if stopped else "queued",
                      finished_at=utcnow() if stopped else None,
                      last_error=_("Stopped: rules set each other off %(depth)s times in a row "
                                   "(the limit is %(limit)s).", depth=depth, limit=limit)
                      if stopped else "")
        if _insert_once(run) and not stopped:
            to_do.append(run.id)
        elif stopped:
            log.warning("Automation loop stopped: rule %s on document %s at depth %s",
                        rule.id, document.id, depth)
    return to_do


def _insert_once(run: RuleRun) -> bool:
    exists = db.session.scalar(select(RuleRun.id).where(RuleRun.rule_id == run.rule_id,
                                                        RuleRun.event_key == run.event_key))
    if exists is not None:
        return False
    db.session.add(run)
    try:
        unit.commit()
    except IntegrityError:  # the same run logged by a concurrent job
        unit.rollback()
        return False
    return True


# --- one run ----------------------------------------------------------------------------------

@app_job
def run_job(run_id: int) -> None:
    """A run's retry, on RQ's schedule or from the sweep."""
    execute_run(run_id)


def execute_run(run_id: int) -> str | None:
    """Do the rule's action once; log the result, or the error and when it is tried again."""
    if not retries.claim(RuleRun, run_id):
        return None
    run = db.session.get(RuleRun, run_id)
    rule, document = run.rule, run.document
    if rule is None or document is None:
        retries.fail(RuleRun, run_id, _("The rule or the document was deleted."), permanent=True)
        return None
    context = RunContext(rule_id=rule.id, rule_name=rule.name, trigger=run.trigger,
                         params={**(rule.params or {}), "_run_id": run.id}, document=document,
                         event=db.session.get(AuditEvent, run.event_id) if run.event_id else None)
    action, depth, name = rule.action, run.depth, rule.name
    token = DEPTH.set(depth + 1)  # whatever the action records was caused by this rule
    try:
        result = perform(context, action)
    except retries.PermanentFailure as refused:
        retries.fail(RuleRun, run_id, str(refused), permanent=True)
        return None
    except Exception as error:
        _retry_later(run_id, error)
        return None
    finally:
        DEPTH.reset(token)
    _log_success(run_id, document.id, rule.id, name, action, result)
    return result.english()


def _retry_later(run_id: int, error: Exception) -> None:

    delay = retries.fail(RuleRun, run_id, describe(error))
    log.warning("Automation run %s failed: %s", run_id, describe(error))
    if delay is not None:
        retries.book(run_job, run_id, delay, AUTOMATION_QUEUE, "signet-rule-run")


def _log_success(run_id: int, document_id: int, rule_id: int, name: str, action: str,
                 outcome: Outcome) -> None:
    unit.rollback()
    # On the document's own trail: whoever reads it later sees the rule did it, not a person.
    # The outcome is kept as a key and values (the English text for the raw row), so the trail
    # and the run log say it in their reader's language.
    text = outcome.english()
    record(AUTOMATION_RAN, document_id, None, None, rule_id=rule_id, rule=name,
           action=action, result=text[:300], outcome=outcome.stored(), run_id=run_id)
    retries.succeed(RuleRun, run_id, text, keep_session=True, outcome=outcome.stored())


# --- the clock: stuck documents and due retries ----------------------------------------------

def run_stuck_rules(now: datetime | None = None) -> int:
    """Start "stuck N days" rules for documents that sat in the stage long enough; the count."""
    now = now or utcnow()
    started = 0
    for rule in rules_for("stuck"):
        started += _stuck_rule(rule, now)
    return started


def _stuck_rule(rule: AutomationRule, now: datetime) -> int:

    entered = func.coalesce(Document.stage_changed_at, Document.created_at)
    cutoff = now - timedelta(days=rule.stuck_days or 1)
    candidates = db.session.execute(
        select(Document.id, entered).where(Document.stage == rule.stage, entered <= cutoff)
        .order_by(Document.id).limit(STUCK_BATCH)).all()
    keys = {document_id: f"stuck:{rule.stage}:{int(as_utc(since).timestamp())}"
            for document_id, since in candidates}
    done = set(db.session.execute(
        select(RuleRun.document_id, RuleRun.event_key).where(
            RuleRun.rule_id == rule.id, RuleRun.document_id.in_(list(keys) or [-1]))).all())
    started = 0
    for document_id, key in keys.items():
        if (document_id, key) in done:
            continue
        document = db.session.get(Document, document_id)
        for run_id in start_runs("stuck", document, key, None, 0, rules=[rule]):
            execute_run(run_id)
            started += 1
    unit.rollback()
    return started


def retry_due(now: datetime | None = None) -> int:
    """Try again every rule run and webhook delivery that is due (the embedded default's
    retries, and a catch-up after a worker was down); the count."""

    now = now or utcnow()
    count = 0
    for run_id in retries.due(RuleRun, now):
        enqueue(run_job, run_id, queue=AUTOMATION_QUEUE)
        count += 1
    for delivery_id in retries.due(WebhookDelivery, now):
        enqueue(deliver_webhook, delivery_id, queue=WEBHOOK_QUEUE)
        count += 1
    return count


def replay_lost_events(now: datetime | None = None) -> int:
    """Hand over again the recent watched events nobody handled; the count.

    Only events after the first one ever handled count: an upgrade or a first rule never
    reaches back to events from before automation was there.
    """
    now = now or utcnow()
    since = db.session.scalar(select(func.min(HandledEvent.handled_at)))
    if since is None:
        unit.rollback()
        return 0
    handled = select(HandledEvent.event_id).where(HandledEvent.event_id == AuditEvent.id)
    rows = db.session.execute(
        select(AuditEvent.id, AuditEvent.details).where(
            AuditEvent.type.in_(WATCHED_EVENTS), AuditEvent.document_id.is_not(None),
            AuditEvent.created_at >= max(as_utc(since), now - REPLAY_WINDOW),
            AuditEvent.created_at <= now - REPLAY_GRACE, ~handled.exists())
        .order_by(AuditEvent.id).limit(REPLAY_BATCH)).all()
    unit.rollback()
    if rows:
        log.warning("Replaying %s automation events whose job was lost", len(rows))
        handle_events([[event_id, int((details or {}).get("automation_depth") or 0)]
                       for event_id, details in rows])
    return len(rows)


def forget_old_marks(now: datetime | None = None) -> int:
    """Marks older than the replay window are of no more use."""
    now = now or utcnow()
    result = db.session.execute(delete(HandledEvent).where(
        HandledEvent.handled_at < now - REPLAY_WINDOW - timedelta(days=1)))
    unit.commit()
    return result.rowcount or 0


def forget_old_logs(now: datetime | None = None) -> int:
    """Drop finished runs and deliveries past SIGNET_AUTOMATION_LOG_DAYS; how many.

    Payloads carry names and contacts: they are not kept forever. What a rule did stays on
    the document's own audit trail.
    """
    days = current_app.config.get("SIGNET_AUTOMATION_LOG_DAYS") or 0
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    finished = ("succeeded", "failed", "stopped")
    dropped = 0
    for model in (RuleRun, WebhookDelivery):
        dropped += db.session.execute(delete(model).where(
            model.status.in_(finished), model.created_at < cutoff)).rowcount or 0
    unit.commit()
    return dropped
