"""The webhook admin screens: endpoints, their secret, the delivery log and a real "send again"."""

import hashlib
import hmac
import html
import json
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import Role, RoleGrant
from portal.automation import services
from portal.automation.models import WebhookDelivery, WebhookEndpoint
from portal.automation.triggers import WEBHOOK_EVENTS
from portal.automation.webhooks import encode, signature
from portal.extensions import db
from portal.models_base import utcnow
from tests.automation.receiver import WebhookReceiver
from tests.factories import make_document_row, make_user
from tests.helpers import page_width, post_form, sign_in, text_of

BASE = "/admin/webhooks"
HTMX = {"HX-Request": "true"}


# --- helpers ----------------------------------------------------------------------------------

def make_endpoint(url="https://crm.example.com/hooks", description="CRM", events=()):
    return services.create_endpoint(None, {"url": url, "description": description,
                                           "events": list(events)})


def make_delivery(endpoint_id, minutes_ago=0, payload=None, **fields):
    delivery = WebhookDelivery(
        endpoint_id=endpoint_id, event_type=fields.pop("event_type", "document.sent"),
        payload=payload if payload is not None else encode(
            {"id": "evt_1", "type": "document.sent", "document": {"number": "A-1"}}),
        created_at=utcnow() - timedelta(minutes=minutes_ago), **fields)
    db.session.add(delivery)
    db.session.commit()
    return delivery


def endpoint_row(endpoint_id) -> WebhookEndpoint | None:
    db.session.expire_all()
    return db.session.get(WebhookEndpoint, endpoint_id)


def endpoint_count() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


def field_block(body: str, field_id: str) -> str:
    """The HTML of one form field (label, input, its errors), up to the next field."""
    start = body.index(f'id="field-{field_id}"')
    end = body.find('id="field-', start + 10)
    return body[start:end if end != -1 else None]


def rows_of(body: str) -> list[str]:
    """The delivery ids in the log, top to bottom."""
    return re.findall(r'<tbody id="delivery-(\d+)"', body)


# --- endpoints --------------------------------------------------------------------------------

def test_an_admin_adds_an_endpoint_and_sees_its_secret(app, admin_client):
    response = post_form(admin_client, f"{BASE}/", {
        "url": "https://crm.example.com/hooks/signet", "description": "  CRM   production ",
        "scope": "some", "events": ["party.signed", "document.sent"]})
    assert response.status_code == 302
    with app.app_context():
        endpoint = db.session.scalars(select(WebhookEndpoint)).one()
        assert endpoint.url == "https://crm.example.com/hooks/signet"
        assert endpoint.description == "CRM production"
        assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 30
        assert endpoint.events == ["document.sent", "party.signed"]
        assert endpoint.enabled is True
        endpoint_id, secret = endpoint.id, endpoint.secret
    assert response.headers["Location"].endswith(f"{BASE}/{endpoint_id}")

    page = text_of(admin_client.get(response.headers["Location"]))
    assert "The endpoint is registered." in page
    assert f'value="{secret}"' in page
    assert "How to check the signature" in page and "hmac.compare_digest" in page
    assert "No deliveries yet." in page
    assert '<details class="card webhook-howto" open>' in page  # open until the first delivery
    # The form shows the events chosen, and not the others.
    assert 'value="document.sent" checked' in page
    assert 'value="document.created">' in page


def test_all_events_is_the_default_and_saves_an_empty_list(app, admin_client):
    form = text_of(admin_client.get(f"{BASE}/"))
    for name in WEBHOOK_EVENTS:  # every event can be chosen, each once
        assert form.count(f'name="events" value="{name}"') == 1, name
    assert re.search(r'<input checked id="scope-0" name="scope" type="radio" value="all">', form)
    # Ticks left over from "Only the events I choose" do not count once "All events" is chosen.
    post_form(admin_client, f"{BASE}/", {"url": "http://10.0.0.5:8080/in", "scope": "all",
                                             "events": ["document.sent"]})
    with app.app_context():
        assert db.session.scalars(select(WebhookEndpoint.events)).one() == []
    listing = text_of(admin_client.get(f"{BASE}/"))
    assert "All events" in listing and "http://10.0.0.5:8080/in" in listing


