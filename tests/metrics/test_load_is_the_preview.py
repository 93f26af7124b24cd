"""The load stores what the preview showed: the mapping, options and file previewed are frozen
on the load, whoever saves the source's mapping afterwards (another analyst, another tab)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client

from metrics import uploads
from metrics.models import MetricLoad, MetricSource, Sample
from tests.conftest import make_user
from tests.metrics.test_views_upload import csv_bytes, to_preview

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 2)
FILE = csv_bytes(
    "Agent ID,Date,CSAT,FCR",
    "A1,2026-11-02,91,62",
    "A2,2026-11-02,84,71",
)
PREVIEWED = {"layout": "wide", "employee_id": "Agent ID", "date": "Date", "kpis": {"csat": "CSAT"}}
# What a colleague saves for the same source in the meantime: CSAT from the FCR column.
CHANGED = {"layout": "wide", "employee_id": "Agent ID", "date": "Date", "kpis": {"csat": "FCR"}}


@pytest.fixture
def quinn_client(client):
    client.force_login(make_user("quinn", "Quinn", "Analyst", "analyst"))
    return client


def colleague_saves(mapping: dict) -> None:
    other = Client()
    other.force_login(make_user("robin", "Robin", "Analyst", "analyst"))
    token, _ = to_preview(other, FILE, mapping, source=MetricSource.objects.get().pk)
    assert MetricSource.objects.get().mapping == mapping


def csat() -> dict:
    return {s.employee_id: s.value for s in Sample.objects.filter(kpi__code="csat")}


@pytest.mark.parametrize("background", [False, True])
def test_the_load_uses_the_previewed_mapping(
    quinn_client, settings, background, django_capture_on_commit_callbacks
):
    if background:
        settings.METRICS_ASYNC_ROWS = 1
    token, preview = to_preview(quinn_client, FILE, PREVIEWED, new_source="Survey tool")
    assert "2 values ready to load" in preview.content.decode()
    colleague_saves(CHANGED)

    with django_capture_on_commit_callbacks(execute=True):
        response = quinn_client.post(f"/metrics/upload/{token}/preview/")
    assert response.status_code == 302
    load = MetricLoad.objects.get()
    assert load.status == "loaded", load.errors
    assert csat() == {"A1": 91, "A2": 84}  # the CSAT column, as previewed; not FCR's 62, 71
    assert load.mapping["kpis"] == {"csat": "CSAT"}  # on record with the load


def test_a_file_changed_after_the_preview_is_refused(
    quinn_client, settings, django_capture_on_commit_callbacks
):
    settings.METRICS_ASYNC_ROWS = 1
    token, _ = to_preview(quinn_client, FILE, PREVIEWED, new_source="Survey tool")
    path = Path(settings.MEDIA_ROOT) / uploads.upload_of(quinn_client.session, token).path
    path.write_bytes(FILE.replace(b"91", b"19"))
    with django_capture_on_commit_callbacks(execute=True):
        quinn_client.post(f"/metrics/upload/{token}/preview/")
    load = MetricLoad.objects.get()
    assert load.status == "rejected"
    assert load.errors[0]["reason"] == "the file is not the one previewed (its SHA-256 differs)"
    assert not Sample.objects.exists()
