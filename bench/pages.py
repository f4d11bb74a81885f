"""Requests per second of the signing page beside /login and /healthz, served as in production.

A fresh instance on the embedded SQLite is served by gunicorn with 2 workers; wrk (Debian's
`wrk` package) keeps 4 connections busy on each page in turn. Without wrk, a Python load
generator (threads with keep-alive connections) stands in; it takes a share of the CPU
itself, so its figures are lower but the ratios are measured the same way.

The goal (issue 20): the signing page serves at least 70% of what /login serves, /login
being the lightest page that renders the base layout.

Run from the repository root: .venv/bin/python bench/pages.py [--seconds 8]
"""

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CONNECTIONS = 4
WORKERS = 2
SIGNING_PAGE_GOAL = 0.70
ROUNDS = 5

sys.path.insert(0, str(ROOT))
from bench import goals  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def instance_env(folder: str, port: int) -> dict:
    return {**os.environ, "SIGNET_INSTANCE_PATH": folder, "FLASK_APP": "app.py",
            "SIGNET_BASE_URL": f"http://127.0.0.1:{port}", "REDIS_URL": "",
            "SIGNET_SWEEP_SECONDS": "0", "SIGNET_SIGNING_LIMIT": "10000000 per minute",
            "PYTHONPATH": str(ROOT)}


def signing_token(env: dict) -> str:
    """A document out for signing, made by the tests' own builders; its signer's raw token."""
    script = (
        "from portal import create_app\n"
        "from portal.extensions import db\n"
        "from tests.factories import make_user\n"
        "from tests.signing.support import sent_document\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    admin = make_user(email='bench@example.com', is_admin=True)\n"
        "    print(sent_document(admin.id, extra_fields=False).token)\n")
    done = subprocess.run([BIN / "python", "-c", script], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def serve(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [BIN / "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "app:app"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def with_wrk(url: str, seconds: int) -> tuple[float, int]:
    """Requests per second and how many answers were not 2xx/3xx."""
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", url],
                         check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rate, int(bad.group(1)) if bad else 0


def with_threads(url: str, seconds: int) -> tuple[float, int]:
    """As with_wrk, from CONNECTIONS threads each keeping one connection alive."""
    host_port, path = url.removeprefix("http://").split("/", 1)
    host, port = host_port.split(":")
    counts, bad = [0] * CONNECTIONS, [0] * CONNECTIONS
    stop = time.monotonic() + seconds

    def load(slot: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        while time.monotonic() < stop:
            connection.request("GET", "/" + path)
            response = connection.getresponse()
            response.read()
            counts[slot] += 1
            bad[slot] += response.status >= 400

    threads = [threading.Thread(target=load, args=(slot,)) for slot in range(CONNECTIONS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started), sum(bad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10,
                        help="per page, shared out over the rounds")
    args = parser.parse_args()
    measure = with_wrk if shutil.which("wrk") else with_threads
    folder = tempfile.mkdtemp(prefix="signet-bench-pages-")
    port = free_port()
    env = instance_env(folder, port)
    subprocess.run([BIN / "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    token = signing_token(env)
    server = serve(env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        slice_seconds = max(1, round(args.seconds / ROUNDS))
        print(f"gunicorn {WORKERS} workers, embedded SQLite, {CONNECTIONS} connections, "
              f"{ROUNDS} rounds of {slice_seconds} s per page (medians), load from "
              f"{'wrk' if measure is with_wrk else 'threads'}")
        pages = (("/healthz", "/healthz"), ("/login", "/login"),
                 ("signing page /s/<token>", f"/s/{token}"))
        for _label, path in pages:
            measure(base + path, 1)  # warm both workers
        # This machine's speed drifts by half within a minute; pages measured in turns, a
        # round at a time, share the drift, so the ratio is taken per round (the median).
        rounds = [{label: measure(base + path, slice_seconds) for label, path in pages}
                  for _ in range(ROUNDS)]
        for label, _path in pages:
            rate = statistics.median(taken[label][0] for taken in rounds)
            bad = sum(taken[label][1] for taken in rounds)
            print(f"  {label:<26} {rate:8.0f} req/s  {1000 * CONNECTIONS / rate:6.1f} ms"
                  + (f"  ({bad} failed answers)" if bad else ""))
        ratio = statistics.median(taken["signing page /s/<token>"][0] / taken["/login"][0]
                                  for taken in rounds)
        goals.at_least("signing page req/s / `/login` req/s (gunicorn, SQLite)", ratio,
                       SIGNING_PAGE_GOAL)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
