"""Small helpers for driving the app through its pages, as a browser would."""

import re

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client) -> str:
    """A valid CSRF token for this client's session, read from a rendered page."""
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    match = CSRF_META.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(client, url: str, data: dict | None = None, **kwargs):
    """POST a form the way the page would, CSRF token included."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=data, **kwargs)


def login(client, email: str, password: str):
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def text_of(response) -> str:
    return response.get_data(as_text=True)


def browser_log_in(page, email: str, password: str) -> None:
    """Log in through the real form in a Playwright page and wait for the start page."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
