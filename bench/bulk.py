"""Bulk send of 1,000 rows on PostgreSQL, real Redis, two RQ workers and SMTP on loopback.

Each figure is printed beside a limit measured in the same run, and their ratio:
- read + validate: `start_batch` of a 1,000-row CSV (read in the sandbox, every row checked,
  the directory matched, the rows stored) against a plain `csv.reader` parse of the same bytes;
- confirm: `services.confirm` (one conditional update, the rows moved, the run queued) against
  one bare UPDATE of a 1,000-row batch's rows;
- create + send through jobs: two `flask signet worker default` processes work through the
  batch; the time per document against one `create_from_template` + `send` by hand in this
  process (the median of a few);
- delivery: the mail the run queued, delivered by two `flask signet worker mail` processes to
  an aiosmtpd server here, against raw smtplib sends to the same server. With batch signing,
  1,000 documents queue one invitation (the director's batch link) beside the by-hand ones;
  bench/delivery.py measures delivery at volume;
- memory: this process's resident size across repeated uploads of the 1,000-row file through
  the API (as the web process takes them), the growth per upload after the first against the
  first upload's growth (flat: near 0).
Prints figures only.

Run from the repository root:
    .venv/bin/python bench/bulk.py [--rows 1000] [--uploads 8]
REDIS_URL (default redis://127.0.0.1:6379/13) is FLUSHED first. SIGNET_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres) must allow CREATE DATABASE; the
database is dropped at the end.
"""

import argparse
import csv
import io
import itertools
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, update  # noqa: E402

from bench.delivery import Inbox, database  # noqa: E402
from portal import create_app  # noqa: E402
from portal.api.tokens import create_token  # noqa: E402
from portal.audit.service import RequestMeta  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.bulk import services  # noqa: E402
from portal.bulk.models import BulkBatch, BulkRow  # noqa: E402
from portal.bulk.rows import validate_rows  # noqa: E402
from portal.bulk.sheet import read_sheet  # noqa: E402
from portal.delivery.models import Message  # noqa: E402
from portal.doctemplates.models import DocumentTemplate  # noqa: E402
from portal.documents.services import create_from_template, send  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.sandbox import run_isolated  # noqa: E402
from tests.documents.support import make_template, signet_company  # noqa: E402
from tests.factories import make_user  # noqa: E402

BY_HAND = 5
HAND_NUMBERS = itertools.count()
META = RequestMeta(ip="", user_agent="bench")


def spreadsheet(rows: int, tag: str = "") -> bytes:
    """A cp1251 CSV with semicolons, as Russian Excel saves it: one client per row."""
    lines = ["ФИО;Email;Телефон;Сумма;Место"]
    lines += [f"Клиент {tag}{n};client{tag}{n}@bench.example;;{1000 + n},50;Москва"
              for n in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def line(label: str, seconds: float, limit_label: str, limit: float, unit: str = "s") -> None:
    scale = 1000 if unit == "ms" else 1
    print(f"  {label:<44}{seconds * scale:>9.2f} {unit}   {limit_label:<34}"
          f"{limit * scale:>8.2f} {unit}   ratio {seconds / limit:>7.1f}")


def rss_mb() -> float:
    for text in Path("/proc/self/status").read_text().splitlines():
        if text.startswith("VmRSS:"):
            return int(text.split()[1]) / 1024
    return 0.0


def start_workers(queues: list[str], count: int, env: dict, folder: Path, burst: bool):
    command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "signet", "worker",
               *queues] + (["--burst"] if burst else [])
    return [subprocess.Popen(command, cwd=ROOT, env=env,
                             stdout=open(folder / f"worker-{queues[0]}{n}.log", "w"),  # noqa: SIM115
                             stderr=subprocess.STDOUT) for n in range(count)]


def stop(workers) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


def batch_status(batch_id: int) -> str:
    db.session.commit()  # a fresh snapshot: the workers write through their own connections
    status = db.session.scalar(select(BulkBatch.status).where(BulkBatch.id == batch_id))
    db.session.commit()
    return status


