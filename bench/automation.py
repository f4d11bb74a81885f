"""What automation costs the person who acts, and what a rule run and a webhook take.

- send a document with no rule or endpoint switched on (the hook's cost is one count query);
- the same with three rules on "sent" (an email to the responsible, an email to an address,
  a webhook to a loopback receiver) and an endpoint for every event, run in-process: the
  embedded default, where the sender waits for them;
- one webhook POST (sign + HTTP round trip on loopback).

SQLite in a temporary folder, jobs in-process. Run from the repository root:
.venv/bin/python bench/automation.py
"""

import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pdf import text_pdf  # noqa: E402
from portal import create_app  # noqa: E402
from portal.audit.service import RequestMeta  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.auth.roles import ADMINISTRATOR, ensure_default_roles, give_role  # noqa: E402
from portal.automation import services as automation  # noqa: E402
from portal.automation.webhooks import post  # noqa: E402
from portal.documents import services  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.parties.models import Company, Counterparty  # noqa: E402

RUNS = 15
META = RequestMeta(ip="127.0.0.1", user_agent="bench")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def start_receiver() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def seed() -> tuple[int, int, int]:
    ensure_default_roles()
    admin = User(email="bench@example.com", name="Bench Admin")
    give_role(admin, ADMINISTRATOR)
    company = Company(legal_name="Bench LLC", signer_name="Anna Director",
                      signer_email="director@example.com")
    client = Counterparty(kind="person", name="Maria Silva", email="maria@example.com")
    db.session.add_all([admin, company, client])
    db.session.commit()
    return admin.id, company.id, client.id


def ready_draft(admin_id: int, company_id: int, client_id: int, pdf: bytes) -> int:
    actor = db.session.get(User, admin_id)
    document = services.create_from_upload(actor, META, company_id=company_id, data=pdf,
                                           filename="act.pdf", title="Act",
                                           counterparty_id=client_id)
    fields = [{"party_id": party.id, "type": "signature", "page": 1, "x": x, "y": 0.8,
               "w": 0.25, "h": 0.06}
              for party, x in zip(document.parties, (0.1, 0.6), strict=False)]
    services.set_fields(actor, META, document.id, fields)
    return document.id


def time_sends(app, ids: tuple[int, int, int], pdf: bytes) -> float:
    times = []
    for _ in range(RUNS):
        with app.app_context():
            document_id = ready_draft(*ids, pdf)
        start = time.perf_counter()
        with app.app_context():  # a request's context: automation runs when it ends
            services.send(db.session.get(User, ids[0]), META, document_id)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(label: str, seconds: float, extra: str = "") -> None:
    print(f"{label:58} {seconds * 1000:8.1f} ms  {extra}")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="signet-bench-automation-"))
    app = create_app({"INSTANCE_PATH": str(folder), "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                      "SIGNET_SWEEP_SECONDS": 0, "SIGNET_BASE_URL": "http://localhost"})
    server, url = start_receiver()
    pdf = text_pdf(1)
    with app.app_context():
        db.create_all()
        ids = seed()
    print(f"send a 1-page document, median of {RUNS} (SQLite, jobs in-process)")
    quiet = time_sends(app, ids, pdf)
    report("no rules, no endpoints", quiet)
    with app.app_context():
        actor = db.session.get(User, ids[0])
        automation.create_rule(actor, {"name": "Tell", "trigger": "sent",
                                       "action": "notify_responsible"})
        automation.create_rule(actor, {"name": "Mail", "trigger": "sent", "action": "send_email",
                                       "recipient": "address", "address": "acc@example.com",
                                       "subject": "Sent {{ document.number }}",
                                       "body": "{{ counterparty.name }}"})
        automation.create_rule(actor, {"name": "CRM", "trigger": "sent", "action": "webhook",
                                       "url": url})
        automation.create_endpoint(actor, {"url": url})
    busy = time_sends(app, ids, pdf)
    report("3 rules + an endpoint for every event, run in-process", busy,
           f"(+{(busy - quiet) * 1000:.1f} ms; with Redis the sender does not wait)")
    with app.app_context():
        times = []
        for _ in range(RUNS * 4):
            start = time.perf_counter()
            post(url, "whsec_bench", b'{"type":"document.sent"}', "document.sent", "bench")
            times.append(time.perf_counter() - start)
    report("one signed webhook POST on loopback", statistics.median(times))
    server.shutdown()


if __name__ == "__main__":
    main()
