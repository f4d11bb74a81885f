"""Real services for the tests: PostgreSQL, Redis, an SMTP server and an SMS gateway on loopback.

With SIGNET_REQUIRE_SERVICES=1 (CI) a service that cannot be reached fails the run;
otherwise the tests that need it are skipped.
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

REQUIRE_SERVICES = os.environ.get("SIGNET_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_URL = os.environ.get(
    "SIGNET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _redis_test_url() -> str:
    """db 15 for a plain run; each pytest-xdist worker (gw0, gw1...) its own db below it.

    SIGNET_TEST_REDIS_TOP moves the top down, so two checkouts can run their suites at once."""
    top = int(os.environ.get("SIGNET_TEST_REDIS_TOP", "15"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    database = top - int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else top
    return os.environ.get("SIGNET_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{database}")


REDIS_TEST_URL = _redis_test_url()


def service_missing(what: str, why: object):
    message = f"{what} is not reachable: {why}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (SIGNET_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)  # reached only without SIGNET_REQUIRE_SERVICES=1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- PostgreSQL ---------------------------------------------------------------------------

def create_postgres_database() -> tuple[str, str]:
    """Create a throwaway database; return (SQLAlchemy URL, name)."""
    import psycopg

    name = f"signet_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}", name


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Redis --------------------------------------------------------------------------------

class LocalRedis:
    """A redis-server of our own on a unix socket, for machines without a running one."""

    def __init__(self, folder):
        self.socket = os.path.join(folder, "redis.sock")
        self.process = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.socket, "--save", "",
             "--appendonly", "no", "--dir", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while not os.path.exists(self.socket) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.url = f"unix://{self.socket}?db=0"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=5)


def connect_redis(url: str):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    client.ping()
    return client


# --- SMTP ---------------------------------------------------------------------------------

class Mailbox:
    """What the loopback SMTP server received, parsed as email messages."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    def add(self, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append({
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message": parsed,
            })

    def clear(self):
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list:
        return [m["message"] for m in self.messages if address in m["to"]]

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)


class SMTPServer:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.mailbox = Mailbox()
        self.port = free_port()
        mailbox = self.mailbox

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                mailbox.add(envelope)
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}"

    def stop(self):
        self.controller.stop()


# --- SMS gateway --------------------------------------------------------------------------

class SMSGateway:
    """An HTTP server that records every request, like a provider's SMS API would receive."""

    def __init__(self):
        self.requests = []
        self.fail_next = 0  # answer this many requests with 500, to test retries
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                gateway.requests.append({
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                })
                if gateway.fail_next > 0:
                    gateway.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                payload = json.dumps({"id": f"sms-{len(gateway.requests)}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def redis_server_available() -> bool:
    return shutil.which("redis-server") is not None


# --- the app over real HTTP --------------------------------------------------------------------

class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
