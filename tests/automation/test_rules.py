"""Rules set off by real document events, run through RQ on a real Redis, mail to the SMTP
test server, webhooks to a real HTTP receiver that checks the HMAC."""

import json
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
import rq

from portal.audit.service import events_for
from portal.automation.engine import retry_due, run_stuck_rules
from portal.automation.models import RuleRun
from portal.documents import services
from portal.extensions import db
from portal.jobs import QuickStopWorker
from portal.models_base import utcnow
from portal.workflow.order import expire_overdue
from tests.automation.receiver import WebhookReceiver
from tests.automation.support import decline_as, documents, rule, runs, sign_as
from tests.documents.support import META, make_template, user
from tests.factories import make_department, make_user
from tests.progress.support import load, messages_to, sent_document
from tests.services import free_port

QUEUES = ("default", "mail", "sms", "webhooks", "sealing")


def work(redis_client):
    """A burst worker over every queue: runs what is queued, including what jobs queue."""
    queues = [rq.Queue(name, connection=redis_client) for name in QUEUES]
    QuickStopWorker(queues, connection=redis_client).work(burst=True)


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.fixture
def redis_app(make_app, redis_url, redis_client, smtp_server):
    return make_app(REDIS_URL=redis_url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                    SIGNET_RETRY_SECONDS=[0, 0])


@pytest.fixture(params=["in-process", "rq"])
def runner(request, make_app, smtp_server):
    """(app, work): jobs in-process, or on RQ over a real Redis with a burst worker."""
    settings = {"SIGNET_AUTOMATION_MAX_DEPTH": 2, "SIGNET_RETRY_SECONDS": [0, 0]}
    if request.param == "in-process":
        return make_app(**settings), lambda: None
    redis_url = request.getfixturevalue("redis_url")
    redis_client = request.getfixturevalue("redis_client")
    app = make_app(REDIS_URL=redis_url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                   **settings)
    return app, lambda: work(redis_client)


@contextmanager
def step(runner):
    """One step of a test in its own app context, then whatever it queued is worked off."""
    app, work_off = runner
    with app.app_context():
        yield
    with app.app_context():
        work_off()


@pytest.fixture
def runner_boss(runner):
    with runner[0].app_context():
        return make_user(email="boss@example.com", name="Bo Boss", is_admin=True).id


@pytest.fixture
def boss(app):
    with app.app_context():
        return make_user(email="boss@example.com", name="Bo Boss", is_admin=True).id


@pytest.fixture
def redis_boss(redis_app):
    with redis_app.app_context():
        return make_user(email="boss@example.com", name="Bo Boss", is_admin=True).id


# --- triggers, through RQ -----------------------------------------------------------------------

def test_each_signing_trigger_runs_its_rules_through_rq_and_mail_arrives(
        redis_app, redis_client, redis_boss, mailbox):
    with redis_app.app_context():
        actor = user(redis_boss)
        for trigger in ("sent", "company_signed", "client_signed", "all_signed"):
            rule(actor, name=f"On {trigger}", trigger=trigger, action="send_email",
                 recipient="address", address=f"{trigger}@example.com",
                 subject="{{ event }}: {{ document.number }}",
                 body="{{ counterparty.name }} / {{ responsible.name }}")
        document_id = sent_document(redis_boss)
    with redis_app.app_context():
        assert [run.trigger for run in runs()] == []  # nothing runs before a worker does
        work(redis_client)
        assert [(run.trigger, run.status) for run in runs()] == [("sent", "succeeded")]
        sign_as(document_id, "company")
    with redis_app.app_context():
        work(redis_client)
        sign_as(document_id, "client")
    with redis_app.app_context():
        work(redis_client)
        logged = runs()
        assert [(run.trigger, run.status, run.depth) for run in logged] == [
            ("sent", "succeeded", 0), ("company_signed", "succeeded", 0),
            ("client_signed", "succeeded", 0), ("all_signed", "succeeded", 0)]
        assert load(document_id).stage == "completed"
        trail = [event.type for event in events_for(document_id)]
        assert trail.count("automation.ran") == 4
    mailbox.wait_for(7)
    arrived = {address: mailbox.to(address)[0] for address in (
        "sent@example.com", "company_signed@example.com", "client_signed@example.com",
        "all_signed@example.com") if mailbox.to(address)}
    assert set(arrived) == {"sent@example.com", "company_signed@example.com",
                            "client_signed@example.com", "all_signed@example.com"}
    assert arrived["client_signed@example.com"]["Subject"].startswith("Signed by the client: ")
    assert "Maria Silva / Bo Boss" in arrived["sent@example.com"].get_body(
        ("plain",)).get_content()


