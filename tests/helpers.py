"""Small helpers for driving the app through its pages, as a browser would."""

import re
from contextlib import contextmanager

from flask.ctx import RequestContext
from flask.testing import EnvironBuilder
from flask_login import login_user
from flask_wtf.csrf import generate_csrf

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client) -> str:
    """A valid CSRF token for this client's session, read from a rendered page the first time;
    once the session holds its CSRF secret, made as that page makes it (a page is a request or
    two per form posted)."""
    with client.session_transaction() as session:
        has_secret = client.application.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in session
    if has_secret:
        return session_csrf_token(client)
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    match = CSRF_META.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@contextmanager
def _in_session_of(client):
    """A request context whose session is this client's; what it writes there is kept."""
    app = client.application
    builder = EnvironBuilder(app, environ_base=client.environ_base)  # its address and browser
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    with client.session_transaction() as session, RequestContext(app, environ, session=session):
        yield


def session_csrf_token(client) -> str:
    """The token the next page would carry, made by Flask-WTF without rendering a page."""
    with _in_session_of(client):
        return generate_csrf()


def post_form(client, url: str, data: dict | None = None, **kwargs):
    """POST a form the way the page would, CSRF token included."""
    data = dict(data or {})
    data.setdefault("csrf_token", session_csrf_token(client))
    return client.post(url, data=data, **kwargs)


def login(client, email: str, password: str):
    """Log in through the login form: for tests of logging in (a page and a check, ~110 ms)."""
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def sign_in(client, email: str) -> None:
    """Put an active user's login in the client's session as the login form would, directly:
    for tests where logging in is only the way in."""
    from portal.auth import sessions
    from portal.auth.security_log import Visitor
    from portal.auth.services import find_user_by_email

    with _in_session_of(client):
        user = find_user_by_email(email)
        assert user is not None, f"no user {email}"
        sessions.open_session(user, "password", Visitor("127.0.0.1", "test client"))
        assert login_user(user), f"{email} may not log in"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def browser_log_in(page, email: str, password: str) -> None:
    """Log in through the real form in a Playwright page and wait for the start page."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def page_width(page) -> int:
    """The page's full width once its stylesheets apply. Measured right after a navigation, a
    page can still be laid out without them, and then seems to scroll sideways (seen under load)."""
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth")


def fits_its_width(page) -> bool:
    """No sideways scroll: the page is no wider than its viewport."""
    return page_width(page) <= page.evaluate("document.documentElement.clientWidth")
