"""KPI files on several machines: the web process and the Celery worker have local folders of
their own (different MEDIA_ROOTs) and share only PostgreSQL, Redis and an S3-compatible server
(moto's, started here). A file of several batches uploaded through the pages is previewed and
loaded by a real worker process reading it from the bucket; no file appears in either folder,
and the bucket is empty once the load is done.

Run under `flock /tmp/celery-worker-tests.lock` like the other worker tests (its Redis database
is the one `tests/metrics/test_worker_load.py` uses)."""

from __future__ import annotations

import time

import pytest

from metrics import tasks
from metrics.models import MetricLoad, Sample
from tests.conftest import make_user
from tests.metrics.test_views_upload import WIDE, map_form, token_of, upload
from tests.metrics.test_worker_load import broker, monthly_export
from tests.pips.test_celery_worker import Worker, publish, wait_until
from tests.s3 import local_files, s3_environment, s3_server, s3_storage, stored_objects

__all__ = ["broker", "s3_server", "s3_storage"]  # fixtures used below

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def worker_media(tmp_path):
    folder = tmp_path / "worker-media"
    folder.mkdir()
    return folder


@pytest.fixture
def s3_worker(broker, s3_storage, worker_media, tmp_path):
    endpoint, _, prefix, _ = s3_storage
    started = Worker(
        tmp_path,
        "kpi-s3",
        broker=broker,
        args=["--pool", "solo"],
        **s3_environment(endpoint, prefix, worker_media),
    )
    started.wait_for(" ready.", timeout=40)
    yield started
    started.stop()


@pytest.mark.redis
@transactional
def test_an_upload_is_previewed_and_loaded_by_a_worker_on_another_machine(
    client, s3_storage, s3_worker, worker_media, broker, monkeypatch, settings
):
    _, s3, prefix, web_media = s3_storage
    assert settings.METRICS_LOAD_BATCH_ROWS == 100_000
    settings.METRICS_PREVIEW_ASYNC_BYTES = 1024 * 1024  # previewed by the worker too
    for task in (tasks.load_file_task, tasks.preview_file_task):
        monkeypatch.setattr(
            task, "delay", lambda *args, name=task.name: publish(broker, name, args)
        )
    client.force_login(make_user("quinn", "Quinn", "Analyst", "analyst"))
    data = monthly_export(agents=3_500, days=30)  # 105,000 rows, 315,000 values: 4 batches
    assert len(data) > settings.METRICS_PREVIEW_ASYNC_BYTES

    token = token_of(upload(client, data, "month.csv"))
    stored = stored_objects(s3, prefix)
    assert len(stored) == 1 and stored[0].startswith(f"{prefix}/uploads/{token}")
    assert s3.get_object(Bucket="pipsystem-test", Key=stored[0])["Body"].read() == data
    response = client.post(f"/metrics/upload/{token}/map/", map_form(WIDE))
    assert response.status_code == 302, response.content.decode()[:2000]

    # The worker previews the file and keeps the result in the bucket, where the page finds it.
    preview = ""
    deadline = time.monotonic() + 120
    while "values ready to load" not in preview and time.monotonic() < deadline:
        preview = client.get(f"/metrics/upload/{token}/preview/").content.decode()
        time.sleep(0.3)
    assert "No problems found: 315000 values ready to load" in preview, s3_worker.log()[-3000:]

    response = client.post(f"/metrics/upload/{token}/preview/")
    load = MetricLoad.objects.get()
    assert response["Location"] == f"/metrics/loads/{load.pk}/"
    wait_until(
        lambda: client.get(f"/metrics/loads/{load.pk}/status/").json()["done"],
        180,
        "the load to finish",
        s3_worker,
    )
    load.refresh_from_db()
    assert load.status == "loaded", (load.errors, s3_worker.log()[-3000:])
    assert (load.rows_total, load.rows_loaded) == (315_000, 315_000)
    assert Sample.objects.filter(load=load).count() == 315_000
    # Neither machine's folder ever held the file; the worker removed it from the bucket.
    assert local_files(web_media) == [] and local_files(worker_media) == []
    wait_until(lambda: stored_objects(s3, prefix) == [], 10, "the bucket to be emptied")
