"""The job queue facade: RQ over Redis when REDIS_URL is set, else run right away in-process.

Jobs take ids, never ORM objects, and are decorated with @app_job so they find an app
context both inside a request and in an `rq worker` process.
"""

import importlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from functools import wraps

import redis
import rq
from flask import Flask, current_app, has_app_context
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler

from portal import unit
from portal.extensions import db
from portal.unit import fresh_transaction

log = logging.getLogger(__name__)

# Mail and SMS providers fail transiently (greylisting, rate limits, a gateway restart), and so
# does a time-stamping authority the seal waits for.
RETRIED_QUEUES = frozenset({"mail", "sms", "sealing"})
RETRY_INTERVALS = [10, 30, 60, 300, 900]
DEFAULT_QUEUES = ("sealing", "mail", "sms", "webhooks", "default")
_EXTENSION_KEY = "signet_redis"
# A worker and its scheduler retry Redis at growing intervals up to this while it is away.
REDIS_WAIT_MAX_SECONDS = 10.0
APP_FACTORY_MODULE = "portal"


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
    # lets the job write without waiting on it and lets the caller see what the job did. It
    # refuses to end one that holds changes: those are the caller's to commit.
    fresh_transaction()
    # The embedded default: the caller's request must never fail because a job failed.
    try:
        func(*args, **kwargs)
    except Exception:
        log.exception("In-process job %s failed", _name(func))
        if not db.session.is_active:  # a job without @app_job broke the caller's session
            unit.rollback()


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
        # By name: the queue sits below the app factory that wires everything together.
        factory = importlib.import_module(APP_FACTORY_MODULE).create_app
        set_worker_app(factory())
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
            unit.rollback()
        with _app_for_job().app_context():
            return func(*args, **kwargs)

    return run


class QuickStopWorker(rq.SimpleWorker):
    """RQ's SimpleWorker (jobs run in its own process) whose stop does not wait on its listener.

    RQ listens for a worker's commands (shut down, stop a job) in a thread that reads Redis for
    up to a minute at a time; to stop it, RQ unsubscribes (the reply wakes it) and then stops
    it. When the reply came before the stop, the listener went back to sleep for a minute, and
    redis-py (8.2) waits for it when stopping it: 2 stops in 20 took 60 s. The flag goes down
    first here, so the reply wakes a listener that then ends.
    """

    def unsubscribe(self):
        listener = self.pubsub_thread
        if listener is None:
            return
        listener.stop(timeout=0)
        self.pubsub.unsubscribe()
        listener.join(timeout=1)
        self.pubsub.close()


class Worker(QuickStopWorker):
    """Runs jobs in the worker's own process, the app made once.

    (`rq worker -w portal.worker.Worker` uses it with the sweep booked.)

    Measured with 1,000 invitations: a forking worker pays ~40 ms per job (a fresh database
    connection in every child) and delivered ~15 messages/s; this one ~150/s. Jobs take ids and
    run in a fresh app context each, so nothing leaks from one job into the next.
    """

    # RQ waits this long at most between tries while Redis is away (its default is a minute).
    max_connection_wait_time = REDIS_WAIT_MAX_SECONDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        worker_app()
        self.scheduler_thread: SchedulerThread | None = None
        # Set by a signal that came before RQ's own handlers were in place (see _serve).
        self.stop_event: threading.Event | None = None

    def _install_signal_handlers(self):
        super()._install_signal_handlers()
        if self.stop_event is not None and self.stop_event.is_set():
            self._stop_requested = True

    def _start_scheduler(self, burst: bool = False, *args, **kwargs):
        # RQ forks its scheduler, and a child left behind by a killed worker keeps the locks:
        # a thread dies with its worker. (`rq worker --with-scheduler -w portal.worker.Worker`.)
        if burst:
            super()._start_scheduler(burst, *args, **kwargs)
            return
        self.scheduler_thread = SchedulerThread(worker_app(), self.queue_names(), self.connection)
        self.scheduler_thread.start()

    def teardown(self):
        if self.scheduler_thread is not None:
            self.scheduler_thread.stop()
        super().teardown()


