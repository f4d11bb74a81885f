"""The rules screens: the board of rules, the HTMX rule form, the card buttons, the run log."""

import re

from sqlalchemy import func, select

from portal.auth.models import User
from portal.auth.roles import SUPERVISOR, give_role
from portal.automation.models import AutomationRule, RuleRun
from portal.extensions import db
from tests.automation.support import rule
from tests.factories import make_document_row, make_user
from tests.helpers import csrf_token, post_form, sign_in, text_of

HTMX = {"HX-Request": "true"}
EMAIL_RULE = {"name": "Tell accounting", "trigger": "all_signed", "action": "send_email",
              "recipient": "address", "address": "acc@example.com",
              "subject": "{{ document.number }} is signed", "body": "See {{ document.link }}"}


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _rules() -> list[AutomationRule]:
    db.session.commit()  # a fresh snapshot: the requests wrote through their own sessions
    return list(db.session.scalars(select(AutomationRule).order_by(
        AutomationRule.position, AutomationRule.id)))


def _column(html: str, stage: str) -> str:
    """The cards of one column of the rules board."""
    start = html.index(f'id="rules-{stage}"')
    following = html.find('id="rules-', start + 1)
    return html[start:following if following > 0 else len(html)]


def _card_names(html: str, stage: str) -> list[str]:
    return re.findall(r'class="rule-name"[^>]*>([^<]+)<', _column(html, stage))


def test_admin_adds_an_email_rule_and_sees_its_card_in_the_column(app, admin_client):
    form = admin_client.get("/automation/rules/new?stage=completed", headers=HTMX)
    assert form.status_code == 200
    assert 'hx-post="/automation/rules"' in text_of(form)
    assert '<option selected value="all_signed">' in text_of(form)  # the column's event
    assert "{{ document.number }}" in text_of(form)  # the variables are listed as help

    response = post_form(admin_client, "/automation/rules", EMAIL_RULE, headers=HTMX)

    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#rules-board"
    body = text_of(response)
    assert _card_names(body, "completed") == ["Tell accounting"]
    assert "Email to acc@example.com" in _column(body, "completed")
    assert 'id="side-panel"' in body and 'hx-swap-oob="true"' in body  # the panel closes
    with app.app_context():
        [saved] = _rules()
        assert (saved.trigger, saved.stage, saved.action, saved.enabled) == (
            "all_signed", "completed", "send_email", True)
        assert saved.params == {"recipient": "address", "address": "acc@example.com",
                                "subject": "{{ document.number }} is signed",
                                "body": "See {{ document.link }}"}


