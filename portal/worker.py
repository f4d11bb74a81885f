"""The worker entry point: serve the job queues and keep the sweep booked.

`flask signet worker` runs `run_worker`; a plain `rq worker -w portal.worker.Worker
--with-scheduler` works too. This module sits on top, so it may know the sweep.
"""

from flask import Flask

from portal import jobs
from portal.sweep.run import SWEEP_QUEUE, schedule_next_sweep


def book_the_sweep(app: Flask, queues) -> None:
    if SWEEP_QUEUE in queues:
        with app.app_context():
            schedule_next_sweep(app)


jobs.every_minute(book_the_sweep)
Worker = jobs.Worker


def run_worker(app: Flask, queues=jobs.DEFAULT_QUEUES, burst: bool = False) -> None:
    """Serve `queues` (all by default) until stopped, booking the sweep (see portal.jobs)."""
    jobs.serve_queues(app, queues, burst=burst)
