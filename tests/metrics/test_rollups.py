"""The weekly totals stay equal to the samples they sum, whatever writes them: files and API
batches loaded in batches of a few rows (new rows, corrections that change values, rejected
loads), other writers through `rollups.rebuild`, and the migration's backfill. The figures
read from them (weekly series, "below standard") are the ones the samples give."""

from __future__ import annotations

import datetime as dt
import importlib
import math
from collections import defaultdict

import pytest
from django.apps import apps as django_apps
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from metrics import rollups
from metrics.loading import load_file, load_rows
from metrics.models import Kpi, MetricSource, Sample, WeeklyTotal
from metrics.queries import (
    WeekPoint,
    below_standard_by_kpi,
    is_below,
    week_start,
    weekly_series_by_kpi,
)
from tests.metrics.conftest import LONG, csv_bytes

MON = dt.date(2025, 3, 3)
EMPLOYEES = ["E1", "E2", "E3"]
VALUES = {"qa_score": (50, 100), "aht": (120, 900)}

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_batches(monkeypatch, settings):
    """Upserts of a few rows, so a week's rows cross batches (PostgreSQL's loader)."""
    from metrics import loading

    monkeypatch.setattr(loading, "_COPY_CHUNK_ROWS", 2)
    monkeypatch.setattr(loading, "_BATCH_ROWS", 4)
    settings.METRICS_LOAD_BATCH_ROWS = 4


def stored_totals() -> dict[tuple[str, str, dt.date], tuple[float, float, int]]:
    return {
        (e, code, week): (s, w, n)
        for e, code, week, s, w, n in WeeklyTotal.objects.values_list(
            "employee_id", "kpi__code", "week", "weighted_sum", "weight_sum", "sample_count"
        )
    }


def summed_samples() -> dict[tuple[str, str, dt.date], tuple[float, float, int]]:
    """The weekly totals recomputed here, in Python, from the samples."""
    sums: dict = defaultdict(lambda: (0.0, 0.0, 0))
    for e, code, day, v, w in Sample.objects.values_list(
        "employee_id", "kpi__code", "date", "value", "weight"
    ):
        s, t, n = sums[e, code, week_start(day)]
        sums[e, code, week_start(day)] = (s + v * w, t + w, n + 1)
    return dict(sums)


def assert_consistent() -> None:
    found, expected = stored_totals(), summed_samples()
    assert found.keys() == expected.keys()
    for key, (s, w, n) in expected.items():
        assert math.isclose(found[key][0], s, rel_tol=1e-12), key
        assert math.isclose(found[key][1], w, rel_tol=1e-12), key
        assert found[key][2] == n, key


def series_from_samples(employee_id: str, code: str, start: dt.date, end: dt.date):
    """What the weekly series were before the totals: every sample of the range, by week."""
    weeks: dict = defaultdict(lambda: [0.0, 0.0, 0])
    for day, v, w in Sample.objects.filter(
        employee_id=employee_id, kpi__code=code, date__gte=start, date__lte=end
    ).values_list("date", "value", "weight"):
        totals = weeks[week_start(day)]
        totals[0] += v * w
        totals[1] += w
        totals[2] += 1
    return [WeekPoint(monday, round(s / w, 6), w, n) for monday, (s, w, n) in sorted(weeks.items())]


