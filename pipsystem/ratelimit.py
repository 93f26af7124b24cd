"""A small fixed-window rate limit per client address, kept in the "ratelimit" cache (Redis
when REDIS_URL is set, so every web process counts together)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import caches


@dataclass(frozen=True)
class Limit:
    allowed: bool
    retry_after: int  # seconds until the window resets


def hit(scope: str, client: str, *, per_window: int, window_seconds: int) -> Limit:
    """Count one use of `scope` by `client`; allowed while the window's count is within
    `per_window`."""
    now = int(time.time())
    window = now // window_seconds
    key = f"rl:{scope}:{client}:{window}"
    cache = caches["ratelimit"]
    cache.add(key, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds + 5)
        count = 1
    retry_after = (window + 1) * window_seconds - now
    return Limit(allowed=count <= per_window, retry_after=max(1, retry_after))
