"""The in-process counter behind the rate limits without Redis: windows, expiry, no threads."""

import threading
import time

from limits import RateLimitItemPerMinute, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from portal.extensions import limiter
from portal.ratelimits import SCHEME, SWEEP_EVERY, LazyMemoryStorage


def test_the_portal_counts_in_its_own_storage_without_redis(make_app):
    app = make_app()
    assert app.config["RATELIMIT_STORAGE_URI"] == f"{SCHEME}://"
    with app.test_request_context():
        assert isinstance(limiter.storage, LazyMemoryStorage)


def test_a_fixed_window_allows_its_limit_then_refuses_and_starts_again():
    storage = storage_from_string(f"{SCHEME}://")
    assert isinstance(storage, LazyMemoryStorage)
    limiter = FixedWindowRateLimiter(storage)
    limit = RateLimitItemPerMinute(3)
    assert [limiter.hit(limit, "198.51.100.7") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "198.51.100.8")  # another address has its own window
    storage.clear(limit.key_for("198.51.100.7"))
    assert limiter.hit(limit, "198.51.100.7")


def test_an_ended_window_counts_from_zero_and_is_swept_without_a_thread():
    storage = LazyMemoryStorage()
    threads_before = threading.active_count()
    assert storage.incr("short", 0.05) == 1 and storage.incr("short", 0.05) == 2
    time.sleep(0.06)
    assert storage.get("short") == 0
    assert storage.incr("short", 0.05) == 1
    time.sleep(0.06)
    for index in range(SWEEP_EVERY):
        storage.incr(f"key-{index}", 60)
    assert "short" not in storage._windows  # swept with the increments, not by a timer
    assert threading.active_count() == threads_before
    assert storage.reset() == SWEEP_EVERY


def test_the_limits_strategy_reads_the_window_it_counted():
    storage = LazyMemoryStorage()
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("2/minute")
    limiter.hit(limit, "a")
    remaining = limiter.get_window_stats(limit, "a")
    assert remaining.remaining == 1 and remaining.reset_time > time.time()
