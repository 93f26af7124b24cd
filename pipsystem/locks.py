"""A lock by name across every process that shares the database (web servers and workers on
several machines): a PostgreSQL advisory lock. On SQLite (a single machine in development) a
lock within the process stands in for it."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator

from django.db import connection

#: The first half of the advisory lock's two-part key: this module's locks never meet another
#: use of advisory locks (those with one bigint key are a separate space altogether).
NAMESPACE = 0x70697073  # "pips"
POLL_SECONDS = 0.05

_local_guard = threading.Lock()
_local: dict[str, threading.Lock] = {}


class LockTimeout(Exception):
    """The lock was held by someone else for longer than the caller would wait."""


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


@contextlib.contextmanager
def named_lock(name: str, *, timeout: float) -> Iterator[None]:
    """Hold the lock called `name`, waiting at most `timeout` seconds for it (LockTimeout).
    Not tied to a transaction: it is held from here to the end of the block, and released if
    the process dies (its database session ends)."""
    if connection.vendor != "postgresql":
        with _local_guard:
            lock = _local.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise LockTimeout(name)
        try:
            yield
        finally:
            lock.release()
        return
    key = _key(name)
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [NAMESPACE, key])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() >= deadline:
                raise LockTimeout(name)
            time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [NAMESPACE, key])
