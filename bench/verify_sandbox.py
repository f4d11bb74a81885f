"""What the verify sandbox costs per check. Prints figures only.

- round trip: a trivial function in a sandbox child (fork from the forkserver, limits, answer);
- inspect in-process vs in the sandbox: the same sealed 1-page PDF, read and validated;
- build_report: the whole check (registry lookup, quick look, sandboxed inspection).
The difference "sandbox - in-process" is the per-check overhead of isolation.

Run from the repository root: .venv/bin/python bench/verify_sandbox.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization  # noqa: E402

from bench import timing  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.sandbox import run_isolated  # noqa: E402
from portal.sealing.pades import seal_pdf  # noqa: E402
from portal.sealing.store import portal_certificates  # noqa: E402
from portal.verify.inspection import inspect_pdf  # noqa: E402
from portal.verify.report import build_report  # noqa: E402
from tests.fixtures import fixture_bytes  # noqa: E402

RUNS = 41
LIMITS = {"timeout": 15, "memory_mb": 768}


def median_ms(action) -> float:
    return timing.median_ms(action, RUNS)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                          "INSTANCE_PATH": folder, "SECRET_KEY": "bench",
                          "REDIS_URL": "", "RATELIMIT_STORAGE_URI": "memory://"})
        with app.app_context():
            db.create_all()
            sealed = seal_pdf(fixture_bytes("plain.pdf"), portal_certificates(),
                              reason="bench", location="bench")
            roots = (portal_certificates().ca_cert.public_bytes(serialization.Encoding.DER),)
            start = time.perf_counter()
            run_isolated(len, b"", **LIMITS)
            started_ms = (time.perf_counter() - start) * 1000
            print(f"forkserver start, with warm-up (once per process): {started_ms:.0f}ms")
            rows = [
                ("round trip (len)", median_ms(lambda: run_isolated(len, b"", **LIMITS))),
                ("inspect in-process", median_ms(lambda: inspect_pdf(sealed, roots))),
                ("inspect in sandbox",
                 median_ms(lambda: run_isolated(inspect_pdf, sealed, roots, **LIMITS))),
                ("build_report", median_ms(lambda: build_report(sealed))),
            ]
        print(f"{RUNS} runs each, median; sealed 1-page PDF ({len(sealed)} bytes)")
        for label, value in rows:
            print(f"{label:<24}{value:>8.1f}ms")
        print(f"{'isolation overhead':<24}{rows[2][1] - rows[1][1]:>8.1f}ms")


if __name__ == "__main__":
    main()
