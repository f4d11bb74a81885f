"""Cross-cutting behaviour: error pages, security headers, languages, the health probe."""

from portal.auth.models import User
from portal.extensions import db
from tests.helpers import post_form, text_of


def test_unknown_page_gets_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Not found" in text_of(response)


def test_htmx_request_gets_an_error_fragment_not_a_page(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    body = text_of(response)
    assert response.status_code == 404
    assert 'id="error"' in body
    assert "<html" not in body


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_carry_no_inline_script(admin_client):
    body = text_of(admin_client.get("/"))
    assert "<script>" not in body
    assert "onclick=" not in body


def test_health_probe(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_browser_language_is_the_default(client):
    ru = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    pt = client.get("/login", headers={"Accept-Language": "pt-BR,pt;q=0.8"})
    assert '<html lang="ru">' in text_of(ru)
    assert "Войти" in text_of(ru)
    assert '<html lang="pt">' in text_of(pt)
    assert "Entrar" in text_of(pt)


def test_visitor_can_pick_a_language(client):
    response = post_form(client, "/language", {"locale": "pt", "next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert '<html lang="pt">' in text_of(client.get("/login"))


def test_users_language_choice_is_remembered_on_the_account(app, admin_client, admin):
    post_form(admin_client, "/language", {"locale": "ru", "next": "/"})
    with app.app_context():
        assert db.session.get(User, admin["id"]).locale == "ru"
    page = text_of(admin_client.get("/", headers={"Accept-Language": "en"}))
    assert '<html lang="ru">' in page


def test_unknown_language_is_refused(client):
    response = post_form(client, "/language", {"locale": "xx"})
    assert response.status_code == 400


def test_language_switch_does_not_redirect_off_site(client):
    response = post_form(client, "/language", {"locale": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_proxy_headers_are_ignored_unless_trusted(make_app):
    app = make_app()
    seen = {}

    @app.get("/_ip")
    def show_ip():
        from flask import request

        seen["ip"] = request.remote_addr
        return "ok"

    app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen["ip"] == "127.0.0.1"


def test_proxy_headers_are_used_when_trusted(make_app):
    app = make_app(SIGNET_TRUST_PROXY=1)
    seen = {}

    @app.get("/_ip")
    def show_ip():
        from flask import request

        seen["ip"] = request.remote_addr
        return "ok"

    app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen["ip"] == "203.0.113.9"


def test_an_id_too_large_for_the_database_is_a_404(admin_client):
    response = admin_client.get("/counterparties/99999999999999999999")
    assert response.status_code == 404


def test_nul_characters_are_refused_not_stored(admin_client):
    response = admin_client.get("/counterparties?q=a%00b")
    assert response.status_code == 400
    assert "Bad request" in text_of(response)