def validate_phase(actor_id, template_id, company_id, data: bytes) -> int:
    print("read + validate (1 batch)")
    start, _none = timed(lambda: run_isolated(len, b"", timeout=15, memory_mb=768))
    print(f"  (the sandbox's forkserver started first, once per process: {start:.2f} s)")
    parse, _rows = timed(lambda: list(csv.reader(io.StringIO(data.decode("cp1251")),
                                                  delimiter=";")))
    read, sheet = timed(lambda: read_sheet(data, "clients.csv"))
    template = db.session.get(DocumentTemplate, template_id)
    mapping = {"name": 0, "email": 1, "phone": 2, "amount": 3, "place": 4}
    actor = db.session.get(User, actor_id)
    check, _results = timed(lambda: validate_rows(sheet, mapping, template, actor))
    db.session.rollback()
    whole, batch = timed(lambda: services.start_batch(
        db.session.get(User, actor_id), template_id, company_id, data, "clients.csv"))
    line("read the file (sandbox)", read, "plain csv.reader parse", parse, "ms")
    line("check the rows (rules, duplicates, directory)", check, "plain csv.reader parse",
         parse, "ms")
    line("start_batch (read, check, store rows)", whole, "plain csv.reader parse", parse, "ms")
    print(f"  {batch.row_count} rows, {batch.invalid_count} invalid")
    return batch.id


def confirm_phase(actor_id, template_id, company_id, batch_id: int, data: bytes) -> None:
    print("confirm (1 batch)")
    other = services.start_batch(db.session.get(User, actor_id), template_id, company_id,
                                 data, "same.csv").id

    def bare_update():
        db.session.execute(update(BulkRow).where(BulkRow.batch_id == other,
                                                 BulkRow.status == "valid")
                           .values(status="pending"))
        db.session.commit()

    raw, _none = timed(bare_update)
    confirm, _batch = timed(lambda: services.confirm(db.session.get(User, actor_id), batch_id,
                                                     skip_invalid=False))
    line("confirm (rows moved, runs queued)", confirm, "one bare UPDATE of the rows", raw, "ms")


def by_hand(actor_id, template_id, company_id) -> float:
    """The median of BY_HAND create_from_template + send in this process (mail queued)."""
    times = []
    for _n in range(BY_HAND + 1):
        n = next(HAND_NUMBERS)
        seconds, _document = timed(lambda n=n: send(
            db.session.get(User, actor_id), META, create_from_template(
                db.session.get(User, actor_id), META, company_id=company_id,
                template_id=template_id, title="Act", place="Москва",
                client={"kind": "person", "name": f"Hand {n}",
                        "email": f"hand{n}@bench.example"},
                items=[{"name": "Act", "quantity": "1", "unit": "", "price": "1000.50"}]).id))
        times.append(seconds)
    return statistics.median(times[1:])  # the first pays the sandbox's start


def run_phase(batch_id: int, rows: int, hand: float, env: dict, folder: Path) -> None:
    print(f"create + send through jobs (2 workers, {rows} rows)")
    started = time.perf_counter()
    workers = start_workers(["default"], 2, env, folder, burst=False)
    try:
        while batch_status(batch_id) != "done":
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
    finally:
        stop(workers)
    progress = services.batch_progress(batch_id)
    first, last = db.session.execute(select(func.min(BulkRow.updated_at),
                                            func.max(BulkRow.updated_at))
                                     .where(BulkRow.batch_id == batch_id)).one()
    db.session.commit()
    running = (last - first).total_seconds() / max(rows - 1, 1)
    line("per document, 2 workers (start-up included)", elapsed / rows,
         "one create + send by hand", hand, "ms")
    line("per document, 2 workers, once running", running, "one create + send by hand",
         hand, "ms")
    print(f"  whole batch {elapsed:.1f} s; rows sent {progress['sent']}, failed "
          f"{progress['failed']}")


def raw_smtp_rate(inbox: Inbox, count: int) -> float:
    """Messages per second from smtplib to the same server, one connection each."""
    before = len(inbox.arrivals)
    message = EmailMessage()
    message["From"], message["Subject"] = "bench@bench.example", "Подпишите документ"
    message.set_content("Откройте ссылку, чтобы подписать документ. " * 20)
    start = time.perf_counter()
    for n in range(count):
        del message["To"]
        message["To"] = f"raw{n}@bench.example"
        with smtplib.SMTP("127.0.0.1", inbox.port, timeout=10) as connection:
            connection.send_message(message)
    inbox.wait_for(before + count, timeout=60)
    return count / (time.perf_counter() - start)


def queued_mails() -> int:
    """The messages the mail workers will send: counted, as a guess left the bench waiting."""
    count = db.session.scalar(select(func.count()).select_from(Message).where(
        Message.channel == "email", Message.status == "queued"))
    db.session.commit()
    return count