def serve_queues(app: Flask, queues=DEFAULT_QUEUES, burst: bool = False) -> None:
    """Serve the queues with the scheduler (retries and the sweep need it) until stopped.

    Rides out Redis: while it is away (or after it restarted empty) the worker and its
    scheduler wait, reconnect and go on; only SIGTERM/SIGINT end them. At start and then
    each minute (at most) it calls what `every_minute` was given (the sweep's booking).
    """
    if not app.config.get("REDIS_URL"):
        raise RuntimeError("REDIS_URL is not set: jobs run in-process, there is nothing to serve")
    set_worker_app(app)
    connection = _worker_connection(app)
    _quiet_repeated_connection_errors()
    if burst:  # what is queued and due now, then stop (tests, cron)
        _run_every_minute(app, queues)
        Worker(list(queues), connection=connection).work(with_scheduler=True, burst=True)
        return
    scheduler = SchedulerThread(app, queues, connection)
    scheduler.start()
    try:
        _serve(list(queues), connection)
    finally:
        scheduler.stop()
        log.info("The worker stopped")


def _worker_connection(app: Flask) -> redis.Redis:
    # No socket timeout: the worker blocks on Redis while it waits for jobs. Keep-alive notices
    # a Redis machine that vanished without closing the connection.
    return redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5,
                                socket_keepalive=True, health_check_interval=30)


class _StopSignal:
    """SIGTERM/SIGINT between two runs of RQ's loop (each run installs its own handlers)."""

    def __init__(self):
        self.event = threading.Event()

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum, frame) -> None:
        self.event.set()

    @property
    def requested(self) -> bool:
        return self.event.is_set()


def _serve(queues: list[str], connection: redis.Redis) -> None:
    """RQ's work loop, run again whenever it gives up on Redis (it quits on some errors)."""
    stop = _StopSignal()
    outage = Outage("worker")
    delay = 0.0
    stop.install()
    while not stop.event.wait(delay):
        worker = None
        try:
            connection.ping()
            worker = Worker(queues, connection=connection)  # it names itself in Redis
            worker.stop_event = stop.event
            outage.over()
            worker.work()  # installs RQ's signal handlers for its run
        except redis.RedisError as error:
            outage.begin(error)
        except StopRequested:  # a signal between two runs, still seen by RQ's handler
            return
        finally:
            stop.install()
            if worker is not None:
                _drop_listener(worker)
        if worker is not None and worker._shutdown_requested_date is not None:
            return  # SIGTERM/SIGINT: RQ finished the current job and stopped
        # While Redis is away, growing waits; after another error RQ logged, start again soon.
        delay = min(max(delay * 2, 1.0), REDIS_WAIT_MAX_SECONDS) if outage.ongoing else 1.0


def _drop_listener(worker: Worker) -> None:
    # RQ's teardown stops the worker's pubsub thread only when Redis answered its last words.
    # Stopped, it ends at its next wake-up; nothing waits for that (it is a daemon thread).
    thread = getattr(worker, "pubsub_thread", None)
    if thread is not None and thread.is_alive():
        thread.stop(timeout=0)


class Outage:
    """Logs a Redis outage once when it starts and once when it ends, not on every retry."""

    def __init__(self, who: str):
        self.who = who
        self.since: float | None = None

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def begin(self, error: Exception) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("Redis is away (%s); the %s waits and reconnects", error, self.who)

    def over(self) -> None:
        if self.since is not None:
            log.warning("Redis is back after %.0f s; the %s goes on",
                        time.monotonic() - self.since, self.who)
            self.since = None


