"""Loads that never finished are closed with a reason, and stale upload files removed."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.utils import timezone

from metrics import housekeeping, tasks, uploads
from metrics.models import MetricLoad, MetricSource, Sample
from tests.conftest import make_user
from tests.metrics.conftest import LONG, upload_dir
from tests.s3 import s3_server, s3_storage, stored_objects

__all__ = ["s3_server", "s3_storage"]  # fixtures used below

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(db) -> MetricSource:
    return MetricSource.objects.create(name="WFM", mapping=LONG)


def a_load(source, status: str, hours_ago: float) -> MetricLoad:
    load = MetricLoad.objects.create(source=source, filename=f"{status}.csv", status=status)
    MetricLoad.objects.filter(pk=load.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=hours_ago)
    )
    return load


def test_loads_that_stalled_are_closed_with_a_reason(source):
    stalled = [a_load(source, "pending", 30), a_load(source, "running", 25)]
    recent = [a_load(source, "pending", 1), a_load(source, "running", 23)]
    finished = [a_load(source, "loaded", 48), a_load(source, "rejected", 48)]

    assert housekeeping.run().loads_closed == 2

    for load in stalled:
        load.refresh_from_db()
        assert load.status == "rejected" and load.finished_at is not None
        assert load.errors == [{"line": None, "column": "", "reason": housekeeping.STALLED_REASON}]
    for load in recent:
        assert MetricLoad.objects.get(pk=load.pk).status == load.status
    for load in finished:
        assert MetricLoad.objects.get(pk=load.pk).errors == []
    assert housekeeping.run().loads_closed == 0  # again: nothing more to do


def test_the_limit_is_a_setting(source, settings):
    settings.METRICS_STALE_LOAD_HOURS = 2
    load = a_load(source, "running", 3)
    assert housekeeping.run().loads_closed == 1
    assert MetricLoad.objects.get(pk=load.pk).status == "rejected"


def test_the_load_page_says_what_happened(source, client):
    load = a_load(source, "running", 30)
    housekeeping.run()
    client.force_login(make_user("quinn", "Quinn", "Park", "analyst"))
    page = client.get(f"/metrics/loads/{load.pk}/").content.decode()
    assert "the background worker stopped or never started it" in page
    status = client.get(f"/metrics/loads/{load.pk}/status/").json()
    assert status["status"] == "rejected" and status["done"]


def test_a_closed_load_is_not_run_later(source, tmp_path):
    """The task of a stalled load may still arrive once the broker is back: it does nothing."""
    load = a_load(source, "pending", 30)
    housekeeping.run()
    path = tmp_path / "late.csv"
    path.write_text("Agent ID,Date,Metric,Value,Contacts\nE1,2025-03-03,aht,300,1\n")
    assert uploads.load_stored(load.pk, str(path)) is None
    assert not Sample.objects.exists()


def test_old_upload_files_are_removed(source):
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    old, new = directory / "old.csv", directory / "new.csv"
    for path in (old, new):
        path.write_text("Agent ID\n")
    day_and_more = (timezone.now() - dt.timedelta(hours=25)).timestamp()
    os.utime(old, (day_and_more, day_and_more))

    assert housekeeping.run().files_removed == 1
    assert not old.exists() and new.exists()


def test_old_upload_files_are_removed_from_object_storage(source, s3_storage):
    """On several machines the files are in the bucket: housekeeping removes them there (the
    bucket's clock says how old they are, so "now" is moved on rather than the files back)."""
    _, s3, prefix, web_media = s3_storage
    storage = uploads.upload_storage()
    names = [storage.save(f"uploads/{n}.csv", ContentFile(b"Agent ID\n")) for n in "ab"]
    assert len(stored_objects(s3, prefix)) == 2
    assert housekeeping.run().files_removed == 0  # new
    later = timezone.now() + dt.timedelta(hours=25)
    assert housekeeping.run(later).files_removed == 2
    assert stored_objects(s3, prefix) == [] and not any(map(storage.exists, names))
    assert not any(web_media.iterdir())


def test_the_beat_runs_it_every_hour(source):
    entry = django_settings.CELERY_BEAT_SCHEDULE["metrics-housekeeping"]
    assert entry["task"] == "metrics.tasks.housekeeping" and entry["schedule"] == 3600
    a_load(source, "pending", 30)
    assert tasks.housekeeping.delay().get() == {"loads_closed": 1, "files_removed": 0}