def delivery_phase(inbox: Inbox, invitations: int, env: dict, folder: Path) -> None:
    print(f"delivery of the {invitations} messages queued (2 workers, mail queue)")
    before = len(inbox.arrivals)
    expected = before + invitations
    started = time.perf_counter()
    workers = start_workers(["mail"], 2, env, folder, burst=True)
    inbox.wait_for(expected, timeout=900)
    for worker in workers:
        worker.wait(timeout=120)
    arrivals = inbox.arrivals[before:]
    if len(arrivals) < 2:
        print(f"  only {len(arrivals)} messages arrived; see {folder}")
        return
    running = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    raw = raw_smtp_rate(inbox, 200)
    print(f"  {len(arrivals)} arrived in {arrivals[-1] - started:.1f} s from the workers' start")
    print(f"  {'messages per second once running':<44}{running:>9.1f}     "
          f"{'raw smtplib sends per second':<34}{raw:>8.1f}     ratio {running / raw:>7.2f}")


def memory_phase(app, secret: str, template_id, company_id, rows: int, uploads: int) -> None:
    print(f"memory of the web process: {uploads} uploads of {rows} rows through the API")
    client = app.test_client()
    sizes = [rss_mb()]
    for n in range(uploads):
        data = spreadsheet(rows, tag=f"m{n}-")
        response = client.post("/api/v1/bulk/batches", headers={
            "Authorization": f"Bearer {secret}"}, content_type="multipart/form-data", data={
            "file": (io.BytesIO(data), "clients.csv"), "template_id": str(template_id),
            "company_id": str(company_id)})
        assert response.status_code == 201, response.get_json()
        sizes.append(rss_mb())
    first = max(sizes[1] - sizes[0], 0.01)
    later = (sizes[-1] - sizes[1]) / max(uploads - 1, 1)
    print("  RSS after each upload (MB): " + " ".join(f"{size:.0f}" for size in sizes))
    print(f"  {'growth per upload after the first':<44}{later:>9.2f} MB   "
          f"{'growth of the first upload':<34}{first:>8.2f} MB   ratio {later / first:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--uploads", type=int, default=8)
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")

    import redis

    redis.Redis.from_url(redis_url).flushdb()
    folder = Path(tempfile.mkdtemp(prefix="signet-bench-bulk-"))
    url, drop_database = database("postgresql", folder)
    inbox = Inbox()
    config = {"INSTANCE_PATH": str(folder / "instance"), "SQLALCHEMY_DATABASE_URI": url,
              "REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": inbox.port,
              "SECRET_KEY": "bench", "SIGNET_BASE_URL": "http://bench.example",
              "RATELIMIT_STORAGE_URI": "memory://", "SIGNET_BULK_MAX_ROWS": args.rows}
    env = {**os.environ, "SIGNET_INSTANCE_PATH": config["INSTANCE_PATH"], "DATABASE_URL": url,
           "REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(inbox.port),
           "SIGNET_SECRET_KEY": "bench", "SIGNET_BASE_URL": "http://bench.example",
           "SIGNET_BULK_MAX_ROWS": str(args.rows)}
    app = create_app(config)
    print(f"Bulk send: {args.rows} rows, PostgreSQL, Redis {redis_url}, SMTP on "
          f"127.0.0.1:{inbox.port}")
    try:
        with app.app_context():
            db.create_all()
            boss = make_user(email="boss@bench.example", name="Bo Boss", is_admin=True)
            company, template = signet_company(), make_template()
            ids = (boss.id, template.id, company.id)
            secret = create_token(boss, "bench")[1]
            data = spreadsheet(args.rows)
            batch_id = validate_phase(*ids, data)
            confirm_phase(*ids, batch_id, data)
            before = by_hand(*ids)
            run_phase(batch_id, args.rows, before, env, folder)
            after = by_hand(*ids)
            print(f"  (by hand: {before * 1000:.0f} ms before the run, {after * 1000:.0f} ms "
                  f"after it: the machine's load moved this much meanwhile)")
            delivery_phase(inbox, queued_mails(), env, folder)
            memory_phase(app, secret, template.id, company.id, args.rows, args.uploads)
            db.session.remove()
            db.engine.dispose()
    finally:
        inbox.stop()
        drop_database()
        redis.Redis.from_url(redis_url).flushdb()


if __name__ == "__main__":
    main()
