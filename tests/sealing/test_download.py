"""The signed PDF leaves by four routes (mail link, vault, document page, API): one response."""

from urllib.parse import unquote, urlsplit

import pytest

from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from portal.sealing.finalize import download_link
from portal.storage import store
from tests.api.support import Api, make_draft, make_token
from tests.fixtures import fixture_bytes

# Slash and "№" are not safe in a file name; the rule keeps the letters, Cyrillic ones too.
NUMBER = "Акт/2026 №5"
FILENAME = "Акт-2026-5.pdf"


@pytest.fixture
def signed(app, admin):
    """A completed document of the administrator's with a final PDF; its id, link and digest."""
    with app.app_context():
        document = db.session.get(Document, make_draft(admin["id"], number=NUMBER))
        final = store(fixture_bytes("three-pages.pdf"), "application/pdf")
        document.stage, document.completed_at = "completed", utcnow()
        document.final_sha256 = final.sha256
        db.session.commit()
        return {"id": document.id, "link": urlsplit(download_link(document)).path,
                "sha256": final.sha256}


@pytest.fixture
def fetch(app, admin, admin_client, signed):
    """route name -> a function fetching the signed PDF that way (extra headers allowed)."""
    api = Api(app.test_client(), make_token(app, admin["id"]))
    document_id = signed["id"]
    return {
        "mail link": lambda **kw: app.test_client().get(signed["link"], **kw),
        "vault": lambda **kw: admin_client.get(f"/vault/{document_id}/signed.pdf", **kw),
        "document page": lambda **kw: admin_client.get(f"/documents/{document_id}/final.pdf",
                                                       **kw),
        "api": lambda **kw: api.client.get(f"/api/v1/documents/{document_id}/final.pdf",
                                           headers={**api.headers, **kw.pop("headers", {})},
                                           **kw),
    }


def _filename(disposition: str) -> str:
    """The UTF-8 name (filename*) the browser saves the file under."""
    encoded = next(part.strip() for part in disposition.split(";")
                   if part.strip().startswith("filename*="))
    return unquote(encoded.removeprefix("filename*=UTF-8''"))


def test_every_route_sends_the_same_file_under_the_same_name(fetch, signed):
    dispositions = {}
    for route, get in fetch.items():
        response = get()
        assert response.status_code == 200, route
        assert response.mimetype == "application/pdf", route
        assert response.data == fixture_bytes("three-pages.pdf"), route
        assert response.headers["Cache-Control"] == "private, no-store", route
        assert response.headers["ETag"] == f'"{signed["sha256"]}"', route
        dispositions[route] = response.headers["Content-Disposition"]

    assert len(set(dispositions.values())) == 1, dispositions
    disposition = dispositions["api"]
    assert disposition.startswith("attachment;")
    assert _filename(disposition) == FILENAME


def test_a_copy_the_browser_holds_is_not_sent_again(fetch, signed):
    for route, get in fetch.items():
        response = get(headers={"If-None-Match": f'"{signed["sha256"]}"'})
        assert response.status_code == 304, route


def test_the_vault_shows_it_inline_under_the_same_name(admin_client, signed):
    shown = admin_client.get(f"/vault/{signed['id']}/signed.pdf?view=1")

    assert shown.headers["Content-Disposition"].startswith("inline;")
    assert _filename(shown.headers["Content-Disposition"]) == FILENAME
    assert shown.headers["Cache-Control"] == "private, no-store"
