"""The PostgreSQL loader in batches: the file is read and checked in a thread of its own while
the database upserts the batch before, and a file stays all or nothing across batches.

Batches are made tiny here (3-row COPY chunks, upserts of about 6 rows) so that a few lines
cross several of them."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.contrib.admin.sites import site
from django.db import IntegrityError, connection, transaction
from django.db.models import CompositePrimaryKey, ProtectedError

from metrics import loading
from metrics.loading import load_file
from metrics.models import Kpi, MetricLoad, MetricSource, Sample, WeeklyTotal
from tests.metrics.conftest import LONG, csv_bytes

HEADER = "Agent ID,Date,Metric,Value,Contacts"
D = dt.date(2025, 3, 3)


def lines(count: int, *, value: int = 300, start: int = 0) -> list[str]:
    return [
        f"E{n:03d},{D + dt.timedelta(n % 7)},aht,{value + n % 5},2"
        for n in range(start, start + count)
    ]


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "metrics-load-reader"]


@pytest.fixture
def small_batches(monkeypatch, postgres, settings):
    monkeypatch.setattr(loading, "_COPY_CHUNK_ROWS", 3)
    settings.METRICS_LOAD_BATCH_ROWS = 6


@pytest.fixture
def writes() -> list[str]:
    """How each batch reached the sample table: "insert" (new rows only) or "upsert"."""
    seen: list[str] = []

    def spy(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "metrics_sample"'):
            seen.append("upsert" if "ON CONFLICT" in sql else "insert")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        yield seen


def test_a_file_of_many_batches_loads_whole_and_twice_changes_nothing(wfm, small_batches, writes):
    data = csv_bytes(HEADER, *lines(40))
    first = load_file(data, source=wfm)

    assert first.ok and (first.rows_total, first.rows_changed) == (40, 40)
    # 40 rows in batches of two 3-row chunks, all of them new: inserted without ON CONFLICT.
    assert writes == ["insert"] * 7
    assert Sample.objects.count() == 40
    assert Sample.objects.get(employee_id="E007").value == 302

    writes.clear()
    again = load_file(data, source=wfm)
    assert again.ok and (again.rows_total, again.rows_changed) == (40, 0)
    # The first batch's insert met stored rows and was rolled back: upserts from there on.
    assert writes == ["insert"] + ["upsert"] * 7
    assert set(Sample.objects.values_list("load", flat=True)) == {first.load.pk}

    fixed = load_file(csv_bytes(HEADER, *lines(40, value=310)), source=wfm)
    assert fixed.rows_changed == 40
    assert Sample.objects.get(employee_id="E007").value == 312
    assert reader_threads() == []


def test_a_file_whose_later_rows_are_stored_already_upserts_from_there(wfm, small_batches, writes):
    load_file(csv_bytes(HEADER, *lines(6, value=300, start=30)), source=wfm)  # E030 to E035
    writes.clear()

    result = load_file(csv_bytes(HEADER, *lines(40, value=400)), source=wfm)

    assert result.ok and (result.rows_total, result.rows_changed) == (40, 40)
    assert writes == ["insert"] * 5 + ["insert"] + ["upsert"] * 2
    assert Sample.objects.count() == 40
    assert set(Sample.objects.values_list("value", flat=True)) == {400, 401, 402, 403, 404}
    assert set(Sample.objects.values_list("load", flat=True)) == {result.load.pk}


def test_small_loads_always_upsert(wfm, small_batches, writes):
    load_file(csv_bytes(HEADER, *lines(5)), source=wfm)  # one batch
    assert writes == ["upsert"]


def test_a_bad_row_in_a_late_batch_loads_nothing(wfm, small_batches):
    load_file(csv_bytes(HEADER, *lines(10)), source=wfm)
    before = set(Sample.objects.values_list("employee_id", "kpi_id", "date", "value", "weight"))

    rows = lines(30, value=400) + ["E999,2025-03-03,nps,1,1"] + lines(5, start=30)
    result = load_file(csv_bytes(HEADER, *rows), source=wfm)

    assert not result.ok and result.rows_changed == 0
    assert [(e.line, e.reason) for e in result.errors] == [(32, "unknown KPI 'nps'")]
    assert result.rows_total == 35  # every good row was still counted, after the bad one too
    assert (
        set(Sample.objects.values_list("employee_id", "kpi_id", "date", "value", "weight"))
        == before
    )
    assert reader_threads() == []


def test_a_failure_after_some_batches_were_written_leaves_nothing(wfm, small_batches):
    load_file(csv_bytes(HEADER, *lines(10)), source=wfm)
    before = set(Sample.objects.values_list("employee_id", "kpi_id", "date", "value", "weight"))
    sent: list[str] = []

    def fail_third(execute, sql, params, many, context):
        if "ON CONFLICT" in sql:
            sent.append(sql)
            if len(sent) == 3:
                raise RuntimeError("the database went away")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_third), pytest.raises(RuntimeError):
        load_file(csv_bytes(HEADER, *lines(40, value=400)), source=wfm, filename="x.csv")

    assert len(sent) == 3
    assert (
        set(Sample.objects.values_list("employee_id", "kpi_id", "date", "value", "weight"))
        == before
    )
    failed = MetricLoad.objects.get(filename="x.csv")
    assert failed.status == MetricLoad.Status.REJECTED
    assert failed.errors[0]["reason"] == "the load failed unexpectedly; nothing was saved"
    assert reader_threads() == []


MIXED = (
    "the file mixes text encodings (UTF-8 accents earlier, then a byte that is not UTF-8): "
    "save the export again as 'CSV UTF-8' (Excel: Save As, CSV UTF-8)"
)


def test_a_broken_encoding_read_ahead_rejects_the_file(wfm, small_batches):
    # UTF-8 accents in the first line of data (an agent's name), a Windows-1252 byte later.
    first, *rest = lines(5000)
    data = csv_bytes(HEADER + ",Name", first + ",Zoë", *rest) + b"E\xff,2025-03-03,aht,1,1\n"
    result = load_file(data, source=wfm)

    assert [(e.line, e.reason) for e in result.errors] == [(5002, MIXED)]
    assert result.load.status == MetricLoad.Status.REJECTED
    assert not Sample.objects.exists()
    assert reader_threads() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_overlapping_loads_at_the_same_time_both_finish(monkeypatch, postgres, settings):
    """Two files that cover the same rows, each in many batches, loaded at once: they take
    turns instead of deadlocking, and the values are those of the one that finished last."""
    monkeypatch.setattr(loading, "_COPY_CHUNK_ROWS", 50)
    settings.METRICS_LOAD_BATCH_ROWS = 100
    source = MetricSource.objects.create(name="WFM", mapping=LONG)
    files = {
        "forward": csv_bytes(HEADER, *lines(1500, value=300)),
        "backward": csv_bytes(HEADER, *reversed(lines(1500, value=500))),
    }
    results: dict[str, object] = {}
    start = threading.Barrier(2)

    def load(name: str) -> None:
        try:
            start.wait()
            results[name] = load_file(files[name], source=source, filename=name)
        except Exception as exc:  # reported below
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=load, args=(name,)) for name in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert all(getattr(r, "ok", False) for r in results.values()), results
    last = MetricLoad.objects.order_by("finished_at").last()
    values = set(Sample.objects.values_list("value", flat=True))
    assert Sample.objects.count() == 1500
    assert values == (
        {300, 301, 302, 303, 304} if last.filename == "forward" else {500, 501, 502, 503, 504}
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_small_loads_of_one_week_at_the_same_time_both_keep_its_total(monkeypatch, postgres):
    """Two small loads (the API's batches, a page's upload) run side by side, each adding
    another day of the same weeks. Each recomputes those weeks' totals from the samples; they
    take turns for it, so the second counts the first's days and neither fails on the other's
    new total. Without that, the second stopped with a duplicate key (a failed load)."""
    source = MetricSource.objects.create(name="WFM", mapping=LONG)
    files = {
        "monday": csv_bytes(HEADER, *[f"E{n:03d},{D},aht,300,2" for n in range(20)]),
        "tuesday": csv_bytes(
            HEADER, *[f"E{n:03d},{D + dt.timedelta(1)},aht,310,2" for n in range(20)]
        ),
    }
    # Each load has upserted its day when the other recomputes: Monday's load recomputes first
    # and waits, uncommitted, until Tuesday's has reached its own recomputation.
    monday_done, tuesday_there = threading.Event(), threading.Event()
    finish = loading._WeeklyTotals.finish

    def finish_in_turn(self, *, alone):
        if threading.current_thread().name == "tuesday":
            monday_done.wait(10)
            tuesday_there.set()
            finish(self, alone=alone)
        else:
            finish(self, alone=alone)
            monday_done.set()
            tuesday_there.wait(10)
            time.sleep(0.3)  # Tuesday's recomputation has started (and, with the lock, waits)

    monkeypatch.setattr(loading._WeeklyTotals, "finish", finish_in_turn)
    results: dict[str, object] = {}

    def load(name: str) -> None:
        try:
            results[name] = load_file(files[name], source=source, filename=name)
        except Exception as exc:  # reported below
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=load, args=(name,), name=name) for name in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert all(getattr(r, "ok", False) for r in results.values()), results
    totals = WeeklyTotal.objects.filter(week=D)
    assert totals.count() == 20
    assert set(totals.values_list("sample_count", "weighted_sum", "weight_sum")) == {
        (2, 300 * 2 + 310 * 2, 4)
    }


# --- The table ----------------------------------------------------------------------------------


def test_a_sample_is_identified_by_employee_kpi_and_date(db):
    pk = Sample._meta.pk
    assert isinstance(pk, CompositePrimaryKey)
    assert [f.name for f in pk.fields] == ["employee_id", "kpi", "date"]
    kpi = Kpi.objects.get(code="aht")
    Sample.objects.create(employee_id="E1", kpi=kpi, date=D, value=300)
    with pytest.raises(IntegrityError), transaction.atomic():
        Sample.objects.create(employee_id="E1", kpi=kpi, date=D, value=310)
    assert Sample.objects.get(pk=("E1", kpi.pk, D)).value == 300


def test_a_load_that_wrote_samples_stays_on_record(wfm, rf, admin_user):
    loaded = load_file(csv_bytes(HEADER, *lines(3)), source=wfm).load
    rejected = load_file(csv_bytes(HEADER, "E1,2025-03-03,nps,1,1"), source=wfm).load

    with pytest.raises(ProtectedError):
        loaded.delete()
    rejected.delete()  # it wrote nothing
    assert MetricLoad.objects.filter(pk=loaded.pk).exists()

    request = rf.get("/")
    request.user = admin_user
    assert not site._registry[MetricLoad].has_delete_permission(request, loaded)


def test_a_kpi_with_samples_cannot_be_deleted(wfm):
    load_file(csv_bytes(HEADER, *lines(3)), source=wfm)
    with pytest.raises(ProtectedError):
        Kpi.objects.get(code="aht").delete()
