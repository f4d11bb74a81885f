"""Hostile files against the upload and the verify page; and 8 concurrent creates on SQLite.

For each file of the hostile corpus (tests/hostile: bombs of every kind, active content,
encrypted, polyglot, a page flood), uploaded through the API and checked on /verify, prints
the answer, the time beside the configured bound (SIGNET_FILE_TIMEOUT / SIGNET_VERIFY_TIMEOUT)
and the peak memory of the processes involved: how much the web process grew, and the
largest resident size a sandbox child reached, beside its limit (SIGNET_FILE_MEMORY_MB).
Then the throughput of 8 concurrent API creates on SQLite (bench/concurrent_writes.py).
Prints figures only.

Run from the repository root: .venv/bin/python bench/hostile.py [--rounds 3]
"""

import argparse
import multiprocessing.forkserver
import sys
import tempfile
import threading
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.api.tokens import create_token  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.auth.roles import ADMINISTRATOR, ensure_default_roles, give_role  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.parties.models import Company, Counterparty  # noqa: E402
from portal.sandbox import run_isolated  # noqa: E402
from tests.fixtures import FIXTURES_DIR  # noqa: E402
from tests.hostile import active_pdfs, bombs  # noqa: E402


class Peaks:
    """Samples every 5 ms: this process's resident size and the sandbox children's largest."""

    def __enter__(self):
        self.baseline = self.web = _status_kb("self", "VmRSS")
        self.child = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        server = multiprocessing.forkserver._forkserver._forkserver_pid
        while not self._done.wait(0.005):
            self.web = max(self.web, _status_kb("self", "VmRSS"))
            for child in _children(server):
                self.child = max(self.child, _status_kb(child, "VmHWM"))

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()


def _children(pid) -> list[str]:
    if not pid:
        return []
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def _status_kb(pid, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _corpus(folder: Path) -> dict[str, Path]:
    files = {**bombs.build_all(folder / "bombs"), **active_pdfs.build_all(folder / "active")}
    files["encrypted-empty-password.pdf"] = FIXTURES_DIR / "encrypted-empty-password.pdf"
    return files


def _app(folder: Path):
    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'signet.db'}",
                      "REDIS_URL": "", "RATELIMIT_ENABLED": False, "SIGNET_SWEEP_SECONDS": 0,
                      "SIGNET_BASE_URL": "http://localhost"})
    with app.app_context():
        db.create_all()
        ensure_default_roles()
        admin = User(email="bench@example.com", name="Bench")
        give_role(admin, ADMINISTRATOR)
        company = Company(legal_name="Bench LLC", signer_name="Anna",
                          signer_email="anna@example.com")
        client = Counterparty(kind="person", name="Maria", email="maria@example.com")
        db.session.add_all([admin, company, client])
        db.session.commit()
        form = {"company_id": str(company.id), "counterparty_id": str(client.id)}
        token = create_token(admin, "bench")[1]
    return app, form, token


def _answer(response) -> str:
    body = response.get_json(silent=True) or {}
    if response.status_code == 201:
        removed = {record["kind"] for record in body.get("removed_content", [])}
        return f"accepted, cleaned of {len(removed)} kinds" if removed else "accepted as is"
    message = (body.get("error") or {}).get("message", "")
    return f"{response.status_code} {message[:58]}"


def _verdict(response) -> str:
    body = response.get_json(silent=True) or {}
    found = body.get("active_content")
    active = "unexamined" if found is None else f"{len({r['kind'] for r in found})} kinds"
    return f"{body.get('verdict', response.status_code)}, active content: {active}"


def measure_files(folder: Path) -> list[dict]:
    app, form, token = _app(folder)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert run_isolated(len, b"warm", timeout=60, memory_mb=512) == 4  # start the forkserver
    rows = []
    for name, path in sorted(_corpus(folder / "corpus").items()):
        data = path.read_bytes()
        for door in ("upload", "verify"):
            with Peaks() as peaks:
                started = time.perf_counter()
                if door == "upload":
                    response = client.post("/api/v1/documents/upload", headers=headers,
                                           content_type="multipart/form-data",
                                           data={**form, "title": name,
                                                 "file": (BytesIO(data), name)})
                    answer = _answer(response)
                else:
                    response = client.post("/verify", headers={"Accept": "application/json"},
                                           content_type="multipart/form-data",
                                           data={"file": (BytesIO(data), name)})
                    answer = _verdict(response)
                seconds = time.perf_counter() - started
            bound = app.config["SIGNET_FILE_TIMEOUT" if door == "upload" else
                               "SIGNET_VERIFY_TIMEOUT"]
            rows.append({"file": name, "size": len(data), "door": door, "answer": answer,
                         "seconds": seconds, "bound": bound,
                         "web_growth_mb": (peaks.web - peaks.baseline) / 1024,
                         "child_peak_mb": peaks.child / 1024,
                         "child_limit_mb": app.config["SIGNET_FILE_MEMORY_MB" if door == "upload"
                                                      else "SIGNET_VERIFY_MEMORY_MB"]})
    return rows


def report_files(rows: list[dict]) -> None:
    print("Hostile files (API upload and /verify): answer, time / bound, memory")
    print(f"  {'file':32} {'size':>9} {'door':6} {'time':>7} {'/bound':>6} {'web +MB':>7} "
          f"{'child MB':>8} {'/limit':>6}  answer")
    for row in rows:
        print(f"  {row['file']:32} {row['size']:>9} {row['door']:6} {row['seconds']:>6.2f}s "
              f"{row['seconds'] / row['bound']:>6.2f} {row['web_growth_mb']:>7.0f} "
              f"{row['child_peak_mb']:>8.0f} {row['child_peak_mb'] / row['child_limit_mb']:>6.2f}"
              f"  {row['answer']}")
    worst = max(rows, key=lambda row: row["seconds"] / row["bound"])
    print(f"  slowest against its bound: {worst['file']} ({worst['door']}), "
          f"{worst['seconds'] / worst['bound']:.2f} of it; web process grew at most "
          f"{max(row['web_growth_mb'] for row in rows):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 8 concurrent creates")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report_files(measure_files(Path(folder)))
    from bench.concurrent_writes import measure, report

    print()
    report(measure(arguments.rounds))


if __name__ == "__main__":
    main()
