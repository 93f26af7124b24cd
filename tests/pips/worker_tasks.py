"""Tasks only the worker tests load (`celery worker -I tests.pips.worker_tasks`): a sweep that
is slow the first time it runs, so a test can kill the worker in the middle of it."""

from __future__ import annotations

import os
import time

import redis
from celery import shared_task

from pips.tasks import LIGHT, sweep_due


@shared_task(name="tests.slow_sweep", **LIGHT)
def slow_sweep(counter_url: str, key: str, seconds: float) -> dict:
    """Count the attempt and note the process running it; sleep on the first attempt only, then
    run the real sweep."""
    client = redis.Redis.from_url(counter_url)
    attempt = client.incr(f"{key}:attempts")
    client.set(f"{key}:pid:{attempt}", os.getpid())
    if attempt == 1:
        time.sleep(seconds)
    result = sweep_due()
    client.incr(f"{key}:done")
    return result