def assert_series_as_samples_give(start: dt.date, end: dt.date) -> None:
    for employee_id in EMPLOYEES:
        series = weekly_series_by_kpi(
            employee_id=employee_id, kpis=list(VALUES), start=start, end=end
        )
        for code in VALUES:
            got, want = series[code], series_from_samples(employee_id, code, start, end)
            assert [(p.week, p.samples) for p in got] == [(p.week, p.samples) for p in want]
            for a, b in zip(got, want, strict=True):
                assert a.value == pytest.approx(b.value, abs=1e-6)
                assert a.weight == pytest.approx(b.weight, rel=1e-12)


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(EMPLOYEES),
        st.sampled_from(sorted(VALUES)),
        st.integers(0, 27),  # four weeks from MON
        st.integers(0, 1000),  # scaled into the KPI's range
        st.integers(1, 40),  # weight
    ),
    min_size=1,
    max_size=25,
)
step_strategy = st.tuples(st.sampled_from(["api", "file", "bad file", "rebuild"]), rows_strategy)


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(step_strategy, min_size=1, max_size=5),
    window=st.tuples(st.integers(-3, 30), st.integers(0, 34)),
)
def test_totals_equal_the_samples_after_any_loads(kpis, small_batches, steps, window):
    source, _ = MetricSource.objects.get_or_create(name="WFM", defaults={"mapping": LONG})
    for kind, raw in steps:
        # One value per key and step (a file naming a day twice is refused, not summed).
        rows = {
            (e, code, MON + dt.timedelta(days=offset)): (
                VALUES[code][0] + scale * (VALUES[code][1] - VALUES[code][0]) / 1000,
                weight,
            )
            for e, code, offset, scale, weight in raw
        }
        before = stored_totals()
        if kind == "api":
            result = load_rows(
                [
                    {
                        "employee_id": e,
                        "kpi": code,
                        "date": day.isoformat(),
                        "value": v,
                        "weight": w,
                    }
                    for (e, code, day), (v, w) in rows.items()
                ],
                source=source,
            )
            assert result.ok, result.errors
        elif kind in ("file", "bad file"):
            lines = [f"{e},{day},{code},{v!r},{w}" for (e, code, day), (v, w) in rows.items()]
            if kind == "bad file":
                lines.append("E1,2025-03-04,qa_score,250,1")  # out of range: nothing loads
            result = load_file(
                csv_bytes("Agent ID,Date,Metric,Value,Contacts", *lines), source=source
            )
            assert result.ok == (kind == "file"), result.errors
            if kind == "bad file":
                assert stored_totals() == before
        else:  # another writer: samples replaced by hand, then their weeks rebuilt
            for (e, code, day), (v, w) in rows.items():
                Sample.objects.update_or_create(
                    employee_id=e, kpi=kpis[code], date=day, defaults={"value": v, "weight": w}
                )
            days = [day for _, _, day in rows]
            rollups.rebuild(min(days), max(days))
        assert_consistent()
    # The figures read from the totals are those the samples give, partial weeks included.
    start = MON + dt.timedelta(days=min(window))
    end = MON + dt.timedelta(days=max(window))
    assert_series_as_samples_give(start, end)


def test_a_correction_changes_only_its_weeks(kpis, small_batches):
    source = MetricSource.objects.create(name="WFM", mapping=LONG)
    month = [
        f"{e},{MON + dt.timedelta(days=n)},aht,{300 + n},{1 + n % 3}"
        for e in EMPLOYEES
        for n in range(21)
    ]
    assert load_file(csv_bytes("Agent ID,Date,Metric,Value,Contacts", *month), source=source).ok
    assert_consistent()
    first = stored_totals()
    assert len(first) == 9  # three employees, three weeks
    # The second week again, one value changed; the same file a second time changes nothing.
    second_week = {str(MON + dt.timedelta(days=n)) for n in range(7, 14)}
    week2 = [line for line in month if line.split(",")[1] in second_week]
    fixed = [line.replace(",307,", ",407,") if line.startswith("E1,") else line for line in week2]
    assert len(week2) == 21 and fixed != week2
    result = load_file(csv_bytes("Agent ID,Date,Metric,Value,Contacts", *fixed), source=source)
    assert result.ok and result.rows_changed == 1
    assert_consistent()
    changed = {key for key, value in stored_totals().items() if first[key] != value}
    assert changed == {("E1", "aht", MON + dt.timedelta(weeks=1))}


