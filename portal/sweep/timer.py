"""The sweep on a timer inside the web process: the embedded default, where no RQ worker runs.

Started by the first request a process serves, so only a serving process runs it (not
`flask db upgrade`, the CLI or an RQ worker), and once per process (a forked server worker
starts its own). With REDIS_URL set the worker's scheduler runs the sweep instead.
"""

import fcntl
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from portal.sweep.run import run_sweep

log = logging.getLogger(__name__)

_EXTENSION_KEY = "signet_sweep_timer"
THREAD_NAME = "signet-sweep"
FIRST_DELAY_SECONDS = 30


class SweepTimer(threading.Thread):
    """Runs the sweep every `period` seconds until stopped."""

    def __init__(self, app: Flask, period: float):
        super().__init__(name=THREAD_NAME, daemon=True)
        self.app, self.period = app, period
        self.stopped = threading.Event()
        self.pid = os.getpid()

    def run(self) -> None:
        delay = min(FIRST_DELAY_SECONDS, self.period)
        while not self.stopped.wait(delay):
            delay = self.period
            try:
                run_locked_sweep(self.app)
            except Exception:  # the timer must outlive a bad round
                log.exception("The sweep failed")

    def stop(self) -> None:
        self.stopped.set()


def init_app(app: Flask) -> None:
    """Start the timer with the first request when SIGNET_SWEEP_SECONDS > 0 and no Redis."""
    if (app.config.get("SIGNET_SWEEP_SECONDS") or 0) <= 0 or app.config.get("REDIS_URL"):
        return
    lock = threading.Lock()

    @app.before_request
    def start_sweep_timer():
        running = timer_of(app)
        if running is not None and running.pid == os.getpid():
            return
        with lock:
            start_timer(app)


def timer_of(app: Flask) -> SweepTimer | None:
    """The app's timer in this process, if one was started."""
    return app.extensions.get(_EXTENSION_KEY)


def start_timer(app: Flask) -> SweepTimer:
    """Start the app's timer in this process unless it runs already."""
    running = timer_of(app)
    if running is not None and running.pid == os.getpid() and running.is_alive():
        return running
    timer = SweepTimer(app, float(app.config["SIGNET_SWEEP_SECONDS"]))
    app.extensions[_EXTENSION_KEY] = timer
    timer.start()
    return timer


def stop_timer(app: Flask) -> None:
    """Stop the app's timer (it ends at its next wake-up)."""
    timer = app.extensions.pop(_EXTENSION_KEY, None)
    if timer is not None:
        timer.stop()


def run_locked_sweep(app: Flask) -> dict[str, int] | None:
    """One sweep, unless another process on this machine is sweeping right now (then None)."""

    with app.app_context(), sweep_lock(Path(app.instance_path)) as held:
        if not held:
            log.info("Another process is sweeping; skipped")
            return None
        return run_sweep()


@contextmanager
def sweep_lock(folder: Path):
    """An exclusive, non-blocking lock on a file in the instance folder; yields whether held.

    Two server processes on one SQLite file would otherwise sweep at the same moment; the stored
    times make that safe anyway, this only saves the duplicate work.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "sweep.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
