"""Run work on untrusted input in a short-lived child process with a memory and time limit.

Uploads, page previews, template renders, burn-in and the public verify page all parse files
the portal did not make: a PDF can be built to exhaust memory (a 2 MB file whose page is a
2 GiB deflate stream), recurse until the interpreter crashes, or keep a parser busy for
minutes. Each piece of such work runs in a worker process forked from a "forkserver" that
already imported the parsers (so it costs a fork, not a 1 s import). A call gets an
address-space and CPU limit in the worker, and the parent kills the worker at the deadline.

Workers are kept warm: one that answered waits for the next call (up to SLOTS wait), so a call
costs a round trip through a pipe instead of a fork and the first-use work of the parsers in a
fresh process. A worker retires after any call that did not end in a result or an expected
refusal (out of time or memory, crashed, raised), after CALLS_PER_WORKER calls, or when its
address space has grown by GROWTH_BEFORE_RETIRING (up to that, what earlier calls left
mapped is added to the next call's limit); the calls one worker serves share nothing
but the process. Whatever happens in the worker, the parent gets
a result, the ExpectedError the work raised on purpose, or a SandboxFailure, never a crash:
this works the same from Flask's threads, a gunicorn worker, an RQ job or a test session with
an event loop running. The web process itself never loads PDFium or decodes a stream.
"""

import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import threading

log = logging.getLogger(__name__)

# Imported once in the forkserver; every child starts with them loaded. Modules whose functions
# run here add themselves (preload()). The main script (flask, gunicorn, rq, pytest) is never
# run in a child: portal.sandbox_server sees to that, so targets must be importable by name.
_preloaded = ["portal.sandbox_server"]
# A child that answered gets this long to exit before it is killed outright.
REAP_SECONDS = 1.0
# An orphaned worker (its parent killed) still stops after its CPU time runs out.
CPU_GRACE_SECONDS = 5
# A worker serves at most this many calls, and retires early once its address space has grown
# this much past its start (memory a parse left fragmented would eat into the next limit).
CALLS_PER_WORKER = 100
GROWTH_BEFORE_RETIRING = 64 * 1024 * 1024

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(_preloaded)
# Each child may take its full memory limit: at most this many at a time per process, so a
# process's children never hold more than SLOTS x the memory limit.
SLOTS = max(os.cpu_count() or 1, 2)
_slots = threading.BoundedSemaphore(SLOTS)

TIMEOUT = "timeout"
OUT_OF_MEMORY = "memory"
CRASHED = "crashed"
FAILED = "error"
BUSY = "busy"
RAISED = "raised"


def start() -> None:
    """Start the forkserver now, so the first file a user sends does not wait for its imports.

    It imports every preloaded module (pyHanko, PDFium, xhtml2pdf: a few seconds); call from
    a thread when a server starts.
    """
    try:
        multiprocessing.forkserver.ensure_running()
    except OSError:
        log.exception("The sandbox's forkserver could not start; it will be tried again")


def preload(*module_names: str) -> None:
    """Have the forkserver import these modules, so children start with them loaded.

    Call at import time of a module whose functions run here: the list is read when the
    forkserver starts (the first run_isolated); a module added later still works, its import
    is then paid by each child.
    """
    for name in module_names:
        if name not in _preloaded:
            _preloaded.append(name)
    _context.set_forkserver_preload(list(_preloaded))


class ExpectedError(Exception):
    """An answer the work gives by raising (a file refused, with its reason): it crosses back.

    Subclasses must pickle: keep their constructor arguments in `args`.
    """


