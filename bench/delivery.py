"""Invitation delivery: N invitation emails through the outbox, real Redis, RQ workers and SMTP.

Each invitation is rendered by the same code that invites a signer, written to the outbox,
enqueued on the `mail` queue and delivered by `flask signet worker mail --burst` processes
to an aiosmtpd server on loopback in this process. Every delivery claims its row first (a
conditional update with an attempt and a lease) and settles it after the server's answer, so
the rate printed is the rate with claiming; `--dispatch-twice` enqueues every message twice
(half the claims lose) and counts the copies by Message-ID. Prints figures only, asserts
nothing (the target: at least 100 messages/s with two workers).

Run from the repository root:
    .venv/bin/python bench/delivery.py [--count 1000] [--workers 2]
        [--database sqlite|postgresql] [--worker signet|simple] [--dispatch-twice]
REDIS_URL (default redis://127.0.0.1:6379/14) is FLUSHED first.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from email.parser import BytesHeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_babel import force_locale  # noqa: E402

from portal import create_app  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.delivery.models import Message  # noqa: E402
from portal.delivery.services import dispatch  # noqa: E402
from portal.documents.models import Document, Party  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models_base import utcnow  # noqa: E402
from portal.notices.texts import queue_invitation  # noqa: E402
from portal.parties.models import Company  # noqa: E402
from portal.tokens import new_token  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "SIGNET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd server that notes when each message arrived."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.arrivals: list[float] = []
        self.message_ids: list[str] = []
        self.lock = threading.Lock()
        self.port = free_port()
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message_id = BytesHeaderParser().parsebytes(envelope.content)["Message-ID"]
                with inbox.lock:
                    inbox.arrivals.append(time.perf_counter())
                    inbox.message_ids.append(message_id)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self):
        self.controller.stop()


def database(kind: str, folder: Path) -> tuple[str, object]:
    """(URL, cleanup) for a throwaway database of the given kind."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    import psycopg

    name = f"signet_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}", drop


def queue_invitations(count: int, times: int = 1) -> list[int]:
    """Render and store `count` invitations (one transaction), then enqueue them `times` times."""
    company = Company(legal_name="Signet Bench LLC", signer_name="Anna Petrova")
    sender = User(email="sender@bench.example", name="Sam Sender")
    document = Document(number="ACT-2026-00001", title="Act of completed work", language="en",
                        company=company, responsible=sender,
                        deadline_at=utcnow() + timedelta(days=30))
    ids = []
    for index in range(count):
        party = Party(role="client", name=f"Client {index}", email=f"client{index}@bench.example",
                      channel="email")
        raw, _hashed = new_token()
        with force_locale("en"):
            message = queue_invitation(document, party, raw)
        db.session.flush()
        ids.append(message.id)
    db.session.commit()
    for _time in range(times):
        dispatch(ids)
    # End the read dispatch began: on SQLite a transaction outside a request holds the write
    # lock (BEGIN IMMEDIATE), and the workers' claims would wait on it.
    db.session.rollback()
    return ids


def start_workers(number: int, kind: str, env: dict, folder: Path) -> list[subprocess.Popen]:
    """`flask signet worker` (as `make worker` runs it) or a bare RQ worker process."""
    if kind == "signet":
        command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "signet", "worker",
                   "mail", "--burst"]
    else:  # jobs run in the worker process itself; the app is made on the first job
        command = [str(ROOT / ".venv" / "bin" / "rq"), "worker", "--burst", "--url",
                   env["REDIS_URL"], "-w", "portal.jobs.QuickStopWorker", "mail"]
    return [subprocess.Popen(command, cwd=ROOT, env=env,
                             stdout=open(folder / f"worker{index}.log", "w"),  # noqa: SIM115
                             stderr=subprocess.STDOUT)
            for index in range(number)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--worker", choices=("signet", "simple"), default="signet")
    parser.add_argument("--dispatch-twice", action="store_true",
                        help="Enqueue every message twice: the claims must keep it one copy.")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")

    import redis

    redis.Redis.from_url(redis_url).flushdb()
    folder = Path(tempfile.mkdtemp(prefix="signet-bench-delivery-"))
    url, drop_database = database(args.database, folder)
    inbox = Inbox()
    config = {"INSTANCE_PATH": str(folder / "instance"), "SQLALCHEMY_DATABASE_URI": url,
              "REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": inbox.port,
              "SECRET_KEY": "bench", "SIGNET_BASE_URL": "http://bench.example"}
    app = create_app(config)
    env = {**os.environ, "SIGNET_INSTANCE_PATH": config["INSTANCE_PATH"], "DATABASE_URL": url,
           "REDIS_URL": redis_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(inbox.port),
           "SIGNET_SECRET_KEY": "bench", "SIGNET_BASE_URL": "http://bench.example"}
    try:
        with app.app_context():
            db.create_all()
            print(f"{args.count} invitations, {args.workers} RQ workers ({args.worker}), "
                  f"Redis {redis_url}, "
                  f"{args.database}, SMTP on 127.0.0.1:{inbox.port}")
            started = time.perf_counter()
            times = 2 if args.dispatch_twice else 1
            queue_invitations(args.count, times)
            queued = time.perf_counter()
            print(f"render + outbox + enqueue ({times} job(s) per message): "
                  f"{queued - started:.2f} s "
                  f"({args.count / (queued - started):.0f} messages/s)")
            workers = start_workers(args.workers, args.worker, env, folder)
            inbox.wait_for(args.count, timeout=600)
            for worker in workers:
                worker.wait(timeout=120)
            time.sleep(0.5)  # a doubled copy would arrive just after the last one counted
            arrived = len(inbox.arrivals)
            first, last = (inbox.arrivals[0], inbox.arrivals[-1]) if arrived else (queued, queued)
            delivering = last - queued
            print(f"arrived: {arrived}/{args.count}; first after {first - queued:.2f} s "
                  f"(worker start-up), last after {delivering:.2f} s from the workers' start")
            if arrived > 1:
                print(f"delivery rate with claiming: {arrived / delivering:.0f} messages/s "
                      f"overall, {(arrived - 1) / (last - first):.0f} messages/s once running "
                      f"({args.workers} workers)")
            copies = Counter(inbox.message_ids)
            print(f"copies by Message-ID: {len(copies)} distinct, "
                  f"{sum(1 for n in copies.values() if n > 1)} received more than once")
            print(f"time until the last message arrived, from the first render: "
                  f"{last - started:.2f} s")
            db.session.commit()
            sent = db.session.scalar(db.select(db.func.count()).select_from(Message)
                                     .where(Message.status == "sent"))
            failures = sum(log.read_text().count("exception raised while executing")
                           for log in folder.glob("worker*.log"))
            print(f"outbox rows marked sent: {sent}; job exceptions in worker logs: {failures}")
            db.session.remove()
            db.engine.dispose()
    finally:
        inbox.stop()
        drop_database()
        redis.Redis.from_url(redis_url).flushdb()


if __name__ == "__main__":
    main()