@pytest.mark.parametrize("url", ["ftp://x", "javascript:alert(1)", "", "https://", "crm.example"])
def test_a_bad_address_is_refused_next_to_the_field_and_nothing_is_saved(app, admin_client, url):
    response = post_form(admin_client, f"{BASE}/",
                         {"url": url, "description": "CRM", "scope": "all"})
    assert response.status_code == 422
    body = text_of(response)
    assert "starting with https:// or http://" in field_block(body, "url")
    assert 'aria-invalid="true"' in field_block(body, "url")
    assert 'value="CRM"' in body  # what was typed stays
    assert "javascript:alert(1)</" not in body  # shown only as an escaped attribute value
    with app.app_context():
        assert endpoint_count() == 0


def test_an_unknown_event_or_no_event_is_refused(app, admin_client):
    response = post_form(admin_client, f"{BASE}/", {
        "url": "https://crm.example.com/h", "scope": "some",
        "events": ["document.sent", "document.<b>hacked</b>"]})
    assert response.status_code == 422
    block = field_block(text_of(response), "events")
    assert "Unknown event: document.&lt;b&gt;hacked&lt;/b&gt;." in block
    assert 'value="document.sent" checked' in block

    response = post_form(admin_client, f"{BASE}/",
                         {"url": "https://crm.example.com/h", "scope": "some"})
    assert response.status_code == 422
    assert "Choose at least one event" in field_block(text_of(response), "events")

    response = post_form(admin_client, f"{BASE}/", {
        "url": "https://crm.example.com/h", "scope": "all", "description": "x" * 201})
    assert response.status_code == 422
    assert "At most 200 characters." in field_block(text_of(response), "description")
    with app.app_context():
        assert endpoint_count() == 0


def test_a_form_without_its_csrf_token_saves_nothing(app, admin_client):
    response = admin_client.post(f"{BASE}/", data={"url": "https://crm.example.com/h"})
    assert response.status_code == 400
    with app.app_context():
        assert endpoint_count() == 0


def test_editing_changes_the_endpoint_and_can_disable_it(app, admin_client):
    with app.app_context():
        endpoint_id = make_endpoint(events=["document.sent"]).id
    response = post_form(admin_client, f"{BASE}/{endpoint_id}", {
        "url": "https://erp.example.com/in", "description": "ERP", "scope": "some",
        "events": ["document.completed", "document.finalized"]})  # "enabled" unticked
    assert response.status_code == 302
    with app.app_context():
        endpoint = endpoint_row(endpoint_id)
        assert (endpoint.url, endpoint.description, endpoint.enabled) == \
            ("https://erp.example.com/in", "ERP", False)
        assert endpoint.events == ["document.completed", "document.finalized"]
    page = text_of(admin_client.get(f"{BASE}/{endpoint_id}"))
    assert "Saved." in page and '<span class="badge off">Disabled</span>' in page
    assert "The endpoint is disabled" in page

    post_form(admin_client, f"{BASE}/{endpoint_id}",
              {"url": "https://erp.example.com/in", "scope": "all", "enabled": "y"})
    with app.app_context():
        endpoint = endpoint_row(endpoint_id)
        assert endpoint.enabled is True and endpoint.events == [] and endpoint.description == ""


def test_a_bad_edit_is_refused_and_changes_nothing(app, admin_client):
    with app.app_context():
        endpoint_id = make_endpoint().id
        make_delivery(endpoint_id)
    response = post_form(admin_client, f"{BASE}/{endpoint_id}",
                         {"url": "javascript:alert(1)", "scope": "all", "enabled": "y"})
    assert response.status_code == 422
    body = text_of(response)
    assert "starting with https:// or http://" in field_block(body, "url")
    assert 'id="delivery-log"' in body  # the whole page, log included
    with app.app_context():
        assert endpoint_row(endpoint_id).url == "https://crm.example.com/hooks"


def test_rotating_the_secret_replaces_it(app, admin_client):
    with app.app_context():
        endpoint = make_endpoint()
        endpoint_id, old = endpoint.id, endpoint.secret
    page = text_of(admin_client.get(f"{BASE}/{endpoint_id}"))
    assert f'hx-post="{BASE}/{endpoint_id}/rotate"' in page and "hx-confirm=" in page

    fragment = post_form(admin_client, f"{BASE}/{endpoint_id}/rotate", headers=HTMX)
    assert fragment.status_code == 200
    with app.app_context():
        new = endpoint_row(endpoint_id).secret
    assert new != old and new.startswith("whsec_")
    body = text_of(fragment)
    assert body.lstrip().startswith('<section class="card" id="endpoint-secret"')
    assert f'value="{new}"' in body and "New secret." in body

    response = post_form(admin_client, f"{BASE}/{endpoint_id}/rotate")  # without JavaScript
    assert response.status_code == 302
    with app.app_context():
        assert endpoint_row(endpoint_id).secret not in (old, new)


