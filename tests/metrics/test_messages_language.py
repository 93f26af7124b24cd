"""The reasons a KPI file is refused are written in the language of the analyst who reads
them: the page's, or for a background load the uploader's, not the worker's."""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.utils import translation

from metrics import tasks, uploads
from metrics.loading import preview_file
from metrics.models import MetricLoad
from tests.catalog_support import translated
from tests.metrics.conftest import LONG, csv_bytes

pytestmark = pytest.mark.django_db

BAD_DATE = "bad date %(text)s (expected %(hint)s)"
HINT = "YYYY-MM-DD, or set date_format"
SPANISH = {BAD_DATE: "fecha incorrecta %(text)s (se esperaba %(hint)s)", HINT: "AAAA-MM-DD"}
FILE = csv_bytes("Agent ID,Date,Metric,Value,Contacts", "E1001,next tuesday,aht,5:30,10")


def test_a_file_problem_reads_in_the_analysts_language(wfm):
    with translated("es", SPANISH), translation.override("es"):
        preview = preview_file(FILE, mapping=LONG, filename="acd.csv")
    assert [e.reason for e in preview.errors] == [
        "fecha incorrecta 'next tuesday' (se esperaba AAAA-MM-DD)"
    ]
    # The same file, in English, as before.
    english = preview_file(FILE, mapping=LONG, filename="acd.csv")
    assert [e.reason for e in english.errors] == [
        "bad date 'next tuesday' (expected YYYY-MM-DD, or set date_format)"
    ]


def test_a_background_load_writes_its_reasons_in_the_uploaders_language(
    wfm, harper, tmp_path, monkeypatch, settings
):
    settings.MEDIA_ROOT = str(tmp_path)
    name = uploads.upload_storage().save("uploads/acd.csv", ContentFile(FILE))
    load = MetricLoad.objects.create(
        source=wfm, uploaded_by=harper, filename="acd.csv", mapping=LONG, rows_total=1
    )
    queued = []
    monkeypatch.setattr(tasks.load_file_task, "delay", lambda *args: queued.append(args))
    with translation.override("es"):  # the page that queued the load
        tasks.enqueue_load(load.pk, name)
    assert translation.get_language() == "en"  # the worker's own language
    with translated("es", SPANISH):
        tasks.load_file_task(*queued[0])
    load.refresh_from_db()
    assert load.status == MetricLoad.Status.REJECTED
    assert load.errors[0]["reason"] == "fecha incorrecta 'next tuesday' (se esperaba AAAA-MM-DD)"
    assert not uploads.upload_storage().exists(name)  # removed by the load, as always


def test_a_task_queued_without_a_language_writes_in_the_organisations(
    wfm, harper, tmp_path, settings
):
    # Queued with no language (""): the organisation's language, not untranslated English.
    settings.MEDIA_ROOT = str(tmp_path)
    settings.LANGUAGE_CODE = "es"
    name = uploads.upload_storage().save("uploads/acd.csv", ContentFile(FILE))
    with translated("es", SPANISH):
        tasks.preview_file_task(name, "acd.csv", LONG, "0" * 64, "")
    with uploads.upload_storage().open(uploads._preview_name(name), "rb") as file:
        reasons = [e["reason"] for e in json.loads(file.read())["preview"]["errors"]]
    assert reasons == ["fecha incorrecta 'next tuesday' (se esperaba AAAA-MM-DD)"]
    load = MetricLoad.objects.create(
        source=wfm, uploaded_by=harper, filename="acd.csv", mapping=LONG, rows_total=1
    )
    with translated("es", SPANISH):
        tasks.load_file_task(load.pk, name, "")
    load.refresh_from_db()
    assert load.errors[0]["reason"] == "fecha incorrecta 'next tuesday' (se esperaba AAAA-MM-DD)"
