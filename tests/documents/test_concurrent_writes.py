"""Writers at the same moment wait their turn (issue 12): SQLite takes its write lock first,
PostgreSQL locks rows.

A real server (Werkzeug's threads, as `flask run`; jobs in-process) and 8 clients released
together by a barrier: creates from a template and from an upload, field saves, sends and
stops, through the API and through the pages (form posts with the CSRF token), with API reads
(each on a fresh token, so the read records the token's use) among the sends. No request may
fail, numbers come out consecutive, each audit event is recorded once, and every watched event
reaches automation (its in-process job runs after the request, on a connection of its own).
"""

import json
import logging
import re
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date

import pytest

from portal.audit.models import AuditEvent
from portal.auth.models import ApiToken
from portal.automation.models import HandledEvent
from portal.automation.triggers import WATCHED_EVENTS
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.documents.models import Document
from portal.extensions import db
from tests.api.support import make_token, one_page_pdf
from tests.documents.support import make_template, signet_company
from tests.factories import DEFAULT_PASSWORD, make_counterparty, make_user
from tests.services import LiveServer

AT_ONCE = 8
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
SIGNING_LINK = re.compile(r"/s/[A-Za-z0-9_\-]{20,200}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a page's 302 is the answer we check


_OPENER = urllib.request.build_opener(_NoRedirects)


def call(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    """(status, text, headers) of one HTTP request; HTTP errors are answers too."""
    # The live server's own http:// address.
    request = urllib.request.Request(  # noqa: S310
        url, data=body, method=method, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=60) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers


def at_once(requests: list) -> list:
    """Send every (method, url, body, headers) at the same moment; the answers in order."""
    start, answers = threading.Barrier(len(requests)), [None] * len(requests)

    def send(index: int, request: tuple) -> None:
        start.wait(timeout=30)
        try:
            answers[index] = call(*request)
        except Exception as error:  # a dropped connection is a failure like any other
            answers[index] = (0, repr(error), {})

    threads = [threading.Thread(target=send, args=item) for item in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def expect(answers: list, status: int) -> list:
    failures = [(code, text[:300]) for code, text, _headers in answers if code != status]
    assert failures == [], f"{len(failures)} of {len(answers)} failed: {failures[:3]}"
    return answers


def multipart(fields: dict, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        .encode() for name, value in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
             f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n').encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def world(make_app):
    """A served app (API limit out of the way), our company, a client and a template."""
    app = make_app(SIGNET_API_LIMIT="10000 per minute")
    with app.app_context():
        user = make_user(email="emp@example.com", name="Emil Employee")
        ids = {"user_id": user.id, "company_id": signet_company().id,
               "counterparty_id": make_counterparty(name="Maria Silva",
                                                    email="maria@example.com").id,
               "template_id": make_template().id}
    server = LiveServer(app)
    yield app, server.url, ids
    server.stop()


@pytest.fixture
def errors_logged(caplog):
    """Errors logged anywhere meanwhile: a 500, or an in-process job that failed."""
    caplog.set_level(logging.ERROR)
    return lambda: [f"{record.name}: {record.getMessage()}"
                    for record in caplog.records if record.levelno >= logging.ERROR]


def numbers(app, prefix: str) -> list[int]:
    with app.app_context():
        return sorted(int(number.rsplit("-", 1)[1]) for number in db.session.scalars(
            db.select(Document.number).where(Document.number.like(f"{prefix}-%"))))


def check_trail(app, document_ids: list[int], *types: str) -> None:
    """Each event once per document, and every watched one handed to automation."""
    with app.app_context():
        handled = set(db.session.scalars(db.select(HandledEvent.event_id)))
        for document_id in document_ids:
            events = db.session.execute(
                db.select(AuditEvent.id, AuditEvent.type)
                .where(AuditEvent.document_id == document_id)).all()
            kinds = [kind for _id, kind in events]
            for kind in types:
                assert kinds.count(kind) == 1, (document_id, kinds)
            watched = {event_id for event_id, kind in events if kind in WATCHED_EVENTS}
            assert watched <= handled, (document_id, kinds)


def signing_links(app) -> list[str]:
    """The paths of the signing links the invitations carry."""
    with app.app_context():
        invitations = db.session.scalars(db.select(Message)
                                         .where(Message.kind == "signing-invitation")).all()
        # Stored with the token sealed apart; the outbox-viewer mode keeps it to fill back in.
        bodies = [as_sent(message).body_text for message in invitations]
    return sorted({match for body in bodies for match in SIGNING_LINK.findall(body)})


def signature_fields(parties: list[dict]) -> list[dict]:
    signing = [party for party in parties if party["role"] in ("company", "client")]
    return [{"party_id": party["id"], "type": "signature", "page": 1, "x": 0.1 + 0.45 * index,
             "y": 0.85, "w": 0.3, "h": 0.06} for index, party in enumerate(signing)]


def test_api_writers_at_the_same_moment_all_succeed(world, errors_logged):
    app, url, ids = world
    secret = make_token(app, ids["user_id"])
    api = {"Authorization": f"Bearer {secret}"}
    as_json = {**api, "Content-Type": "application/json"}
    created = {"company_id": ids["company_id"], "template_id": ids["template_id"],
               "counterparty_id": ids["counterparty_id"], "currency": "EUR",
               "items": [{"name": "Design", "quantity": "2", "price": "100"}]}

    from_template = expect(at_once([("POST", f"{url}/api/v1/documents",
                                     json.dumps(created).encode(), as_json)] * AT_ONCE), 201)
    body, content_type = multipart({"company_id": ids["company_id"], "title": "Scan",
                                    "counterparty_id": ids["counterparty_id"]},
                                   "act.pdf", one_page_pdf())
    from_upload = expect(at_once([("POST", f"{url}/api/v1/documents/upload", body,
                                   {**api, "Content-Type": content_type})] * AT_ONCE), 201)
    year = date.today().year
    assert {json.loads(text)["number"] for _s, text, _h in from_template} == {
        f"ACT-{year}-{seq:05d}" for seq in range(1, AT_ONCE + 1)}
    assert numbers(app, "DOC") == list(range(1, AT_ONCE + 1))

    documents = [json.loads(text) for _s, text, _h in from_template + from_upload]
    to_send, to_fill = documents[:AT_ONCE], documents[AT_ONCE:]
    # Reads among the sends, each on a token never used: the read records the token's use.
    readers = [make_token(app, ids["user_id"], f"reader {index}") for index in range(AT_ONCE)]
    expect(at_once(
        [("POST", f"{url}/api/v1/documents/{document['id']}/send", None, api)
         for document in to_send]
        + [("GET", f"{url}/api/v1/documents/{document['id']}/status", None,
            {"Authorization": f"Bearer {reader}"})
           for document, reader in zip(to_fill, readers, strict=True)]), 200)
    # Our signer opens each link (a GET that records the first open) among the field saves.
    expect(at_once(
        [("PUT", f"{url}/api/v1/documents/{document['id']}/fields",
          json.dumps({"fields": signature_fields(document["parties"])}).encode(), as_json)
         for document in to_fill]
        + [("GET", f"{url}{link}", None, {}) for link in signing_links(app)]), 200)
    expect(at_once([("POST", f"{url}/api/v1/documents/{document['id']}/stop",
                     json.dumps({"reason": "Wrong client"}).encode(), as_json)
                    for document in to_send]), 200)

    sent = [document["id"] for document in to_send]
    check_trail(app, sent, "document.created", "document.sent", "party.invited",
                "party.opened", "document.stopped")
    check_trail(app, [document["id"] for document in to_fill],
                "document.created", "document.fields_set")
    with app.app_context():
        assert set(db.session.scalars(db.select(Document.stage).where(
            Document.id.in_(sent)))) == {"stopped"}
        assert None not in db.session.scalars(db.select(ApiToken.last_used_at)).all()
    assert errors_logged() == []


class Browser:
    """One logged-in browser session: its cookie and its page's CSRF token."""

    def __init__(self, url: str, email: str, password: str = DEFAULT_PASSWORD):
        self.url, self.cookie, self.csrf = url, "", ""
        self._page("/login")
        status, text, _headers = self._send("POST", "/login", {"email": email,
                                                               "password": password})
        assert status == 302, text[:300]
        self._page("/documents")  # the CSRF token of the logged-in session

    def _page(self, path: str) -> None:
        status, text, _headers = self._send("GET", path)
        assert status == 200, text[:300]
        self.csrf = CSRF_META.search(text).group(1)

    def _send(self, method, path, form=None):
        answer = call(*self.form(method, path, form))
        # Only the session cookie matters here (the login also sets the known-device one).
        for cookie in answer[2].get_all("Set-Cookie") or []:
            if cookie.startswith("session="):
                self.cookie = cookie.split(";", 1)[0]
        return answer

    def form(self, method: str, path: str, form: dict | None = None) -> tuple:
        """A request as the page sends it: the session cookie and the CSRF token."""
        headers = {"Cookie": self.cookie, "X-CSRFToken": self.csrf}
        body = None
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrf_token": self.csrf}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return method, f"{self.url}{path}", body, headers

    def json(self, method: str, path: str, data) -> tuple:
        method, url, _body, headers = self.form(method, path)
        return method, url, json.dumps(data).encode(), {**headers,
                                                       "Content-Type": "application/json"}


def test_page_writers_at_the_same_moment_all_succeed(world, errors_logged):
    app, url, ids = world
    browser = Browser(url, "emp@example.com")
    form = {"company_id": ids["company_id"], "template_id": ids["template_id"],
            "counterparty_id": ids["counterparty_id"], "date": date.today().isoformat(),
            "currency": "EUR", "items-0-name": "Design", "items-0-quantity": "2",
            "items-0-price": "100"}

    answers = expect(at_once([browser.form("POST", "/documents/new", form)] * AT_ONCE), 302)
    document_ids = [int(headers["Location"].rsplit("/", 1)[1]) for _s, _t, headers in answers]
    assert numbers(app, "ACT") == list(range(1, AT_ONCE + 1))

    parties = [json.loads(call(*browser.form("GET", f"/documents/{document_id}/fields.json"))[1])
               ["parties"] for document_id in document_ids]
    expect(at_once([browser.json("PUT", f"/documents/{document_id}/fields",
                                 {"fields": signature_fields(signers)})
                    for document_id, signers in zip(document_ids, parties, strict=True)]), 200)
    expect(at_once([browser.form("POST", f"/documents/{document_id}/send", {})
                    for document_id in document_ids]), 302)
    expect(at_once([browser.form("POST", f"/documents/{document_id}/stop",
                                 {"reason": "Wrong client"})
                    for document_id in document_ids]), 302)

    check_trail(app, document_ids, "document.created", "document.fields_set", "document.sent",
                "party.invited", "document.stopped")
    with app.app_context():
        assert set(db.session.scalars(db.select(Document.stage).where(
            Document.id.in_(document_ids)))) == {"stopped"}
    assert errors_logged() == []


def sqlite_file(app) -> str:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    assert url.startswith("sqlite:///"), "a sqlite_only test ran on another database"
    return url.removeprefix("sqlite:///")


def create_body(ids: dict) -> bytes:
    return json.dumps({"company_id": ids["company_id"], "template_id": ids["template_id"],
                       "counterparty_id": ids["counterparty_id"], "currency": "EUR"}).encode()


@pytest.mark.sqlite_only
def test_on_sqlite_reads_answer_while_a_writer_holds_the_lock_and_writers_wait(world):
    app, url, ids = world
    path = sqlite_file(app)
    api = {"Authorization": f"Bearer {make_token(app, ids['user_id'])}"}
    expect([call("GET", f"{url}/api/v1/documents", None, api)], 200)  # the token's use noted
    browser = Browser(url, "emp@example.com")
    created = create_body(ids)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        waiting = []
        thread = threading.Thread(target=lambda: waiting.append(call(
            "POST", f"{url}/api/v1/documents", created,
            {**api, "Content-Type": "application/json"})))
        thread.start()
        started = time.monotonic()
        expect([call("GET", f"{url}/api/v1/documents", None, api),
                call(*browser.form("GET", "/documents"))], 200)
        assert time.monotonic() - started < 2
        thread.join(timeout=1)
        assert waiting == []  # the create waits its turn
    finally:
        writer.execute("COMMIT")
        writer.close()
    thread.join(timeout=30)
    expect(waiting, 201)


@pytest.mark.sqlite_only
def test_on_sqlite_a_slow_upload_keeps_no_writer_waiting(world):
    """The request body arrives before the first query, which takes the write lock."""
    app, url, ids = world
    sqlite_file(app)
    secret = make_token(app, ids["user_id"])
    body, content_type = multipart({"company_id": ids["company_id"], "title": "Scan",
                                    "counterparty_id": ids["counterparty_id"]},
                                   "act.pdf", one_page_pdf())
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as upload:
        upload.sendall((f"POST /api/v1/documents/upload HTTP/1.1\r\nHost: {host}\r\n"
                        f"Authorization: Bearer {secret}\r\nContent-Type: {content_type}\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
                       + body[:len(body) // 2])
        time.sleep(0.3)  # the server is reading the rest of the file
        started = time.monotonic()
        expect([call("POST", f"{url}/api/v1/documents", create_body(ids),
                     {"Authorization": f"Bearer {secret}",
                      "Content-Type": "application/json"})], 201)
        assert time.monotonic() - started < 10
        upload.sendall(body[len(body) // 2:])
        answer = b""
        while chunk := upload.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
