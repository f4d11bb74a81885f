"""Timing one action the way every bench does: the median of several runs, in milliseconds."""

import statistics
import time


def median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
