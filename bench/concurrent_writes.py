"""Concurrent writers on the embedded default: 8 API creates at once on SQLite.

Serves the app over real HTTP (Werkzeug's threaded server, as `flask run` does, jobs
in-process) on a fresh SQLite database in a temporary folder, then creates documents through
the API: several rounds of 8 at the same moment, and the same number one at a time. Prints the
failures, creates per second of each and their ratio, and whether the numbers came out
consecutive; first from a shipped template (`POST /api/v1/documents`, each renders a PDF),
then from an uploaded one-page PDF (`POST /api/v1/documents/upload`). Prints figures only.

Run from the repository root: .venv/bin/python bench/concurrent_writes.py [--rounds 5]
Another script can `from bench.concurrent_writes import measure, report` and
`report(measure(rounds))`.
"""

import argparse
import io
import json
import logging
import re
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask.logging import default_handler  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from portal import create_app  # noqa: E402
from portal.api.tokens import create_token  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.auth.roles import ADMINISTRATOR, ensure_default_roles, give_role  # noqa: E402
from portal.doctemplates.builtin import install_builtin_templates  # noqa: E402
from portal.documents.models import Document  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.parties.models import Company, Counterparty  # noqa: E402

CONCURRENCY = 8
ITEMS = [{"name": "Consulting", "quantity": "10", "unit": "h", "price": "1500.00"},
         {"name": "Travel", "quantity": "1", "price": "320.50"}]
SOURCES = {"template": "from a template", "upload": "from an uploaded 1-page PDF"}


def _seed() -> dict:
    ensure_default_roles()
    admin = User(email="bench@example.com", name="Bench Admin")
    give_role(admin, ADMINISTRATOR)
    company = Company(legal_name="Bench LLC", signer_name="Anna Director",
                      signer_email="director@example.com")
    client = Counterparty(kind="person", name="Maria Silva", email="maria@example.com")
    db.session.add_all([admin, company, client])
    db.session.commit()
    template = next(t for t in install_builtin_templates() if t.builtin_key == "act-en")
    return {"company_id": company.id, "counterparty_id": client.id,
            "template_id": template.id, "token": create_token(admin, "bench")[1]}


def _one_page_pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.drawString(72, 760, "Act of completed work")
    page.showPage()
    page.save()
    return buffer.getvalue()


def _request(source: str, seeded: dict) -> tuple[str, bytes, str]:
    """(path, body, content type) of one create."""
    if source == "template":
        body = {key: seeded[key] for key in ("company_id", "counterparty_id", "template_id")}
        body |= {"items": ITEMS, "vat_rate": "20", "currency": "EUR"}
        return "/api/v1/documents", json.dumps(body).encode(), "application/json"
    boundary = uuid.uuid4().hex
    fields = {"company_id": seeded["company_id"], "counterparty_id": seeded["counterparty_id"],
              "title": "Scan"}
    data = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode() for name, value in fields.items())
    data += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
             f'filename="act.pdf"\r\nContent-Type: application/pdf\r\n\r\n').encode()
    data += _one_page_pdf() + f"\r\n--{boundary}--\r\n".encode()
    return ("/api/v1/documents/upload", data, f"multipart/form-data; boundary={boundary}")


def _create(url: str, token: str, create: tuple[str, bytes, str]) -> tuple[int, str]:
    path, data, content_type = create
    request = urllib.request.Request(
        f"{url}{path}", data=data, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())["number"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")[:200]


def _at_once(url: str, token: str, create: tuple, count: int) -> list[tuple[int, str]]:
    start, results = threading.Barrier(count), [None] * count

    def one(index: int) -> None:
        start.wait()
        results[index] = _create(url, token, create)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class _Errors(logging.Handler):
    """The server's logged errors (a 500's exception, a failed job), to name the first one."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        self.messages.append(str(error).splitlines()[0] if error else record.getMessage())


def _summary(results: list[tuple[int, str]], seconds: float, logged: list[str]) -> dict:
    failed = sum(1 for status, _text in results if status != 201)
    return {"creates": len(results) - failed, "errors": failed, "logged_errors": len(logged),
            "first_error": logged[0] if logged else "", "seconds": seconds,
            "per_second": (len(results) - failed) / seconds}


def _consecutive(app) -> bool:
    """Each number series (ACT-2026-..., DOC-2026-...) runs 1, 2, 3... without a gap."""
    series: dict[str, list[int]] = {}
    with app.app_context():
        for number in db.session.scalars(db.select(Document.number)):
            match = re.fullmatch(r"(.*?)(\d+)", number)
            series.setdefault(match.group(1), []).append(int(match.group(2)))
    return all(sorted(seq) == list(range(1, len(seq) + 1)) for seq in series.values())


def measure(rounds: int = 5, concurrency: int = CONCURRENCY, source: str = "template") -> dict:
    """`rounds` rounds of `concurrency` simultaneous creates, then as many one at a time.

    `source`: "template" (POST /api/v1/documents) or "upload" (POST /api/v1/documents/upload).
    """
    folder = Path(tempfile.mkdtemp(prefix="signet-bench-concurrency-"))
    app = create_app({"INSTANCE_PATH": str(folder),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'signet.db'}",
                      "REDIS_URL": "", "SMTP_HOST": "", "SIGNET_API_LIMIT": "100000 per minute",
                      "SIGNET_BASE_URL": "http://localhost"})
    with app.app_context():
        db.create_all()
        seeded = _seed()
    token, create = seeded["token"], _request(source, seeded)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    errors, quiet = _Errors(), (app.logger, logging.getLogger("portal"))
    app.logger.removeHandler(default_handler)  # counted and named in the report instead
    for logger in quiet:
        logger.addHandler(errors)
        logger.propagate = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        _create(url, token, create)  # warm up: fonts, templates, the first connection
        errors.messages.clear()
        started, together = time.perf_counter(), []
        for _round in range(rounds):
            together += _at_once(url, token, create, concurrency)
        concurrent = _summary(together, time.perf_counter() - started, errors.messages[:])
        errors.messages.clear()
        started = time.perf_counter()
        alone = [_create(url, token, create) for _index in range(rounds * concurrency)]
        serial = _summary(alone, time.perf_counter() - started, errors.messages[:])
    finally:
        server.shutdown()
        server.server_close()
        for logger in quiet:
            logger.removeHandler(errors)
            logger.propagate = True
    consecutive = _consecutive(app)
    with app.app_context():
        db.engine.dispose()
    return {"source": source, "concurrency": concurrency, "rounds": rounds,
            "concurrent": concurrent, "serial": serial,
            "ratio": concurrent["per_second"] / serial["per_second"]
            if serial["per_second"] else 0.0,
            "consecutive": consecutive}


def report(result: dict) -> None:
    print(f"SQLite, {result['rounds']} rounds of {result['concurrency']} simultaneous API creates "
          f"{SOURCES[result['source']]} (Werkzeug threads, jobs in-process)")
    for label, key in ((f"{result['concurrency']} at once", "concurrent"),
                       ("one at a time", "serial")):
        row = result[key]
        print(f"  {label:14} {row['creates']:4} created {row['errors']:4} failed "
              f"{row['per_second']:6.1f} creates/s  ({row['seconds']:.2f} s)")
        if row["first_error"]:
            print(f"  {'':14} {row['logged_errors']} errors logged, the first: "
                  f"{row['first_error'][:100]}")
    print(f"  at once / one at a time: {result['ratio']:.2f}; numbers consecutive: "
          f"{'yes' if result['consecutive'] else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    for source in SOURCES:
        report(measure(rounds, source=source))


if __name__ == "__main__":
    main()
