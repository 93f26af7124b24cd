"""Health endpoints for load balancers and orchestrators (README, "Several machines").

- `/health/live/`: the process answers requests. Touches nothing else, so a database outage
  does not get every web process restarted at once.
- `/health/ready/`: the process can serve: PostgreSQL answers, the Celery broker (Redis)
  answers, and the file storage (local disk or object storage) can be written, read and
  deleted. 200 when all pass, 503 naming the part that failed; the reason is logged, not
  shown (it may name hosts).

Both are open to anyone (probes have no session), answer GET only, and are never cached.
The worker's own health is Celery's `inspect ping` (README).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

PROBE_FOLDER = "health"


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    """Redis, when it is the broker. The embedded file-system broker of `make run` has no
    server to ask."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        if not client.ping():
            raise ConnectionError("Redis did not answer PING")
    finally:
        client.close()


def check_storage() -> None:
    """Write, read back and delete a small file, as a PDF copy would be."""
    payload = uuid.uuid4().hex.encode()
    name = default_storage.save(f"{PROBE_FOLDER}/{uuid.uuid4().hex}.txt", ContentFile(payload))
    try:
        with default_storage.open(name, "rb") as handle:
            if handle.read() != payload:
                raise OSError("the storage returned other bytes than were written")
    finally:
        default_storage.delete(name)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
}


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict] = {}
    healthy = True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception:
            logger.exception("readiness check %s failed", name)
            healthy = False
            state = "failing"
        else:
            state = "ok"
        results[name] = {"status": state, "ms": round((time.perf_counter() - started) * 1000, 1)}
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": results},
        status=200 if healthy else 503,
    )
