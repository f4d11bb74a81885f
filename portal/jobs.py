"""The job queue facade: RQ over Redis when REDIS_URL is set, else run right away in-process.

Jobs take ids, never ORM objects, and are decorated with @app_job so they find an app
context both inside a request and in an `rq worker` process.
"""

import logging
import os
from functools import wraps

import redis
import rq
from flask import Flask, current_app, has_app_context

from portal.extensions import db

log = logging.getLogger(__name__)

# Mail and SMS providers fail transiently (greylisting, rate limits, a gateway restart), and so
# does a time-stamping authority the seal waits for.
RETRIED_QUEUES = frozenset({"mail", "sms", "sealing"})
RETRY_INTERVALS = [10, 30, 60, 300, 900]
DEFAULT_QUEUES = ("sealing", "mail", "sms", "webhooks", "default")
_EXTENSION_KEY = "signet_redis"


def redis_connection(app: Flask | None = None) -> redis.Redis:
    """The app's Redis connection for enqueueing, created once per app."""
    app = app or current_app._get_current_object()
    connection = app.extensions.get(_EXTENSION_KEY)
    if connection is None:
        # Short timeouts: a request that enqueues must not hang when Redis is away.
        connection = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
        )
        app.extensions[_EXTENSION_KEY] = connection
    return connection


def queue_for(name: str, app: Flask | None = None) -> rq.Queue:
    """The named RQ queue over the app's Redis connection."""
    return rq.Queue(name, connection=redis_connection(app))


def enqueue(func, *args, queue: str = "default", job_id: str | None = None, **kwargs):
    """Run `func(*args, **kwargs)` as a job; return the RQ job, or None when run in-process.

    Never raises for a delivery problem: Redis errors and in-process job errors are logged,
    and the database (e.g. a message left `queued`) stays the source of truth for a sweep.
    """
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        _run_now(func, args, kwargs)
        return None
    retry = rq.Retry(max=5, interval=RETRY_INTERVALS) if queue in RETRIED_QUEUES else None
    try:
        # Explicit args/kwargs so a job's own keyword arguments never clash with RQ's.
        return queue_for(queue, app).enqueue(
            func, args=args, kwargs=kwargs, job_id=job_id, retry=retry
        )
    except redis.RedisError:
        log.exception("Could not enqueue %s on %r; it stays for the next sweep", _name(func), queue)
        return None


def _run_now(func, args, kwargs) -> None:
    # Jobs are enqueued after the caller's commit; ending the caller's (read) transaction here
    # lets the job write without waiting on it and lets the caller see what the job did.
    db.session.commit()
    # The embedded default: the caller's request must never fail because a job failed.
    try:
        func(*args, **kwargs)
    except Exception:
        log.exception("In-process job %s failed", _name(func))
        if not db.session.is_active:  # a job without @app_job broke the caller's session
            db.session.rollback()


def _name(func) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', func)}"


# --- the worker side ---------------------------------------------------------------------

class _WorkerApp:
    """The app a worker process runs jobs in, created once and reused for every job."""

    app: Flask | None = None
    pid: int | None = None


def set_worker_app(app: Flask) -> None:
    """Use `app` for jobs that run without an app context (the `flask signet worker` command)."""
    _WorkerApp.app = app
    _WorkerApp.pid = os.getpid()


def worker_app() -> Flask:
    """The worker process's app, created from the environment on first use."""
    if _WorkerApp.app is None:
        from portal import create_app

        set_worker_app(create_app())
    return _WorkerApp.app


def _app_for_job() -> Flask:
    app = current_app._get_current_object() if has_app_context() else worker_app()
    if app is _WorkerApp.app and _WorkerApp.pid != os.getpid():
        # A forked work-horse inherited the parent's pool: its sockets belong to the parent.
        with app.app_context():
            db.engine.dispose(close=False)
        _WorkerApp.pid = os.getpid()
    return app


def app_job(func):
    """Run the job in a fresh app context (and database session) of the current or worker app."""

    @wraps(func)
    def run(*args, **kwargs):
        if has_app_context():
            # In-process, after the caller's commit: what the caller still holds is a read,
            # or on SQLite the write lock, which the job's own connection would wait on
            # forever (the holder is this very thread).
            db.session.rollback()
        with _app_for_job().app_context():
            return func(*args, **kwargs)

    return run


class Worker(rq.SimpleWorker):
    """Runs jobs in the worker's own process, the app made once (`rq worker -w portal.jobs.Worker`).

    Measured with 1,000 invitations: a forking worker pays ~40 ms per job (a fresh database
    connection in every child) and delivered ~15 messages/s; this one ~150/s. Jobs take ids and
    run in a fresh app context each, so nothing leaks from one job into the next.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        worker_app()


def run_worker(app: Flask, queues=DEFAULT_QUEUES, burst: bool = False) -> None:
    """Serve the queues with the scheduler (retry intervals need it)."""
    if not app.config.get("REDIS_URL"):
        raise RuntimeError("REDIS_URL is not set: jobs run in-process, there is nothing to serve")
    set_worker_app(app)
    _book_the_sweep(app, queues)
    # No socket timeout here: the worker blocks on Redis while it waits for jobs.
    connection = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)
    Worker(list(queues), connection=connection).work(with_scheduler=True, burst=burst)


def _book_the_sweep(app: Flask, queues) -> None:
    # Imported here: the sweep's modules import the services that import this module.
    from portal.sweep.run import SWEEP_QUEUE, schedule_next_sweep

    if SWEEP_QUEUE in queues:
        with app.app_context():
            schedule_next_sweep(app)