def test_without_javascript_the_form_is_a_page_and_saving_goes_back_to_the_board(
        app, admin_client):
    page = admin_client.get("/automation/rules/new?stage=approval")
    assert page.status_code == 200
    html = text_of(page)
    assert "<html" in html and 'name="stuck_days"' in html and 'name="url"' in html
    assert 'action="/automation/rules"' in html and "hx-post" not in html  # a plain form
    assert '<option selected value="stuck">' in html  # a waiting stage suggests "stuck"
    assert '<option selected value="approval">' in html

    response = post_form(admin_client, "/automation/rules", {
        "name": "Chase approvers", "trigger": "stuck", "stage": "approval", "stuck_days": "2",
        "action": "remind_signer"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/automation/")
    board = text_of(admin_client.get("/automation/"))
    assert _card_names(board, "approval") == ["Chase approvers"]
    assert "Stuck 2 days" in _column(board, "approval")


def test_a_bad_form_comes_back_422_with_every_message_and_saves_nothing(app, admin_client):
    response = post_form(admin_client, "/automation/rules", {
        "name": "", "trigger": "stuck", "stage": "draft", "stuck_days": "",
        "action": "send_email", "recipient": "address", "address": "not-an-address",
        "subject": "Hello {{ document.nubmer }}", "body": "Hi"}, headers=HTMX)

    assert response.status_code == 422
    assert response.headers["X-Signet-Fragment"] == "rule-form"
    body = text_of(response)
    for message in ("Name the rule.", "Enter a valid email address.",
                    "Unknown variable: document.nubmer.",
                    "Enter a number of days from 1 to 365."):
        assert message in body
    assert 'id="field-address"' in body and 'id="address-errors"' in body  # beside the field
    assert 'value="not-an-address"' in body  # what was typed stays
    with app.app_context():
        assert _rules() == []


def test_a_bad_form_without_javascript_is_a_422_page(app, admin_client):
    response = post_form(admin_client, "/automation/rules", {**EMAIL_RULE, "address": "x@"})
    assert response.status_code == 422
    assert "<html" in text_of(response)
    assert "Enter a valid email address." in text_of(response)
    with app.app_context():
        assert _rules() == []


def test_editing_a_rule_can_move_it_to_another_column(app, admin, admin_client):
    with app.app_context():
        rule_id = rule(_user(admin["id"]), trigger="client_signed",
                       action="notify_responsible").id

    form = admin_client.get(f"/automation/rules/{rule_id}", headers=HTMX)
    assert form.status_code == 200
    assert 'value="Rule"' in text_of(form)
    response = post_form(admin_client, f"/automation/rules/{rule_id}", {
        "name": "Nudge the approvers", "trigger": "stuck", "stage": "approval",
        "stuck_days": "5", "action": "remind_signer"}, headers=HTMX)

    assert response.status_code == 200
    assert _card_names(text_of(response), "approval") == ["Nudge the approvers"]
    assert _card_names(text_of(response), "client_signing") == []
    with app.app_context():
        [saved] = _rules()
        assert (saved.name, saved.trigger, saved.stage, saved.stuck_days, saved.action) == (
            "Nudge the approvers", "stuck", "approval", 5, "remind_signer")


def test_an_edit_with_errors_keeps_the_rule_as_it_was(app, admin, admin_client):
    with app.app_context():
        rule_id = rule(_user(admin["id"]), trigger="declined", action="notify_responsible").id
    response = post_form(admin_client, f"/automation/rules/{rule_id}", {
        "name": "Changed", "trigger": "declined", "action": "webhook", "url": "ftp://x"},
        headers=HTMX)
    assert response.status_code == 422
    assert "starting with https:// or http://" in text_of(response)
    with app.app_context():
        assert [(r.name, r.action) for r in _rules()] == [("Rule", "notify_responsible")]


def test_a_webhook_rule_shows_its_secret_and_how_to_check_the_signature(app, admin_client):
    response = post_form(admin_client, "/automation/rules", {
        "name": "CRM", "trigger": "all_signed", "action": "webhook",
        "url": "https://crm.example.com/hook", "secret": ""}, headers=HTMX)
    assert response.status_code == 200
    with app.app_context():
        [saved] = _rules()
        secret = saved.params["secret"]
    assert secret.startswith("whsec_")
    for page in (text_of(response), text_of(admin_client.get(f"/automation/rules/{saved.id}"))):
        assert f'value="{secret}"' in page
        assert "Signet-Signature" in page and "HMAC-SHA256" in page


def test_disable_and_enable(app, admin, admin_client):
    with app.app_context():
        rule_id = rule(_user(admin["id"]), trigger="expired", action="notify_responsible").id

    off = post_form(admin_client, f"/automation/rules/{rule_id}/enabled", {"enabled": "0"},
                    headers=HTMX)
    assert off.status_code == 200
    assert "rule-card is-disabled" in _column(text_of(off), "expired")
    with app.app_context():
        assert _rules()[0].enabled is False

    on = post_form(admin_client, f"/automation/rules/{rule_id}/enabled", {"enabled": "1"})
    assert on.status_code == 302  # without htmx: back to the board
    assert "is-disabled" not in text_of(admin_client.get("/automation/"))
    with app.app_context():
        assert _rules()[0].enabled is True


def test_copy_is_disabled_and_named_copy_of(app, admin, admin_client):
    with app.app_context():
        rule_id = rule(_user(admin["id"]), name="Invoice", trigger="all_signed",
                       action="notify_responsible").id

    response = post_form(admin_client, f"/automation/rules/{rule_id}/copy", headers=HTMX)

    assert response.status_code == 200
    assert _card_names(text_of(response), "completed") == ["Invoice", "Copy of Invoice"]
    with app.app_context():
        original, copy = _rules()
        assert (copy.name, copy.enabled, copy.trigger, copy.action) == (
            "Copy of Invoice", False, "all_signed", "notify_responsible")
        assert original.enabled is True


def test_move_up_and_down_changes_the_order(app, admin, admin_client):
    with app.app_context():
        actor = _user(admin["id"])
        ids = [rule(actor, name=name, trigger="declined", action="notify_responsible").id
               for name in ("First", "Second", "Third")]

    response = post_form(admin_client, f"/automation/rules/{ids[2]}/move", {"step": "up"},
                         headers=HTMX)
    assert _card_names(text_of(response), "declined") == ["First", "Third", "Second"]
    with app.app_context():
        assert [r.name for r in _rules()] == ["First", "Third", "Second"]

    response = post_form(admin_client, f"/automation/rules/{ids[0]}/move", {"step": "down"},
                         headers=HTMX)
    assert _card_names(text_of(response), "declined") == ["Third", "First", "Second"]
    with app.app_context():
        assert [r.name for r in _rules()] == ["Third", "First", "Second"]


def test_delete_and_a_missing_rule_is_404(app, admin, admin_client):
    with app.app_context():
        rule_id = rule(_user(admin["id"]), name="Old rule", trigger="stopped",
                       action="notify_responsible").id

    response = post_form(admin_client, f"/automation/rules/{rule_id}/delete", headers=HTMX)

    assert response.status_code == 200
    assert "Old rule" not in text_of(response)
    with app.app_context():
        assert _rules() == []
    assert post_form(admin_client, f"/automation/rules/{rule_id}/delete").status_code == 404
    assert admin_client.get(f"/automation/rules/{rule_id}").status_code == 404
    assert post_form(admin_client, f"/automation/rules/{rule_id}", EMAIL_RULE).status_code == 404


ROUTES = [
    ("get", "/automation/"), ("get", "/automation/runs"), ("get", "/automation/rules/new"),
    ("post", "/automation/rules"), ("get", "/automation/rules/{id}"),
    ("post", "/automation/rules/{id}"), ("post", "/automation/rules/{id}/enabled"),
    ("post", "/automation/rules/{id}/copy"), ("post", "/automation/rules/{id}/move"),
    ("post", "/automation/rules/{id}/delete"),
]


def test_an_employee_without_automation_grants_gets_403_everywhere(app, admin, employee_client):
    with app.app_context():
        rule_id = rule(_user(admin["id"]), trigger="declined", action="notify_responsible").id
    token = csrf_token(employee_client)
    for method, url in ROUTES:
        url = url.format(id=rule_id)
        if method == "get":
            response = employee_client.get(url)
        else:
            response = employee_client.post(url, data={**EMAIL_RULE, "csrf_token": token})
        assert response.status_code == 403, (method, url)
    with app.app_context():
        assert [(r.name, r.enabled) for r in _rules()] == [("Rule", True)]


def test_a_supervisor_sees_the_rules_without_buttons_and_may_not_change_them(app, admin):
    with app.app_context():
        rule_id = rule(_user(admin["id"]), name="Watch", trigger="declined",
                       action="notify_responsible").id
        supervisor = make_user(email="boss@example.com", name="Sam Supervisor")
        give_role(supervisor, SUPERVISOR)
        db.session.commit()
    client = app.test_client()
    sign_in(client, "boss@example.com")

    board = text_of(client.get("/automation/"))
    assert _card_names(board, "declined") == ["Watch"]
    for button in ("Add a rule", ">Edit<", ">Disable<", ">Copy<", ">Delete<", "Move up"):
        assert button not in board
    assert client.get("/automation/runs").status_code == 200
    assert client.get(f"/automation/rules/{rule_id}").status_code == 403
    assert post_form(client, f"/automation/rules/{rule_id}/delete").status_code == 403


def test_the_pipeline_board_switches_to_the_rules_for_those_who_may_see_them(
        app, admin_client, employee_client):
    assert 'href="/automation/"' in text_of(admin_client.get("/pipeline"))
    assert 'href="/pipeline"' in text_of(admin_client.get("/automation/"))
    assert 'href="/automation/"' not in text_of(employee_client.get("/pipeline"))


def _run(rule_id: int, document_id: int, key: str, status: str, **values) -> None:
    db.session.add(RuleRun(rule_id=rule_id, document_id=document_id, event_key=key,
                           trigger="all_signed", status=status, **values))
    db.session.commit()


def test_the_run_log_lists_runs_and_filters_them(app, admin, admin_client):
    with app.app_context():
        actor = _user(admin["id"])
        first = rule(actor, name="Tell accounting", trigger="all_signed",
                     action="notify_responsible").id
        second = rule(actor, name="Push to CRM", trigger="all_signed",
                      action="notify_responsible").id
        document = make_document_row(admin["id"], number="SIG-0042")
        _run(first, document.id, "a", "succeeded", attempts=1,
             result="Emailed acc@example.com")
        _run(second, document.id, "b", "failed", attempts=5, depth=1,
             last_error="HTTP 502: upstream connect error, the receiver is down")
        document_id = document.id

    page = admin_client.get("/automation/runs")
    assert page.status_code == 200
    html = text_of(page)
    assert "Tell accounting" in html and "Push to CRM" in html
    assert f'href="/documents/{document_id}">SIG-0042</a>' in html
    assert '<span class="badge ok">Succeeded</span>' in html
    assert '<span class="badge off">Failed</span>' in html
    assert "HTTP 502: upstream connect error, the receiver is down" in html  # in full
    assert html.index("Push to CRM") < html.index("Emailed acc@example.com")  # newest first

    failed = admin_client.get("/automation/runs?status=failed", headers=HTMX)
    assert failed.status_code == 200
    fragment = text_of(failed)
    assert "<html" not in fragment and fragment.lstrip().startswith("<div id=\"runs-list\"")
    assert "Push to CRM" in fragment and "Emailed acc@example.com" not in fragment

    by_rule = text_of(admin_client.get(f"/automation/runs?rule={first}"))
    assert "Emailed acc@example.com" in by_rule and "upstream connect error" not in by_rule
    nothing = text_of(admin_client.get("/automation/runs?status=retrying&page=99999999999"))
    assert "No runs match this filter." in nothing
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RuleRun)) == 2


def test_the_run_log_shows_only_runs_on_documents_the_user_may_see(app, admin):
    from portal.auth.models import Role, RoleGrant

    with app.app_context():
        watch = rule(_user(admin["id"]), name="Watch", trigger="all_signed",
                     action="notify_responsible").id
        clerk = make_user(email="clerk@example.com", name="Cleo Clerk")
        role = Role(name="Rules clerk", grants=[
            RoleGrant(section="automation", action="view", scope="all"),
            RoleGrant(section="documents", action="view", scope="own")])
        clerk.roles.append(role)
        db.session.commit()
        mine = make_document_row(clerk.id, number="MINE-1")
        theirs = make_document_row(admin["id"], number="THEIRS-1", company=mine.company)
        _run(watch, mine.id, "a", "succeeded", result="Emailed mine")
        _run(watch, theirs.id, "b", "succeeded", result="Emailed theirs")
    client = app.test_client()
    sign_in(client, "clerk@example.com")
    html = text_of(client.get("/automation/runs"))
    assert "MINE-1" in html and "Emailed mine" in html
    assert "THEIRS-1" not in html and "Emailed theirs" not in html
    assert "1 run" in html
