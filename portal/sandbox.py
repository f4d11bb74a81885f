"""Run work on untrusted input in a short-lived child process with a memory and time limit.

Uploads, page previews, template renders, burn-in and the public verify page all parse files
the portal did not make: a PDF can be built to exhaust memory (a 2 MB file whose page is a
2 GiB deflate stream), recurse until the interpreter crashes, or keep a parser busy for
minutes. Each piece of such work runs in a fresh child forked from a "forkserver" that already
imported the parsers (so it costs a fork, not a 1 s import); the child gets an address-space
limit, and the parent kills it at the deadline. Whatever happens in the child, the parent gets
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
# An orphaned child (its parent killed) still stops after its CPU time runs out.
CPU_GRACE_SECONDS = 5

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
    """target(*args) computed in a child process; SandboxFailure when it gives no result.

    `target` must be importable by name (a module-level function) and its result picklable.
    An ExpectedError it raises is raised here again.
    """
    if not _slots.acquire(timeout=timeout):
        raise SandboxFailure(BUSY, "every sandbox slot stayed busy until the deadline")
    try:
        return _run_in_child(target, args, timeout, memory_mb)
    finally:
        _slots.release()


def _run_in_child(target, args, timeout: float, memory_mb: int):
    receiver, sender = _context.Pipe(duplex=False)
    limits = (memory_mb * 1024 * 1024, int(timeout) + CPU_GRACE_SECONDS)
    process = _context.Process(target=_child_main, args=(sender, target, args, limits),
                               daemon=True, name="signet-sandbox")
    outcome = (CRASHED, "the child did not start")
    try:
        process.start()
        sender.close()  # so a child that dies shows as end-of-file, not as silence
        outcome = _wait_for(receiver, timeout)
    except (OSError, EOFError, RuntimeError) as error:  # the forkserver itself failed
        log.exception("The sandbox could not start a child")
        outcome = (CRASHED, str(error))
    finally:
        sender.close()
        receiver.close()
        exit_code = _reap(process, patience=0 if outcome[0] == TIMEOUT else REAP_SECONDS)
    status, value = outcome
    if status == "ok":
        return value
    if status == RAISED:
        raise value
    if status == CRASHED and exit_code:
        value = f"exit code {exit_code}"
    raise SandboxFailure(status, value or "")


def _wait_for(receiver, timeout: float) -> tuple[str, object]:
    if not receiver.poll(timeout):
        return TIMEOUT, f"no answer within {timeout} s"
    try:
        return receiver.recv()
    except (EOFError, OSError):
        return CRASHED, ""


def _reap(process, patience: float) -> int | None:
    """Wait for the child `patience` seconds, kill it if it lingers; its exit code."""
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
    global _slots
    _slots = threading.BoundedSemaphore(SLOTS)
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


def _child_main(sender, target, args, limits) -> None:
    memory_bytes, cpu_seconds = limits
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        outcome = ("ok", target(*args))
    except ExpectedError as error:
        outcome = (RAISED, error)
    except MemoryError:
        outcome = (OUT_OF_MEMORY, "")
    # The child exists to contain failures: whatever the input broke, report it and exit.
    except BaseException as error:  # noqa: B036
        outcome = (FAILED, f"{type(error).__name__}: {error}"[:500])
    try:
        sender.send(outcome)
    except MemoryError:
        sender.send((OUT_OF_MEMORY, ""))
    finally:
        sender.close()