def _totals_writes(queries) -> list[str]:
    return [q["sql"] for q in queries if 'INTO "metrics_weeklytotal"' in q["sql"]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL loader's merge")
def test_new_weeks_are_merged_once_and_days_added_to_stored_weeks_are_summed(kpis, small_batches):
    """A multi-batch file of new weeks writes its totals in one plain INSERT at the end (no
    ON CONFLICT), a week spanning batches as one row; a later file of new days in those weeks
    falls back to adding its sums to the stored totals."""
    from django.test.utils import CaptureQueriesContext

    source = MetricSource.objects.create(name="WFM", mapping=LONG)
    header = "Agent ID,Date,Metric,Value,Contacts"

    def days(first: int, last: int) -> list[str]:
        return [
            f"{e},{MON + dt.timedelta(days=n)},aht,{300 + 7 * n},{1 + n % 3}"
            for n in range(first, last)
            for e in EMPLOYEES
        ]

    with CaptureQueriesContext(connection) as queries:
        assert load_file(csv_bytes(header, *days(0, 10)), source=source).ok  # 8 batches
    writes = _totals_writes(queries.captured_queries)
    assert len(writes) == 1 and "ON CONFLICT" not in writes[0], writes
    assert_consistent()
    assert len(stored_totals()) == 6  # three employees, two weeks
    with CaptureQueriesContext(connection) as queries:
        assert load_file(csv_bytes(header, *days(10, 20)), source=source).ok
    writes = _totals_writes(queries.captured_queries)
    assert len(writes) == 2 and "ON CONFLICT" in writes[1], writes  # tried, then added
    assert_consistent()
    assert stored_totals()["E2", "aht", MON + dt.timedelta(weeks=1)][2] == 7


def test_a_sample_removed_by_hand_leaves_no_total_once_rebuilt(kpis):
    source = MetricSource.objects.create(name="WFM", mapping=LONG)
    rows = [
        {"employee_id": "E1", "kpi": "aht", "date": str(MON + dt.timedelta(days=n)), "value": 300}
        for n in (0, 8)
    ]
    assert load_rows(rows, source=source).ok
    Sample.objects.filter(date=MON + dt.timedelta(days=8)).delete()
    rollups.rebuild(MON + dt.timedelta(days=8), MON + dt.timedelta(days=8))
    assert_consistent()
    assert list(stored_totals()) == [("E1", "aht", MON)]


def test_the_migration_fills_the_totals_of_samples_already_loaded(kpis):
    Sample.objects.bulk_create(
        Sample(employee_id=e, kpi=kpis["qa_score"], date=MON + dt.timedelta(days=n), value=80 + n)
        for e in EMPLOYEES
        for n in range(17)
    )
    assert not WeeklyTotal.objects.exists()
    migration = importlib.import_module("metrics.migrations.0007_weekly_totals")
    with connection.schema_editor() as editor:
        migration.backfill(django_apps, editor)
    assert len(stored_totals()) == 9
    assert_consistent()


def test_below_standard_reads_the_totals_and_gives_what_the_samples_give(kpis):
    """Four whole weeks for three agents: who is flagged, from the weekly totals, is who the
    samples say is below, week by week."""
    source = MetricSource.objects.create(name="WFM", mapping=LONG)
    rows = [
        {
            "employee_id": e,
            "kpi": "qa_score",
            "date": str(MON + dt.timedelta(days=n)),
            "value": 70 + (i * 7 + n * 3) % 25,
            "weight": 1 + n % 4,
        }
        for i, e in enumerate(EMPLOYEES)
        for n in range(28)
    ]
    assert load_rows(rows, source=source).ok
    qa = Kpi.objects.get(code="qa_score")
    qa.standard = 82
    found = below_standard_by_kpi(
        kpis=[qa],
        employee_ids=EMPLOYEES,
        weeks_below=2,
        of_last=4,
        today=MON + dt.timedelta(28),
    )
    expected = set()
    for e in EMPLOYEES:
        weeks = series_from_samples(e, "qa_score", MON, MON + dt.timedelta(days=27))
        if sum(is_below(p.value, 82, qa.direction) for p in weeks) >= 2:
            expected.add((e, "qa_score"))
        if (e, "qa_score") in found:
            assert [p.value for p in found[e, "qa_score"].weeks] == pytest.approx(
                [p.value for p in weeks]
            )
    assert set(found) == expected and expected