def test_declined_stopped_and_expired_set_off_their_rules(runner, runner_boss):
    boss = runner_boss
    with step(runner):
        actor = user(boss)
        for trigger in ("declined", "stopped", "expired"):
            rule(actor, name=trigger, trigger=trigger, action="notify_responsible",
                 note=f"{trigger} {{{{ document.number }}}}")
        declined, stopped, expired = (sent_document(boss) for _ in range(3))
    with step(runner):
        sign_as(declined, "company")
        decline_as(declined, "client")
    with step(runner):
        services.stop(user(boss), META, stopped, "Wrong client")
    with step(runner):
        assert expire_overdue(utcnow() + timedelta(days=60)) == 1
    with step(runner):
        by_trigger = {run.trigger: run for run in runs()}
        assert set(by_trigger) == {"declined", "stopped", "expired"}
        assert (by_trigger["declined"].document_id, by_trigger["stopped"].document_id,
                by_trigger["expired"].document_id) == (declined, stopped, expired)
        assert all(run.status == "succeeded" for run in by_trigger.values())
        notes = [message.body_text for message in messages_to("boss@example.com")
                 if message.kind == "automation-notice"]
        assert any(f"stopped {load(stopped).number}" in text for text in notes)


def test_a_stuck_rule_runs_once_per_stay_in_the_stage(runner, runner_boss):
    boss = runner_boss
    with step(runner):
        stuck = rule(user(boss), trigger="stuck", stage="company_signing", stuck_days=3,
                     action="notify_responsible").id
        document_id = sent_document(boss)
        assert run_stuck_rules(utcnow() + timedelta(days=2)) == 0
        assert run_stuck_rules(utcnow() + timedelta(days=4)) == 1
        assert run_stuck_rules(utcnow() + timedelta(days=5)) == 0  # the same stay: once
        [run] = runs(stuck)
        assert (run.document_id, run.trigger, run.status) == (document_id, "stuck", "succeeded")


# --- conditions ---------------------------------------------------------------------------------

def _template_document(actor, template, counterparty_kind="person", price="1000"):
    from portal.parties.models import Company
    from tests.documents.support import signet_company
    from tests.factories import make_counterparty

    client = make_counterparty(name=f"Client {counterparty_kind} {price}", kind=counterparty_kind,
                               email="client@example.com")
    company = db.session.scalar(db.select(Company).order_by(Company.id).limit(1)) \
        or signet_company()
    return services.create_from_template(
        actor, META, company_id=company.id, template_id=template.id,
        counterparty_id=client.id, items=[{"name": "Work", "quantity": "2", "price": price}],
        vat_rate=Decimal(20), currency="EUR")


def test_conditions_choose_which_documents_a_rule_acts_on(app, boss):
    from portal.automation.engine import start_runs

    with app.app_context():
        actor = user(boss)
        sales = make_department("Sales")
        north = make_department("North", parent=sales)
        seller = make_user(email="seller@example.com", name="Sam Seller")
        seller.department_id = north.id
        db.session.commit()
        template, other_template = make_template(), make_template(name="Invoice")
        big = _template_document(actor, template, "company", price="1000")  # gross 2400
        small = _template_document(actor, other_template, "person", price="10")  # gross 24
        small.responsible_id = seller.id
        db.session.commit()
        company_id = big.company_id
        cases = {
            "company": ({"company_id": company_id}, {big.id, small.id}),
            "template": ({"template_id": template.id}, {big.id}),
            "responsible": ({"responsible_id": seller.id}, {small.id}),
            "department (and below)": ({"department_id": sales.id}, {small.id}),
            "counterparty kind": ({"counterparty_kind": "company"}, {big.id}),
            "amount greater": ({"amount_op": "gt", "amount": "2000"}, {big.id}),
            "amount less": ({"amount_op": "lt", "amount": "100"}, {small.id}),
            "all at once": ({"company_id": company_id, "counterparty_kind": "person",
                             "amount_op": "lt", "amount": "25"}, {small.id}),
        }
        for name, (conditions, expected) in cases.items():
            rule_row = rule(actor, name=name, trigger="sent", action="notify_responsible",
                            **conditions)
            rule_row.enabled = False  # started by hand below, not by real events
            db.session.commit()
            matched = {document.id for document in (big, small)
                       if start_runs("sent", document, f"test:{name}:{document.id}", None, 0,
                                     rules=[rule_row])}
            assert matched == expected, name


# --- actions ------------------------------------------------------------------------------------

