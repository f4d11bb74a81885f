"""Functions the sandbox tests run in a child (they must be importable by name there)."""

import os
import signal
import time


def answer(value):
    return {"echo": value, "pid": os.getpid()}


def sleep_then_answer(seconds: float, pid_file: str):
    with open(pid_file, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(seconds)
    return "woke up"


def allocate_all_at_once(megabytes: int):
    return len(bytearray(megabytes * 1024 * 1024))


def allocate_step_by_step(megabytes: int):
    kept = [bytearray(1024 * 1024) for _ in range(megabytes)]
    return len(kept)


def crash_hard():
    os.kill(os.getpid(), signal.SIGSEGV)


def recurse_forever(depth: int = 0):
    return recurse_forever(depth + 1)


def raise_error():
    raise ValueError("a parser gave up")


def exit_quietly():
    os._exit(0)


_kept = []


def keep_allocated(megabytes: int):
    """Holds the memory after answering, as a parser's leftover caches would."""
    _kept.append(bytearray(megabytes * 1024 * 1024))
    return os.getpid()


def pid():
    return os.getpid()