class SandboxFailure(RuntimeError):
    """The child gave no result: it ran out of time or memory, crashed, or raised."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def run_isolated(target, *args, timeout: float, memory_mb: int):
    """target(*args) computed in a sandbox process; SandboxFailure when it gives no result.

    `target` must be importable by name (a module-level function) and its result picklable.
    An ExpectedError it raises is raised here again.
    """
    if not _slots.acquire(timeout=timeout):
        raise SandboxFailure(BUSY, "every sandbox slot stayed busy until the deadline")
    try:
        return _run_in_worker(target, args, timeout, memory_mb)
    finally:
        _slots.release()


class _Worker:
    """A process forked from the forkserver that runs calls one at a time until it retires."""

    def __init__(self):
        self.connection, child_end = _context.Pipe(duplex=True)
        self.process = _context.Process(target=_worker_main, args=(child_end,), daemon=True,
                                        name="signet-sandbox")
        try:
            self.process.start()
        finally:
            child_end.close()  # so a worker that dies shows as end-of-file, not as silence

    def retire(self, patience: float) -> int | None:
        """Close the line, give the process `patience` seconds to exit, kill it after; its
        exit code."""
        self.connection.close()
        return _reap(self.process, patience)


# Workers that answered their last call and wait for the next; at most SLOTS.
_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _take_worker() -> _Worker:
    with _idle_lock:
        if _idle:
            return _idle.pop()
    return _Worker()


def _give_back(worker: _Worker) -> None:
    with _idle_lock:
        if len(_idle) < SLOTS:
            _idle.append(worker)
            return
    worker.retire(REAP_SECONDS)


def _run_in_worker(target, args, timeout: float, memory_mb: int):
    worker = outcome = None
    try:
        worker, outcome = _call(target, args, timeout, memory_mb)
    except (OSError, EOFError, RuntimeError) as error:  # the forkserver itself failed
        log.exception("The sandbox could not start a worker")
        outcome = (CRASHED, str(error), False)
    status, value, reusable = outcome
    exit_code = None
    if worker is not None:
        if reusable:
            _give_back(worker)
        else:
            exit_code = worker.retire(patience=0 if status == TIMEOUT else REAP_SECONDS)
    if status == "ok":
        return value
    if status == RAISED:
        raise value
    if status == CRASHED and exit_code:
        value = f"exit code {exit_code}"
    raise SandboxFailure(status, value or "")


def _call(target, args, timeout: float, memory_mb: int):
    """Hand the call to a worker: an idle one, or a fresh one when an idle one turns out to
    have died while it waited (nothing of this call ran there yet)."""
    request = (target, args, timeout, memory_mb)
    worker = _take_worker()
    try:
        worker.connection.send(request)
    except OSError:
        worker.retire(patience=0)
        worker = _Worker()
        worker.connection.send(request)
    return worker, _wait_for(worker.connection, timeout)


def _wait_for(connection, timeout: float) -> tuple[str, object, bool]:
    if not connection.poll(timeout):
        return TIMEOUT, f"no answer within {timeout} s", False
    try:
        return connection.recv()
    except (EOFError, OSError):
        return CRASHED, "", False


def _reap(process, patience: float) -> int | None:
    """Wait for the process `patience` seconds, kill it if it lingers; its exit code."""
    if process.pid is None:
        return None
    if process.exitcode is None and patience:
        process.join(patience)
    if process.exitcode is None:
        process.kill()
        process.join()
    exit_code = process.exitcode
    process.close()
    return exit_code


def _after_fork_in_child() -> None:
    """A process forked from one that used the sandbox (a gunicorn or RQ worker) starts afresh.

    multiprocessing keeps one forkserver per process and checks on it with waitpid(), which
    fails in a forked copy ("No child processes"): forget the parent's so this process starts
    its own, and drop slots that threads of the parent held at the moment of the fork.
    """
    global _slots, _idle_lock
    _slots = threading.BoundedSemaphore(SLOTS)
    _idle_lock = threading.Lock()
    for worker in _idle:  # the parent's: leave its processes alone, only drop our copies
        multiprocessing.process._children.discard(worker.process)
        with contextlib.suppress(OSError):
            worker.connection.close()
    _idle.clear()
    server = multiprocessing.forkserver._forkserver
    alive_fd = getattr(server, "_forkserver_alive_fd", None)
    if alive_fd is not None:
        with contextlib.suppress(OSError):
            os.close(alive_fd)
    for name in ("_forkserver_address", "_forkserver_alive_fd", "_forkserver_pid"):
        if hasattr(server, name):
            setattr(server, name, None)
    if hasattr(server, "_lock"):
        server._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _worker_main(connection) -> None:
    """Answer calls until one fails, the address space has grown too much, or CALLS_PER_WORKER
    calls are done; then exit, so nothing a parse left behind lasts long."""
    start_size = _address_space()
    for number in range(1, CALLS_PER_WORKER + 1):
        try:
            target, args, timeout, memory_mb = connection.recv()
        except (EOFError, OSError):
            return
        # What earlier calls left mapped is added, so each call has a fresh process's room.
        leftover = max(_address_space() - start_size, 0)
        _limit(memory_mb * 1024 * 1024 + leftover, timeout + CPU_GRACE_SECONDS)
        status, value = _outcome_of(target, args)
        # The last call says so, or the parent would hand the next one to a closing worker.
        reusable = (status in ("ok", RAISED) and number < CALLS_PER_WORKER
                    and _address_space() - start_size < GROWTH_BEFORE_RETIRING)
        try:
            connection.send((status, value, reusable))
        except MemoryError:
            connection.send((OUT_OF_MEMORY, "", False))
            return
        _unlimit()
        if not reusable:
            return


def _outcome_of(target, args) -> tuple[str, object]:
    try:
        return "ok", target(*args)
    except ExpectedError as error:
        return RAISED, error
    except MemoryError:
        return OUT_OF_MEMORY, ""
    # The worker exists to contain failures: whatever the input broke, report it and exit.
    except BaseException as error:  # noqa: B036
        return FAILED, f"{type(error).__name__}: {error}"[:500]


def _limit(memory_bytes: int, cpu_seconds: float) -> None:
    """Only the soft limits: the hard ones stay as they were, so the next call can have its
    own."""
    _set_soft(resource.RLIMIT_AS, memory_bytes)
    used = resource.getrusage(resource.RUSAGE_SELF)
    _set_soft(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime + cpu_seconds) + 1)


def _unlimit() -> None:
    _set_soft(resource.RLIMIT_AS, resource.RLIM_INFINITY)
    _set_soft(resource.RLIMIT_CPU, resource.RLIM_INFINITY)


def _set_soft(kind: int, value: int) -> None:
    hard = resource.getrlimit(kind)[1]
    if hard != resource.RLIM_INFINITY and (value == resource.RLIM_INFINITY or value > hard):
        value = hard
    resource.setrlimit(kind, (value, hard))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()