def test_change_responsible_and_remind_the_current_signer(runner, runner_boss):
    boss = runner_boss
    with step(runner):
        deputy = make_user(email="deputy@example.com", name="Dee Deputy")
        rule(user(boss), name="Hand over", trigger="sent", action="change_responsible",
             user_id=str(deputy.id))
        rule(user(boss), name="Nudge", trigger="sent", action="remind_signer")
        document_id = sent_document(boss)
    with step(runner):
        document = load(document_id)
        assert document.responsible.email == "deputy@example.com"
        hand_over, nudge = runs()
        assert hand_over.result == "Responsible: Dee Deputy"
        assert nudge.result == "Reminded Anna Petrova"
        reminders = [message for message in messages_to("director@signet.example")
                     if message.kind == "signing-reminder"]
        assert len(reminders) == 1
        reassigned = [event for event in events_for(document_id)
                      if event.type == "document.reassigned"]
        assert reassigned[0].actor_type == "system"


def test_create_and_send_a_document_for_the_same_counterparty(runner, runner_boss):
    boss = runner_boss
    with step(runner):
        invoice_id = make_template(name="Invoice").id
        act = make_template(name="Act")
        rule(user(boss), name="Invoice on signing", trigger="sent",
             action="create_document", new_template_id=str(invoice_id), send="on",
             template_id=str(act.id))
        actor = user(boss)
        source = _template_document(actor, act)
        from tests.documents.support import signature_for

        company, client = source.parties_with_role("company")[0], \
            source.parties_with_role("client")[0]
        services.set_fields(actor, META, source.id, [signature_for(company),
                                                     signature_for(client, x=0.6)])
        services.send(actor, META, source.id)
        source_id, counterparty_id = source.id, source.counterparty_id
    with step(runner):
        created = [document for document in documents() if document.id != source_id]
        [invoice_document] = created
        assert invoice_document.counterparty_id == counterparty_id
        assert invoice_document.template_id == invoice_id
        assert invoice_document.stage == "company_signing"
        assert invoice_document.variables["items"] == load(source_id).variables["items"]
        [run] = runs()
        assert run.status == "succeeded" and f"(#{invoice_document.id})" in run.result


def test_a_rule_that_sets_itself_off_is_stopped_by_the_depth_limit(runner, runner_boss):
    with step(runner):
        boss = user(runner_boss)
        template = make_template()
        # Every document sent from this template makes and sends another one from it.
        rule(boss, name="Echo", trigger="sent", action="create_document",
             new_template_id=str(template.id), send="on", template_id=str(template.id))
        source = _template_document(boss, template)
        from tests.documents.support import signature_for

        services.set_fields(boss, META, source.id, [
            signature_for(source.parties_with_role("company")[0]),
            signature_for(source.parties_with_role("client")[0], x=0.6)])
        services.send(boss, META, source.id)
    with step(runner):
        logged = runs()
        assert [(run.depth, run.status) for run in logged] == [
            (0, "succeeded"), (1, "succeeded"), (2, "stopped")]
        assert "limit is 2" in logged[-1].last_error
        assert len(documents()) == 3  # the person's document and two made by the rule


# --- webhooks from rules ------------------------------------------------------------------------

def test_webhook_action_posts_signed_json_through_rq(redis_app, redis_client, redis_boss,
                                                     receiver):
    with redis_app.app_context():
        hook = rule(user(redis_boss), name="CRM", trigger="sent", action="webhook",
                    url=receiver.url)
        secret = hook.params["secret"]
        document_id = sent_document(redis_boss)
    with redis_app.app_context():
        work(redis_client)
        [run] = runs()
        assert (run.status, run.attempts, run.result) == ("succeeded", 1, "HTTP 200: ok")
    [call] = receiver.calls
    assert receiver.signature_ok(call, secret)
    assert not receiver.signature_ok(call, "whsec_wrong")
    body = json.loads(call["body"])
    assert (body["type"], body["trigger"], body["rule"]["name"]) == ("rule.sent", "sent", "CRM")
    assert body["document"]["id"] == document_id
    assert body["document"]["links"]["page"].endswith(f"/documents/{document_id}")
    assert call["headers"]["Signet-Event"] == "rule.sent"


def test_a_receiver_that_answers_500_is_retried_then_marked_failed(
        redis_app, redis_client, redis_boss):
    broken = WebhookReceiver(statuses=(500,))
    try:
        with redis_app.app_context():
            secret = rule(user(redis_boss), name="CRM", trigger="sent", action="webhook",
                          url=broken.url).params["secret"]
            sent_document(redis_boss)
        with redis_app.app_context():
            work(redis_client)  # the retries have no wait here (SIGNET_RETRY_SECONDS=[0, 0])
            [run] = runs()
            assert (run.status, run.attempts) == ("failed", 3)
            assert run.last_error.startswith("WebhookFailed: HTTP 500")
        assert len(broken.calls) == 3
        assert all(broken.signature_ok(call, secret) for call in broken.calls)
    finally:
        broken.stop()


