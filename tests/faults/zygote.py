"""Forks the fault tests' worker processes: `python -m tests.faults.zygote FOLDER`.

A worker process spends seconds importing the portal before it serves; this process imports
it once (no threads, no connections yet) and forks a fresh worker per request, so a scenario
starts its workers in a fraction of a second. Each child is a real process of its own running
`run_worker` on an app made from the test's settings, as `flask signet worker` does.

Protocol: one line per request on stdin, `CONFIG.json LOG`; the answer is the child's pid.
When a child ends, its exit code is written to FOLDER/exit-PID.
"""

import ctypes
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

PR_SET_PDEATHSIG = 1


def _warm_up() -> None:
    import portal.delivery.jobs  # noqa: F401 (what the jobs import)
    import portal.jobs  # noqa: F401
    import portal.sweep.run  # noqa: F401
    from portal import create_app

    with tempfile.TemporaryDirectory() as folder:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "warm-up",
                    "INSTANCE_PATH": folder, "RATELIMIT_STORAGE_URI": "memory://"})


def _reap(folder: Path) -> None:
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            time.sleep(0.05)
            continue
        written = folder / f".exit-{pid}"
        written.write_text(str(os.waitstatus_to_exitcode(status)))
        written.replace(folder / f"exit-{pid}")


def _die_with_the_zygote() -> None:
    # A worker rides out a Redis that is gone for good: one left behind by a test run that was
    # killed would retry forever. The zygote ends when the test run does (its stdin closes).
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _child(config_file: str, log_file: str) -> None:
    _die_with_the_zygote()
    log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    code = 0
    try:
        from portal import create_app
        from portal.worker import run_worker

        logging.basicConfig(level=logging.INFO, force=True,
                            format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
        run_worker(create_app(json.loads(Path(config_file).read_text())))
    except BaseException:  # noqa: BLE001 (a worker's end, whatever it was, is its exit code)
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    folder = Path(sys.argv[1])
    _warm_up()
    threading.Thread(target=_reap, args=(folder,), daemon=True).start()
    print("ready", flush=True)
    for line in sys.stdin:
        config_file, log_file = line.split()
        pid = os.fork()
        if pid == 0:
            _child(config_file, log_file)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
