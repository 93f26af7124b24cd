"""The health endpoints: liveness touches nothing; readiness checks the database, the broker and
the storage and says which part fails, without the reason (it may name hosts)."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pipsystem import health


@pytest.mark.django_db
def test_live_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_checks_database_broker_and_storage(client, settings):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/health/ready/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert {k: v["status"] for k, v in body["checks"].items()} == {
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
    }
    assert any("SELECT 1" in q["sql"] for q in queries.captured_queries)
    # The probe file is gone again.
    assert default_storage.listdir(health.PROBE_FOLDER)[1] == []


@pytest.mark.django_db
def test_ready_fails_when_the_broker_is_unreachable(client, settings, caplog):
    # A port nothing listens on.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["broker"]["status"] == "failing"
    assert body["checks"]["database"]["status"] == "ok"
    assert "127.0.0.1:1" not in response.content.decode()
    assert "readiness check broker failed" in caplog.text


@pytest.mark.django_db
def test_ready_fails_when_the_storage_cannot_be_written(client, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocked
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "failing"


@pytest.mark.django_db
def test_health_is_get_only(client):
    assert client.post("/health/live/").status_code == 405
    assert client.post("/health/ready/").status_code == 405
