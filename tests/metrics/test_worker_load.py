"""A large KPI file through the upload pages, loaded by a real Celery worker process on Redis
into PostgreSQL, in several batches of METRICS_LOAD_BATCH_ROWS (100,000) rows, with the
progress the page polls moving along the way.

Every background load of more than one batch failed on PostgreSQL: progress was reported from
the reader thread on a connection that belonged to the task's thread.

The worker sees the test database through DATABASE_URL, so this test commits. Its Redis
database is 10 + the number of the one REDIS_URL names (never 6 to 9, the worker tests' of
`tests/pips`); run it under `flock /tmp/celery-worker-tests.lock` like those.
"""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings

from metrics import tasks, uploads
from metrics.models import MetricLoad, Sample
from tests.conftest import make_user
from tests.metrics.test_views_upload import WIDE, csv_bytes, to_preview
from tests.pips.test_celery_worker import Worker, publish, redis_reachable, wait_until

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def worker_broker() -> str:
    base = urlsplit(settings.REDIS_URL or "redis://127.0.0.1:6379/0")
    number = int((base.path or "/0").strip("/") or 0)
    return base._replace(path=f"/{10 + number}").geturl()


@pytest.fixture
def broker(postgres):
    url = worker_broker()
    if not settings.REDIS_URL or not redis_reachable(url):
        from tests.conftest import need_service

        need_service("Redis", False)
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def worker(broker, tmp_path, settings):
    # One machine: the worker reads the uploads storage on the same disk as the pages.
    started = Worker(
        tmp_path,
        "kpi-load",
        broker=broker,
        args=["--pool", "solo"],
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    started.wait_for(" ready.", timeout=40)
    yield started
    started.stop()


def monthly_export(agents: int, days: int) -> bytes:
    """A month of a WFM export: a row per agent and day, three KPIs a row."""
    start = dt.date(2026, 10, 1)
    lines = ["Agent ID,Day,QA %,AHT,CSAT"]
    for day in range(days):
        text = (start + dt.timedelta(days=day)).isoformat()
        for n in range(agents):
            lines.append(
                f"E{n:05d},{text},{80 + (n + day) % 20},5:{(n + day) % 60:02d},{70 + n % 30}"
            )
    return csv_bytes(*lines)


@pytest.mark.redis
@transactional
def test_a_file_of_several_batches_loads_through_the_pages_with_a_real_worker(
    client, worker, broker, monkeypatch
):
    assert settings.METRICS_LOAD_BATCH_ROWS == 100_000
    analyst = make_user("quinn", "Quinn", "Analyst", "analyst")
    client.force_login(analyst)
    data = monthly_export(agents=3_500, days=30)  # 105,000 rows, 315,000 values: 4 batches
    token, preview = to_preview(client, data, WIDE)
    body = preview.content.decode()
    assert "No problems found: 315000 values ready to load" in body
    assert "loads in the background" in body

    # The page queues the task once its transaction commits; here it goes to the worker's
    # Redis (the test process runs tasks eagerly otherwise).
    monkeypatch.setattr(
        tasks.load_file_task,
        "delay",
        lambda *args: publish(broker, "metrics.tasks.load_file_task", args),
    )
    path = uploads.upload_of(client.session, token).path
    response = client.post(f"/metrics/upload/{token}/preview/")
    load = MetricLoad.objects.get()
    assert response["Location"] == f"/metrics/loads/{load.pk}/"

    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = client.get(f"/metrics/loads/{load.pk}/status/").json()
        seen.append((status["status"], status["percent"]))
        if status["done"]:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the load did not finish: {seen[-5:]}\n{worker.log()[-3000:]}")

    load.refresh_from_db()
    assert load.status == "loaded", (load.errors, worker.log()[-3000:])
    assert (load.rows_total, load.rows_loaded) == (315_000, 315_000)
    assert Sample.objects.filter(load=load).count() == 315_000
    # The progress bar moved while the worker loaded: values between 0 and 100 %, rising.
    moving = [percent for state, percent in seen if state == "running" and 0 < percent < 100]
    assert len(set(moving)) >= 2, seen
    assert moving == sorted(moving)
    assert "DatabaseWrapper objects created in a thread" not in worker.log()
    assert "Could not report the progress" not in worker.log()
    wait_until(lambda: not uploads.upload_storage().exists(path), 5, "cleanup")
