"""Invitations: the email, the set-your-password page, and every way a link stops working."""

import re
from datetime import timedelta

from portal.auth.models import User
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.extensions import db
from portal.models_base import utcnow
from tests.helpers import login, post_form, sign_in, text_of

LINK = re.compile(r"https?://[^/\s]+(/invite/[A-Za-z0-9_-]+)")
PASSWORD = "my own long password"


def invite(client, email="new.person@example.com", name="New Person", **extra):
    data = {"email": email, "name": name, "position": "", "phone": "", "department": "",
            "setup": "invite", "password": "", "confirm": "", **extra}
    response = post_form(client, "/admin/users/new", data)
    assert response.status_code == 302, text_of(response)[:500]
    return response


def invite_links(app, email="new.person@example.com") -> list[str]:
    """The invitation links mailed to `email`, oldest first (read from the outbox)."""
    with app.app_context():
        messages = db.session.execute(
            db.select(Message).filter_by(recipient=email, kind="invite").order_by(Message.id)
        ).scalars().all()
        # The stored copy carries a marker; the outbox-viewer mode keeps the link sealed beside.
        bodies = [as_sent(message).body_text for message in messages]
    return [LINK.search(body).group(1) for body in bodies]


def accept(client, path, password=PASSWORD, confirm=None):
    return post_form(client, path, {"password": password,
                                    "confirm": password if confirm is None else confirm})


def pending_user(app, email="new.person@example.com") -> User:
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one()
        db.session.expunge(user)
        return user


def test_invitation_email_arrives_and_its_link_sets_the_password(make_app, admin, smtp_server,
                                                                 mailbox):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    admin_client = app.test_client()
    sign_in(admin_client, admin["email"])
    invite(admin_client, email="New.Person@Example.com")
    assert "Invitation sent to new.person@example.com" in text_of(admin_client.get("/admin/users"))
    assert "Invitation pending" in text_of(admin_client.get("/admin/users"))

    mailbox.wait_for(1)
    [email] = mailbox.to("new.person@example.com")
    assert "invited" in email["Subject"]
    text = email.get_body(("plain",)).get_content()
    assert "Ada Admin" in text
    path = LINK.search(text).group(1)
    assert pending_user(app).invite_token_hash not in text  # only the hash is stored

    invitee = app.test_client()
    form = invitee.get(path)
    assert form.status_code == 200
    assert "New Person" in text_of(form) and "Choose a password" in text_of(form)
    response = accept(invitee, path)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Welcome, New Person" in text_of(invitee.get("/"))

    used = app.test_client().get(path)
    assert used.status_code == 404
    assert "not valid or has already been used" in text_of(used)
    login(app.test_client(), "new.person@example.com", PASSWORD)


def test_invitation_is_queued_in_the_outbox_with_the_user(app, admin_client):
    invite(admin_client)
    [path] = invite_links(app)
    user = pending_user(app)
    assert user.password_hash is None and user.invite_expires_at is not None
    with app.app_context():
        assert db.session.execute(
            db.select(Message).filter_by(recipient="new.person@example.com")
        ).scalar_one().kind == "invite"
    assert app.test_client().get(path).status_code == 200


def test_invitation_lasts_the_configured_number_of_days(make_app, admin):
    app = make_app(SIGNET_INVITE_DAYS=2)
    client = app.test_client()
    sign_in(client, admin["email"])
    invite(client)
    expires = pending_user(app).invite_expires_at.replace(tzinfo=None)
    expected = (utcnow() + timedelta(days=2)).replace(tzinfo=None)
    assert abs(expires - expected) < timedelta(minutes=1)


def test_expired_invitation_shows_a_clear_page(app, admin_client):
    invite(admin_client)
    [path] = invite_links(app)
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(
            email="new.person@example.com")).scalar_one()
        user.invite_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    invitee = app.test_client()
    for response in (invitee.get(path), accept(invitee, path)):
        assert response.status_code == 410
        assert "This invitation link has expired. Ask your administrator to send a new one." \
            in text_of(response)
    assert pending_user(app).password_hash is None


def test_wrong_token_gives_a_404_page(client):
    for path in ("/invite/not-a-real-token", "/invite/" + "x" * 500):
        response = client.get(path)
        assert response.status_code == 404
        assert "Invitation not valid" in text_of(response)


def test_resend_makes_the_old_link_stop_working(app, admin_client):
    invite(admin_client)
    user_id = pending_user(app).id
    page = text_of(admin_client.get(f"/admin/users/{user_id}/edit"))
    assert "The invitation has not been accepted yet." in page and "Resend invitation" in page
    response = post_form(admin_client, f"/admin/users/{user_id}/resend-invitation",
                         follow_redirects=True)
    assert "A new invitation was sent to new.person@example.com" in text_of(response)
    old, new = invite_links(app)
    invitee = app.test_client()
    assert invitee.get(old).status_code == 404
    assert accept(invitee, old).status_code == 404
    assert accept(invitee, new).status_code == 302


def test_resend_is_refused_once_the_password_is_set(app, admin_client, employee):
    response = post_form(admin_client, f"/admin/users/{employee['id']}/resend-invitation",
                         follow_redirects=True)
    assert "has already set a password" in text_of(response)
    assert invite_links(app, employee["email"]) == []


def test_deactivated_users_invitation_does_not_work(app, admin_client):
    invite(admin_client)
    post_form(admin_client, f"/admin/users/{pending_user(app).id}/deactivate")
    [path] = invite_links(app)
    invitee = app.test_client()
    response = invitee.get(path)
    assert response.status_code == 410
    assert "deactivated" in text_of(response)
    assert accept(invitee, path).status_code == 410
    assert pending_user(app).password_hash is None


def test_short_or_mismatched_password_keeps_the_link_usable(app, admin_client):
    invite(admin_client)
    [path] = invite_links(app)
    invitee = app.test_client()
    short = accept(invitee, path, password="short")
    assert short.status_code == 200 and "Use at least 10 characters." in text_of(short)
    differ = accept(invitee, path, confirm="another long password")
    assert "The two passwords differ." in text_of(differ)
    assert invitee.get("/").status_code == 302  # not logged in
    assert accept(invitee, path).status_code == 302


def test_accepting_without_csrf_token_is_refused(app, admin_client):
    invite(admin_client)
    [path] = invite_links(app)
    response = app.test_client().post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 400
    assert pending_user(app).password_hash is None


def test_invitation_page_is_rate_limited(make_app):
    app = make_app(SIGNET_INVITE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [client.get(f"/invite/guess-number-{n}").status_code for n in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert "Too many attempts" in text_of(client.get("/invite/another-guess"))


def test_a_delivered_invitation_keeps_no_usable_link(make_app, smtp_server, mailbox, admin):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    client = app.test_client()
    sign_in(client, admin["email"])
    invite(client)
    mailbox.wait_for(1)
    [mail] = mailbox.to("new.person@example.com")
    received = LINK.search(mail.get_body(("plain",)).get_content()).group(1)
    with app.app_context():
        db.session.commit()
        stored = db.session.execute(
            db.select(Message).filter_by(recipient="new.person@example.com", kind="invite")
        ).scalar_one()
        assert received not in stored.body_text + stored.body_html
        assert as_sent(stored) is None  # the sealed copy was dropped once delivered
        message_id = stored.id
    outbox = text_of(client.get(f"/outbox/{message_id}"))
    assert received not in outbox and "Send a new invitation from the user" in outbox
    assert accept(app.test_client(), received).status_code == 302  # the mailed link works
