"""What the benchmarks print about the machine they ran on.

This kind of virtual machine runs at different speeds from one hour to the next, with nothing
else running on it. Each benchmark prints a fixed pure-Python workload's time next to its own
figures, so that runs on a slow hour and on a fast one can be told apart.
"""

from __future__ import annotations

import os
import statistics
import time


def reference_seconds(runs: int = 5) -> float:
    """Median time of 10 million integer additions in a Python loop (about 0.4-0.8 s)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def describe() -> str:
    return (
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f},"
        f" reference loop {reference_seconds():.2f} s (lower is faster)"
    )