class _OncePerOutage(logging.Filter):
    """RQ's own loops log every retry while Redis is away: keep the first of a series. Its
    traceback when it gives up on a lost connection is dropped too: `Outage` says it in a line.
    """

    def __init__(self):
        super().__init__()
        self.last = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
            return False
        if "could not connect to Redis" not in str(record.msg):
            return True
        now = time.monotonic()
        first = now - self.last > 2 * REDIS_WAIT_MAX_SECONDS
        self.last = now
        return first


def _quiet_repeated_connection_errors() -> None:
    rq_log = logging.getLogger("rq.worker")
    if not any(isinstance(existing, _OncePerOutage) for existing in rq_log.filters):
        rq_log.addFilter(_OncePerOutage())


# Takes or refreshes a scheduler lock (RQ's key and value, our lifetime); 0 when another holds it.
_HOLD_LOCK = """
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
    return 1
end
return 0
"""


class SchedulerThread(threading.Thread):
    """RQ's scheduler run as a thread of the worker: it dies with the worker (even SIGKILLed),
    so no orphan keeps the locks; it rides out Redis; and it books the sweep when it is missing.

    Every tick it takes or refreshes RQ's lock of each queue (a lock expires
    SIGNET_SCHEDULER_LOCK_SECONDS after its holder stopped refreshing it, so another worker's
    scheduler takes over from a killed one) and moves the due scheduled jobs (retries, the
    sweep) of the queues it holds to their queues.
    """

    TICK_SECONDS = 1.0

    def __init__(self, app: Flask, queues, connection: redis.Redis):
        super().__init__(name="signet-scheduler", daemon=True)
        self.app = app
        self.queues = list(queues)
        self.stopped = threading.Event()
        # Its own connection pool: the worker's connection blocks while it waits for jobs.
        self.scheduler = RQScheduler(self.queues, connection=connection)
        # The locks hold this name: it says which machine and process schedules.
        self.scheduler.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lock_seconds = max(int(app.config.get("SIGNET_SCHEDULER_LOCK_SECONDS") or 30), 2)
        self.sweep_check_seconds = min(60.0, float(app.config.get("SIGNET_SWEEP_SECONDS") or 60))
        self.hold_lock = self.scheduler.connection.register_script(_HOLD_LOCK)
        self.held: set[str] = set()
        self.outage = Outage("scheduler")

    def run(self) -> None:
        next_sweep_check = 0.0
        while not self.stopped.wait(self.TICK_SECONDS):
            try:
                self._move_due_jobs()
                if time.monotonic() >= next_sweep_check:
                    _run_every_minute(self.app, self.queues)
                    next_sweep_check = time.monotonic() + self.sweep_check_seconds
                self.outage.over()
            except redis.RedisError as error:
                self.outage.begin(error)
            except Exception:  # the scheduler must outlive a bad tick
                log.exception("The scheduler's tick failed")
        self._release_locks()

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=10)

    def _move_due_jobs(self) -> None:
        held = {name for name in self.queues
                if self.hold_lock(keys=[RQScheduler.get_locking_key(name)],
                                  args=[self.scheduler.name, self.lock_seconds])}
        if held != self.held:
            log.info("The scheduler holds the queues %s", ", ".join(sorted(held)) or "none")
            self.held = held
        if held:
            self.scheduler.prepare_registries(held)
            self.scheduler.enqueue_scheduled_jobs()

    def _release_locks(self) -> None:
        self.scheduler._acquired_locks = set(self.held)
        with suppress(redis.RedisError):  # else they expire on their own
            self.scheduler.release_locks()
        self.held = set()


_every_minute: list[Callable[[Flask, list], None]] = []


def every_minute(task: Callable[[Flask, list], None]) -> None:
    """Have every worker's scheduler call `task(app, queues)` at start and once a minute.

    The worker entry point (`portal.worker`) books the sweep this way: the queue, below the
    sweep, never imports it."""
    if task not in _every_minute:
        _every_minute.append(task)


def _run_every_minute(app: Flask, queues) -> None:
    for task in list(_every_minute):
        task(app, list(queues))