def test_a_retry_waits_on_rqs_schedule_and_the_sweep_catches_up(
        make_app, redis_url, redis_client, receiver):
    app = make_app(REDIS_URL=redis_url, SIGNET_RETRY_SECONDS=[600])
    receiver.statuses = [503, 200]
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True)
        rule(boss, name="CRM", trigger="sent", action="webhook", url=receiver.url)
        sent_document(boss.id)
    with app.app_context():
        work(redis_client)
        [run] = runs()
        assert (run.status, run.attempts) == ("retrying", 1)
        scheduled = rq.Queue("default", connection=redis_client).scheduled_job_registry
        assert len(scheduled.get_job_ids()) == 1  # booked 10 minutes ahead
        assert retry_due() == 0  # not due yet: the sweep leaves it alone
        run.next_attempt_at = utcnow() - timedelta(seconds=1)  # ten minutes later...
        db.session.commit()
        assert retry_due() == 1  # the sweep catches up (a worker may have been down)
        work(redis_client)
        [run] = runs()
        assert (run.status, run.attempts, run.result) == ("succeeded", 2, "HTTP 200: ok")
    assert len(receiver.calls) == 2


def test_a_failing_action_never_blocks_signing(app, boss):
    dead = f"http://127.0.0.1:{free_port()}/hooks"
    with app.app_context():
        rule(user(boss), name="Dead CRM", trigger="client_signed", action="webhook", url=dead)
        document_id = sent_document(boss)
        sign_as(document_id, "company")
    with app.app_context():
        sign_as(document_id, "client")
    with app.app_context():
        assert load(document_id).stage == "completed"
        [run] = runs()
        assert run.status == "retrying" and "Connection refused" in run.last_error


def test_rules_run_in_their_order_and_a_disabled_rule_does_not_run(app, boss):
    from portal.automation import services as automation

    with app.app_context():
        actor = user(boss)
        first = rule(actor, name="First", trigger="sent", action="notify_responsible").id
        second = rule(actor, name="Second", trigger="sent", action="notify_responsible").id
        off = rule(actor, name="Off", trigger="sent", action="notify_responsible").id
        automation.move_rule(actor, second, -1)
        automation.set_enabled(actor, off, False)
        sent_document(boss)
    with app.app_context():
        assert [run.rule_id for run in runs()] == [second, first]


def test_a_run_is_logged_once_however_often_its_event_is_handled(app, boss):
    from portal.automation.engine import handle_events

    with app.app_context():
        rule(user(boss), name="Once", trigger="sent", action="notify_responsible")
        document_id = sent_document(boss)
    with app.app_context():
        [sent] = [event for event in events_for(document_id) if event.type == "document.sent"]
        assert handle_events([[sent.id, 0]]) == 0  # delivered again: nothing new
        assert len(runs()) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(RuleRun)) == 1


def test_rules_still_run_when_redis_is_down(make_app):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True)
        rule(boss, name="Tell me", trigger="sent", action="notify_responsible")
        sent_document(boss.id)
    with app.app_context():
        [run] = runs()
        assert run.status == "succeeded"  # run in the request instead of lost


def test_events_whose_job_was_lost_are_replayed_by_the_sweep_once(
        make_app, redis_url, redis_client):
    from portal.automation.engine import replay_lost_events

    app = make_app(REDIS_URL=redis_url)
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bo Boss", is_admin=True).id
        assert replay_lost_events(utcnow() + timedelta(hours=1)) == 0  # nothing to reach back to
        rule(user(boss), name="Tell me", trigger="sent", action="notify_responsible")
        first = sent_document(boss)
    with app.app_context():
        work(redis_client)
        lost = sent_document(boss)
    with app.app_context():
        redis_client.flushdb()  # Redis restarted without persistence: the job is gone
        assert replay_lost_events() == 0  # too fresh: its job may still be on its way
        assert replay_lost_events(utcnow() + timedelta(minutes=10)) > 0
        assert {run.document_id for run in runs()} == {first, lost}
        assert replay_lost_events(utcnow() + timedelta(minutes=10)) == 0  # once
        assert all(run.status == "succeeded" for run in runs())


def test_events_caused_by_a_rule_carry_their_depth_on_the_trail(app, boss):
    with app.app_context():
        deputy = make_user(email="deputy@example.com", name="Dee Deputy")
        rule(user(boss), name="Hand over", trigger="sent", action="change_responsible",
             user_id=str(deputy.id))
        document_id = sent_document(boss)
    with app.app_context():
        by_type = {event.type: event for event in events_for(document_id)}
        assert by_type["document.reassigned"].details["automation_depth"] == 1
        assert "automation_depth" not in by_type["document.sent"].details