def test_deleting_removes_the_endpoint_and_its_log(app, admin_client):
    with app.app_context():
        endpoint_id = make_endpoint(url="https://old.example.com/h").id
        make_delivery(endpoint_id)
        kept_id = make_endpoint(url="https://kept.example.com/h").id
    page = text_of(admin_client.get(f"{BASE}/{endpoint_id}"))
    assert f'action="{BASE}/{endpoint_id}/delete"' in page and "data-confirm=" in page
    response = post_form(admin_client, f"{BASE}/{endpoint_id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/")
    listing = text_of(admin_client.get(f"{BASE}/"))
    assert "Deleted the endpoint https://old.example.com/h." in listing
    assert f'id="endpoint-{endpoint_id}"' not in listing and f'id="endpoint-{kept_id}"' in listing
    with app.app_context():
        assert endpoint_row(endpoint_id) is None
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert admin_client.get(f"{BASE}/{endpoint_id}").status_code == 404


def test_the_list_shows_events_status_last_delivery_and_failures(app, admin_client):
    with app.app_context():
        quiet = make_endpoint(url="https://quiet.example.com/h", description="Quiet",
                              events=["document.sent", "party.signed"]).id
        busy = make_endpoint(url="https://busy.example.com/h", description="Busy").id
        make_delivery(busy, minutes_ago=30, status="failed", attempts=6)
        make_delivery(busy, minutes_ago=20, status="failed", attempts=6)
        make_delivery(busy, minutes_ago=1, status="succeeded", attempts=1, response_status=200)
    body = text_of(admin_client.get(f"{BASE}/"))
    quiet_row = body[body.index(f'id="endpoint-{quiet}"'):body.index(f'id="endpoint-{busy}"')]
    busy_row = body[body.index(f'id="endpoint-{busy}"'):]
    assert "2 events" in quiet_row and "Sent for signing" in quiet_row and "None yet" in quiet_row
    assert "All events" in busy_row
    assert '<span class="badge ok">succeeded</span>' in busy_row  # the newest delivery
    assert f'href="{BASE}/{busy}?status=failed#delivery-log"' in busy_row
    assert re.search(r'class="error-text"[^>]*>2</a>', busy_row)


# --- permissions and wrong ids ----------------------------------------------------------------

def test_an_employee_gets_403_on_every_route(app, employee_client):
    """Employees may view settings (the companies), but webhook secrets and payloads are not
    theirs to see: these screens need "edit settings" too, as the outbox does."""
    with app.app_context():
        endpoint_id = make_endpoint().id
        delivery_id = make_delivery(endpoint_id).id
        secret = endpoint_row(endpoint_id).secret
    for url in (f"{BASE}/", f"{BASE}/{endpoint_id}", f"{BASE}/{endpoint_id}?status=failed"):
        response = employee_client.get(url)
        assert response.status_code == 403, url
        assert secret not in text_of(response)
    for url in (f"{BASE}/", f"{BASE}/{endpoint_id}", f"{BASE}/{endpoint_id}/rotate",
                f"{BASE}/{endpoint_id}/delete",
                f"{BASE}/{endpoint_id}/deliveries/{delivery_id}/resend"):
        data = {"url": "https://evil.example.com/h", "scope": "all", "enabled": "y"}
        assert post_form(employee_client, url, data).status_code == 403, url
    with app.app_context():
        endpoint = endpoint_row(endpoint_id)
        assert (endpoint.url, endpoint.secret) == ("https://crm.example.com/hooks", secret)
        assert endpoint_count() == 1
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


