"""Where the rate limits count without Redis (the embedded default): in this process's memory.

The memory storage that ships with `limits` expires its counters from a timer thread it starts
again every ~10 ms; under load each limited request then waits for a new thread to start
(measured 2-6 ms per request on 2 cores, most of the signing page's cost). Here a counter
expires when it is read, and the ended ones are swept every SWEEP_EVERY increments, so memory
stays bounded without any thread. Fixed windows only: the strategy the portal uses.
"""

import threading
import time

from limits.storage import Storage

SCHEME = "signet-memory"
SWEEP_EVERY = 1000


class LazyMemoryStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, window ends at)
        self._lock = threading.Lock()
        self._increments = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            count, ends = self._windows.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + expiry
            count += amount
            self._windows[key] = (count, ends)
            self._increments += 1
            if self._increments % SWEEP_EVERY == 0:
                self._sweep(now)
            return count

    def _sweep(self, now: float) -> None:
        for key in [key for key, (_count, ends) in self._windows.items() if ends <= now]:
            del self._windows[key]

    def get(self, key: str) -> int:
        count, ends = self._windows.get(key, (0, 0.0))
        return count if ends > time.time() else 0

    def get_expiry(self, key: str) -> float:
        _count, ends = self._windows.get(key, (0, 0.0))
        return max(ends, time.time())

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            cleared = len(self._windows)
            self._windows.clear()
        return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)
