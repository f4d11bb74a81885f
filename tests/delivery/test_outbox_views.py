"""The outbox viewer: who may see it, what it shows, filters, paging, the HTML body, send again."""

from flask_babel import force_locale

from portal.delivery.labels import KIND_LABELS, kind_label
from portal.delivery.models import Message
from portal.extensions import db
from tests.delivery.support import make_messages, reload
from tests.helpers import post_form, text_of


def test_admin_sees_messages_newest_first_with_status(app, admin_client):
    with app.app_context():
        make_messages(1, status="sent", subject="Older one", backend="smtp")
        make_messages(1, status="failed", subject="Newer one", last_error="Connection refused")
    body = text_of(admin_client.get("/outbox"))
    assert body.index("Newer one") < body.index("Older one")
    assert '<span class="badge off">failed</span>' in body
    assert '<span class="badge ok">sent</span>' in body
    assert "Connection refused" in body
    assert "person0@example.com" in body


def test_filter_by_status_lives_in_the_url_and_htmx_gets_the_fragment(app, admin_client):
    with app.app_context():
        make_messages(1, status="sent", subject="Delivered fine")
        make_messages(1, status="failed", subject="Bounced badly")
    page = admin_client.get("/outbox?status=failed")
    assert "Bounced badly" in text_of(page)
    assert "Delivered fine" not in text_of(page)

    fragment = admin_client.get("/outbox?status=sent", headers={"HX-Request": "true"})
    body = text_of(fragment)
    assert body.lstrip().startswith('<div id="outbox-list"')
    assert "<html" not in body
    assert "Delivered fine" in body and "Bounced badly" not in body
    assert "HX-Request" in fragment.headers["Vary"]


def test_unknown_status_filter_shows_everything(app, admin_client):
    with app.app_context():
        make_messages(2)
    response = admin_client.get("/outbox?status=<script>&page=-3")
    assert response.status_code == 200
    assert "Subject 0" in text_of(response) and "Subject 1" in text_of(response)


def test_paging_shows_fifty_a_page(app, admin_client):
    with app.app_context():
        make_messages(51)
    first = text_of(admin_client.get("/outbox"))
    assert first.count('href="/outbox/') == 50
    assert "Page 1 of 2" in first
    second = text_of(admin_client.get("/outbox?page=2"))
    assert second.count('href="/outbox/') == 1
    assert ">Subject 0<" in second  # the oldest


def test_empty_outbox_says_so(admin_client):
    assert "No messages yet." in text_of(admin_client.get("/outbox"))


def test_detail_escapes_the_text_and_links_addresses(app, admin_client):
    with app.app_context():
        [message_id] = make_messages(
            1, body_text="Hi <script>alert(1)</script>\nSign: https://x.test/s/t0k3n?a=1&b=2.",
            body_html="<p onclick='x()'>Hi</p>",
        )
    body = text_of(admin_client.get(f"/outbox/{message_id}"))
    assert '<pre class="message-body">' in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body
    assert '<a href="https://x.test/s/t0k3n?a=1&amp;b=2" rel="noopener noreferrer">' in body
    assert "onclick" not in body  # the HTML body is not inlined into our page
    assert f'<iframe class="message-preview" sandbox src="/outbox/{message_id}/html"' in body


def test_html_body_is_served_under_a_strict_policy(app, admin_client):
    with app.app_context():
        [message_id] = make_messages(1, body_html="<p>Olá</p><script>alert(1)</script>")
    response = admin_client.get(f"/outbox/{message_id}/html")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy
    assert response.headers["Content-Disposition"] == "inline"
    assert "<p>Olá</p>" in text_of(response)


def test_unknown_message_is_404(admin_client):
    assert admin_client.get("/outbox/999999").status_code == 404
    assert admin_client.get("/outbox/999999/html").status_code == 404
    assert post_form(admin_client, "/outbox/999999/resend").status_code == 404


def test_employee_is_refused(app, employee_client):
    with app.app_context():
        [message_id] = make_messages(1)
    assert employee_client.get("/outbox").status_code == 403
    assert employee_client.get(f"/outbox/{message_id}").status_code == 403
    assert employee_client.get(f"/outbox/{message_id}/html").status_code == 403
    assert post_form(employee_client, f"/outbox/{message_id}/resend").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/outbox")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_send_again_needs_the_csrf_token(app, admin_client):
    with app.app_context():
        [message_id] = make_messages(1, status="failed", last_error="boom")
    response = admin_client.post(f"/outbox/{message_id}/resend")
    assert response.status_code == 400
    with app.app_context():
        assert reload(message_id).status == "failed"


def test_send_again_delivers_a_failed_message(app, admin_client):
    with app.app_context():
        [message_id] = make_messages(1, status="failed", last_error="boom", attempts=5)
    detail = text_of(admin_client.get(f"/outbox/{message_id}"))
    assert "Send again" in detail and "boom" in detail

    response = post_form(admin_client, f"/outbox/{message_id}/resend", follow_redirects=True)
    assert "The message was sent again." in text_of(response)
    with app.app_context():
        message = reload(message_id)
        assert (message.status, message.backend, message.attempts) == ("sent", "outbox", 1)


def test_a_queued_message_cannot_be_sent_again(app, admin_client):
    with app.app_context():
        [message_id] = make_messages(1, status="queued")
    assert "Send again" not in text_of(admin_client.get(f"/outbox/{message_id}"))
    response = post_form(admin_client, f"/outbox/{message_id}/resend")
    assert response.status_code == 409
    assert "already waiting to be sent" in text_of(response)
    with app.app_context():
        assert db.session.get(Message, message_id).attempts == 0


def test_every_kind_of_message_has_a_translated_label(app):
    with app.test_request_context():
        for kind in KIND_LABELS:
            with force_locale("en"):
                english = kind_label(kind)
            for language in ("ru", "pt"):
                with force_locale(language):
                    assert kind_label(kind) != english, (language, kind)
        with force_locale("ru"):
            assert kind_label("something-new") == "Сообщение"


def test_the_outbox_names_a_messages_kind_in_words(app, admin_client):
    with app.app_context():
        [message_id] = make_messages(1, status="sent", subject="Please sign", backend="smtp",
                                     kind="signing-invitation")
    for page in (admin_client.get("/outbox"), admin_client.get(f"/outbox/{message_id}")):
        assert "Signing invitation" in text_of(page) and "signing-invitation" not in text_of(page)