def test_logged_out_visitors_are_sent_to_the_login_page(app, client):
    response = client.get(f"{BASE}/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_user_who_may_only_view_and_edit_sees_no_add_or_delete(app):
    with app.app_context():
        role = Role(name="Integrator")
        role.grants = [RoleGrant(section="settings", action=action, scope="all")
                       for action in ("view", "edit")]
        user = make_user(email="int@example.com", name="Ingrid Integrator")
        user.roles = [role]
        db.session.commit()
        endpoint_id = make_endpoint().id
        document_id = make_document_row(user.id, number="INV-7").id
        make_delivery(endpoint_id, document_id=document_id)
    client = app.test_client()
    sign_in(client, "int@example.com")
    listing = text_of(client.get(f"{BASE}/"))
    assert "Add an endpoint" not in listing and f'action="{BASE}/"' not in listing
    page = text_of(client.get(f"{BASE}/{endpoint_id}"))
    assert f"{BASE}/{endpoint_id}/delete" not in page
    assert "Rotate secret" in page and "Send again" in page
    # The document's number, but no link: documents are not this user's to open.
    assert "INV-7" in page and f'href="/documents/{document_id}"' not in page
    data = {"url": "https://crm.example.com/x", "scope": "all"}
    assert post_form(client, f"{BASE}/", data).status_code == 403
    assert post_form(client, f"{BASE}/{endpoint_id}/delete").status_code == 403
    assert post_form(client, f"{BASE}/{endpoint_id}", data).status_code == 302
    with app.app_context():
        assert endpoint_count() == 1 and endpoint_row(endpoint_id).url.endswith("/x")


def test_wrong_ids_are_404(app, admin_client):
    with app.app_context():
        endpoint_id = make_endpoint().id
        other_id = make_endpoint(url="https://other.example.com/h").id
        foreign_delivery = make_delivery(other_id).id
    for missing in (999, 2**31, 10**20):
        assert admin_client.get(f"{BASE}/{missing}").status_code == 404
        for suffix in ("", "/rotate", "/delete", "/deliveries/1/resend"):
            response = post_form(admin_client, f"{BASE}/{missing}{suffix}",
                                 {"url": "https://x.example.com", "scope": "all"})
            assert response.status_code == 404, suffix
        response = post_form(admin_client, f"{BASE}/{endpoint_id}/deliveries/{missing}/resend")
        assert response.status_code == 404
    # A delivery of another endpoint is not found under this one.
    response = post_form(admin_client,
                         f"{BASE}/{endpoint_id}/deliveries/{foreign_delivery}/resend",
                         headers=HTMX)
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


# --- the delivery log -------------------------------------------------------------------------

def test_the_log_lists_deliveries_newest_first_with_their_details(app, admin_client, admin):
    payload = encode({"id": "evt_9", "type": "document.sent",
                      "document": {"title": "<script>alert(1)</script>", "number": "A-9"}})
    with app.app_context():
        endpoint_id = make_endpoint().id
        document_id = make_document_row(admin["id"], number="ACT-42").id
        old = make_delivery(endpoint_id, minutes_ago=60, status="failed", attempts=6,
                            response_status=500, last_error="HTTP 500: receiver broke",
                            event_type="party.signed").id
        retrying = make_delivery(endpoint_id, minutes_ago=30, status="retrying", attempts=2,
                                 last_error="URLError: [Errno 111] Connection refused",
                                 next_attempt_at=utcnow() + timedelta(minutes=5)).id
        new = make_delivery(endpoint_id, minutes_ago=1, status="succeeded", attempts=1,
                            response_status=200, result="ok thanks", payload=payload,
                            document_id=document_id).id
        queued = make_delivery(endpoint_id, minutes_ago=0, status="queued").id
    body = text_of(admin_client.get(f"{BASE}/{endpoint_id}"))
    assert rows_of(body) == [str(queued), str(new), str(retrying), str(old)]
    row = body[body.index(f'id="delivery-{new}"'):body.index(f'id="delivery-{retrying}"')]
    assert '<span class="badge ok">succeeded</span>' in row
    assert f'<a href="/documents/{document_id}">ACT-42</a>' in row
    assert '<span class="mono">200</span>' in row and "ok thanks" in row
    assert "Sent for signing" in row and "document.sent" in row
    # The payload, pretty-printed and escaped.
    assert "<details>" in row and '"number": "A-9"' in html.unescape(row)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row
    failed_row = body[body.index(f'id="delivery-{old}"'):]
    assert '<span class="badge off">failed</span>' in failed_row
    assert "HTTP 500: receiver broke" in failed_row and "Signed" in failed_row
    retrying_row = body[body.index(f'id="delivery-{retrying}"'):body.index(f'id="delivery-{old}"')]
    assert '<span class="badge warn">retrying</span>' in retrying_row
    assert "Next try" in retrying_row and "Connection refused" in retrying_row
    queued_row = body[body.index(f'id="delivery-{queued}"'):body.index(f'id="delivery-{new}"')]
    assert '<span class="badge">queued</span>' in queued_row
    assert body.count(">Send again</button>") == 4
    assert '<details class="card webhook-howto">' in body  # folded away once there is a log


def test_the_log_filters_by_status_and_htmx_gets_the_log_alone(app, admin_client):
    with app.app_context():
        endpoint_id = make_endpoint().id
        failed = make_delivery(endpoint_id, minutes_ago=5, status="failed").id
        succeeded = make_delivery(endpoint_id, minutes_ago=1, status="succeeded").id
    page = text_of(admin_client.get(f"{BASE}/{endpoint_id}?status=failed"))
    assert rows_of(page) == [str(failed)]
    assert re.search(r'aria-current="page">Failed <span class="count">1</span>', page)

    fragment = admin_client.get(f"{BASE}/{endpoint_id}?status=succeeded", headers=HTMX)
    body = text_of(fragment)
    assert body.lstrip().startswith('<section id="delivery-log"') and "<html" not in body
    assert rows_of(body) == [str(succeeded)]
    assert "HX-Request" in fragment.headers["Vary"]
    assert "No deliveries with this status." in text_of(
        admin_client.get(f"{BASE}/{endpoint_id}?status=retrying", headers=HTMX))
    everything = text_of(admin_client.get(f"{BASE}/{endpoint_id}?status=<b>&page=-2"))
    assert rows_of(everything) == [str(succeeded), str(failed)]


def test_the_log_pages_fifty_at_a_time(app, admin_client):
    with app.app_context():
        endpoint_id = make_endpoint().id
        ids = [make_delivery(endpoint_id, minutes_ago=100 - n).id for n in range(51)]
    first = text_of(admin_client.get(f"{BASE}/{endpoint_id}"))
    assert len(rows_of(first)) == 50 and "Page 1 of 2" in first
    assert f"{BASE}/{endpoint_id}?page=2" in first
    second = text_of(admin_client.get(f"{BASE}/{endpoint_id}?page=2", headers=HTMX))
    assert rows_of(second) == [str(ids[0])]  # the oldest


# --- send again -------------------------------------------------------------------------------

def test_send_again_really_sends_the_same_body_signed_and_logs_it_on_top(app, admin_client):
    receiver = WebhookReceiver(statuses=(200,))
    try:
        payload = encode({"id": "evt_77", "type": "document.completed",
                          "document": {"number": "ACT-77", "title": "Delivery acceptance"}})
        with app.app_context():
            endpoint = make_endpoint(url=receiver.url, description="Loopback CRM")
            receiver.secret = endpoint.secret
            endpoint_id = endpoint.id
            original = make_delivery(endpoint_id, minutes_ago=10, status="failed", attempts=6,
                                     response_status=503, last_error="HTTP 503",
                                     event_type="document.completed", payload=payload).id
        response = post_form(admin_client,
                             f"{BASE}/{endpoint_id}/deliveries/{original}/resend",
                             headers=HTMX)
        assert response.status_code == 200

        assert len(receiver.calls) == 1
        call = receiver.calls[0]
        assert call["body"] == payload.encode()
        assert receiver.signature_ok(call)
        assert call["headers"]["Signet-Event"] == "document.completed"
        assert call["path"] == "/hooks"

        with app.app_context():
            copy = db.session.scalars(select(WebhookDelivery).where(
                WebhookDelivery.resent_from_id == original)).one()
            assert (copy.status, copy.response_status, copy.attempts) == ("succeeded", 200, 1)
            assert copy.result == "ok"
            assert db.session.get(WebhookDelivery, original).status == "failed"  # untouched
        assert call["headers"]["Signet-Delivery"] == f"whd_{copy.id}"

        body = text_of(response)
        assert body.lstrip().startswith('<section id="delivery-log"')
        assert rows_of(body) == [str(copy.id), str(original)]
        row = body[body.index(f'id="delivery-{copy.id}"'):body.index(f'id="delivery-{original}"')]
        assert "is-new" in row and '<span class="badge ok">succeeded</span>' in row
        assert '<span class="mono">200</span>' in row and f"from #{original}" in row
        assert "Sent again: the receiver answered HTTP 200." in body
        assert response.headers["HX-Replace-Url"] == f"{BASE}/{endpoint_id}"

        # Without JavaScript: the same, then back to the page with a message.
        plain = post_form(admin_client, f"{BASE}/{endpoint_id}/deliveries/{copy.id}/resend")
        assert plain.status_code == 302
        assert len(receiver.calls) == 2 and receiver.signature_ok(receiver.calls[1])
        assert "the receiver answered HTTP 200" in text_of(admin_client.get(
            plain.headers["Location"]))
    finally:
        receiver.stop()


def test_send_again_to_a_broken_receiver_shows_the_failure(app, admin_client):
    receiver = WebhookReceiver(statuses=(500,))
    try:
        with app.app_context():
            endpoint = make_endpoint(url=receiver.url)
            endpoint_id = endpoint.id
            original = make_delivery(endpoint_id, status="succeeded", response_status=200).id
        response = post_form(admin_client,
                             f"{BASE}/{endpoint_id}/deliveries/{original}/resend",
                             headers=HTMX)
        assert response.status_code == 200 and len(receiver.calls) == 1
        body = text_of(response)
        new_id = rows_of(body)[0]
        assert new_id != str(original)
        row = body[body.index(f'id="delivery-{new_id}"'):body.index(f'id="delivery-{original}"')]
        assert '<span class="badge warn">retrying</span>' in row
        assert "HTTP 500: receiver broke" in row and '<span class="mono">500</span>' in row
        assert "Sent again, but it failed: HTTP 500: receiver broke" in body
    finally:
        receiver.stop()


# --- the receiver's side ----------------------------------------------------------------------

def test_the_signature_example_on_the_page_works(app, admin_client):
    """The Python shown under "How to check the signature" accepts real signatures only."""
    with app.app_context():
        endpoint_id = make_endpoint().id
    page = text_of(admin_client.get(f"{BASE}/{endpoint_id}"))
    code = html.unescape(re.search(r'<pre class="webhook-code"[^>]*><code>(.*?)</code></pre>',
                                   page, re.S).group(1))
    assert "hmac.compare_digest" in code and "300" in code
    namespace: dict = {}
    exec(compile(code, "webhook-example", "exec"), namespace)  # noqa: S102 (our own page)
    check = namespace["signature_ok"]

    body, secret = b'{"id":"evt_1","type":"document.sent"}', "whsec_example"
    now = int(time.time())
    assert check(secret, signature(secret, now, body), body)
    assert not check(secret, signature(secret, now, body), body + b" ")
    assert not check("whsec_other", signature(secret, now, body), body)
    assert not check(secret, signature(secret, now - 301, body), body)
    assert not check(secret, "", body) and not check(secret, "t=abc,v1=00", body)
    digest = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    assert check(secret, f"t={now},v1={digest}", body)
    assert json.loads(body)["id"] == "evt_1"


# --- in a real browser ------------------------------------------------------------------------

@pytest.mark.browser
def test_on_a_phone_filter_send_again_and_rotate_work_in_place(app, admin, phone):
    from playwright.sync_api import expect

    from tests.helpers import browser_log_in

    receiver = WebhookReceiver(statuses=(200,))
    try:
        with app.app_context():
            endpoint = make_endpoint(url=receiver.url)
            receiver.secret, endpoint_id, old_secret = endpoint.secret, endpoint.id, \
                endpoint.secret
            make_delivery(endpoint_id, minutes_ago=9, status="succeeded", response_status=200)
            failed = make_delivery(endpoint_id, minutes_ago=5, status="failed", attempts=6,
                                   last_error="HTTP 502: bad gateway").id
        browser_log_in(phone, admin["email"], admin["password"])
        phone.goto(f"{BASE}/{endpoint_id}")
        assert page_width(phone) <= 390

        phone.get_by_role("link", name="Failed 1").click()
        expect(phone.locator("#delivery-log tbody.delivery")).to_have_count(1)
        expect(phone).to_have_url(re.compile(r"status=failed"))

        phone.locator(f"#delivery-{failed} button", has_text="Send again").click()
        expect(phone.locator("#delivery-log .flash")).to_contain_text("HTTP 200")
        first = phone.locator("#delivery-log tbody.delivery").first
        expect(first).to_contain_text("succeeded")
        expect(first).to_have_class(re.compile("is-new"))
        expect(phone.locator("#delivery-log tbody.delivery")).to_have_count(3)  # "All" again
        assert len(receiver.calls) == 1 and receiver.signature_ok(receiver.calls[0])

        first.get_by_text("Payload (JSON)").click()
        expect(first.locator("pre.webhook-payload")).to_contain_text('"number": "A-1"')

        phone.once("dialog", lambda dialog: dialog.accept())
        phone.get_by_role("button", name="Rotate secret").click()
        expect(phone.locator("#endpoint-secret .flash")).to_contain_text("New secret.")
        new_secret = phone.locator("#endpoint-secret-value").input_value()
        assert new_secret.startswith("whsec_") and new_secret != old_secret
        with app.app_context():
            assert endpoint_row(endpoint_id).secret == new_secret
        assert phone.console_errors == []
    finally:
        receiver.stop()
