"""The numbers beside each target come from the loaded KPI data, weighted as the KPI module
weighs them, and the met / on-track suggestions read both directions (QA higher is better, AHT
lower is better)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrics import rollups
from metrics.models import Sample
from metrics.queries import window_means
from pips import services, snapshots
from pips.models import ActionItem, CheckIn, Expectation, PipVersion, Review
from pips.selectors import version_with_sections
from pips.services import CheckInInput

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def add_samples(employee_id, kpi, values: dict[dt.date, tuple[float, float]]) -> None:
    Sample.objects.bulk_create(
        Sample(employee_id=employee_id, kpi=kpi, date=day, value=value, weight=weight)
        for day, (value, weight) in values.items()
    )
    rollups.rebuild()  # written beside the loader: the weekly totals too


def days_ago(n: int) -> dt.date:
    return TODAY() - dt.timedelta(days=n)


@pytest.fixture
def plan(alex, harper, make_plan):
    """Alex's plan, active, started three weeks ago, 60 days long (midpoint in 9 days)."""
    return make_plan(alex, "active", hr=harper, start=days_ago(21), days=60)


def expectation(plan, code: str) -> Expectation:
    return plan.current_version.expectations.select_related("kpi").get(kpi__code=code)


class TestCheckinSnapshot:
    def test_values_match_the_loaded_data(self, plan, alex, kpis, django_assert_num_queries):
        # Inside the window, weighted by calls; outside it (before the plan, another agent,
        # after the check-in day) nothing counts.
        add_samples(
            "E1001",
            kpis["qa_score"],
            {days_ago(6): (80.0, 10), days_ago(5): (90.0, 30), days_ago(30): (10.0, 100)},
        )
        add_samples("E1001", kpis["aht"], {days_ago(6): (330.0, 40), days_ago(4): (270.0, 20)})
        add_samples("E9999", kpis["qa_score"], {days_ago(5): (0.0, 1000)})
        add_samples("E1001", kpis["qa_score"], {TODAY() + dt.timedelta(days=1): (0.0, 500)})
        version = version_with_sections(plan.current_version_id)
        start, end = snapshots.checkin_window(plan, version, TODAY())
        assert (start, end) == (version.period_start, TODAY())
        assert plan.agent.employee_id == "E1001"
        with django_assert_num_queries(1):
            snapshot = snapshots.checkin_snapshot(pip=plan, version=version, start=start, end=end)
        by_kpi = {entry["kpi"]: entry for entry in snapshot}
        # Four KPI-linked rows in the template; the qualitative wrap-up row has no snapshot.
        assert set(by_kpi) == {"qa_score", "aht", "csat", "adherence"}
        qa = by_kpi["qa_score"]
        assert qa["value"] == pytest.approx((80 * 10 + 90 * 30) / 40)  # 87.5
        qa_id = kpis["qa_score"].pk
        window = window_means(employee_id="E1001", kpi_ids=[qa_id], start=start, end=end)
        assert qa["value"] == window[qa_id]
        assert qa["formatted"] == "87.5 %"
        assert qa["target"] == 85.0 and qa["standard"] == "≥ 85 %"
        assert qa["met"] is True
        assert qa["from"] == start.isoformat() and qa["to"] == end.isoformat()
        aht = by_kpi["aht"]
        assert aht["value"] == pytest.approx((330 * 40 + 270 * 20) / 60)  # 310 s
        assert aht["formatted"] == "5:10"
        assert aht["met"] is False  # lower is better: 5:10 is above 5:00
        assert by_kpi["csat"]["value"] is None and by_kpi["csat"]["met"] is None
        assert by_kpi["csat"]["formatted"] == "—"

    def test_window_runs_from_the_last_check_in_held(self, plan, alex, sam, kpis):
        version = plan.current_version
        services.checkin_record(
            actor=sam, pip=plan, data=CheckInInput(held_on=days_ago(14)), snapshot=[]
        )
        services.checkin_missed(
            actor=sam, pip=plan, scheduled_for=days_ago(7), reason="Agent on sick leave."
        )
        # A missed check-in has no numbers: the window reaches back to the last one held.
        assert snapshots.checkin_window(plan, version, TODAY()) == (days_ago(13), TODAY())
        add_samples("E1001", kpis["qa_score"], {days_ago(14): (10.0, 1), days_ago(13): (88.0, 1)})
        start, end = snapshots.checkin_window(plan, version, TODAY())
        snapshot = snapshots.checkin_snapshot(pip=plan, version=version, start=start, end=end)
        assert next(e for e in snapshot if e["kpi"] == "qa_score")["value"] == 88.0
        assert CheckIn.objects.filter(pip=plan).count() == 2

    def test_one_query_for_all_kpis(self, kpis, django_assert_num_queries):
        add_samples("E1", kpis["qa_score"], {days_ago(1): (90.0, 1), days_ago(2): (80.0, 3)})
        add_samples("E1", kpis["csat"], {days_ago(1): (70.0, 2)})
        ids = [kpis["qa_score"].pk, kpis["csat"].pk, kpis["aht"].pk]
        with django_assert_num_queries(1):
            values = window_means(employee_id="E1", kpi_ids=ids, start=days_ago(7), end=TODAY())
        assert values[kpis["qa_score"].pk] == pytest.approx(82.5)
        assert values[kpis["csat"].pk] == 70.0
        assert values[kpis["aht"].pk] is None
        assert window_means(employee_id="E1", kpi_ids=[], start=days_ago(7), end=TODAY()) == {}


class TestMetSuggestion:
    @pytest.mark.parametrize(
        ("code", "value", "met"),
        [
            ("qa_score", 85.0, True),  # ≥ 85 %: the target itself meets it
            ("qa_score", 90.0, True),
            ("qa_score", 84.9, False),
            ("aht", 300.0, True),  # ≤ 5:00
            ("aht", 250.0, True),
            ("aht", 301.0, False),
        ],
    )
    def test_both_directions(self, plan, code, value, met):
        row = expectation(plan, code)
        assert row.is_met(value) is met
        version = plan.current_version
        assert snapshots.on_track(row, value, version=version, as_of=TODAY()) is (met or False)

    @pytest.mark.parametrize(
        ("code", "baseline", "target", "value", "elapsed_days", "expected"),
        [
            # Half the period gone: half the gap must be closed.
            ("qa_score", 70.0, 85.0, 78.0, 30, True),  # 8 of 15 points
            ("qa_score", 70.0, 85.0, 76.0, 30, False),  # 6 of 15
            ("aht", 420.0, 300.0, 355.0, 30, True),  # 65 of 120 seconds down
            ("aht", 420.0, 300.0, 370.0, 30, False),  # 50 of 120
            ("aht", 420.0, 300.0, 440.0, 30, False),  # worse than the baseline
            # A quarter gone: a quarter of the gap is enough.
            ("aht", 420.0, 300.0, 385.0, 15, True),  # 35 of 120
        ],
    )
    def test_on_track_at_midpoint(self, code, baseline, target, value, elapsed_days, expected):
        start = dt.date(2025, 3, 3)
        version = PipVersion(period_start=start, period_end=start + dt.timedelta(days=60))
        row = Expectation(
            area=code,
            comparator="gte" if code == "qa_score" else "lte",
            target=target,
            baseline_value=baseline,
        )
        as_of = start + dt.timedelta(days=elapsed_days)
        assert snapshots.on_track(row, value, version=version, as_of=as_of) is expected

    def test_no_data_suggests_nothing(self, plan):
        row = expectation(plan, "qa_score")
        assert row.is_met(None) is None
        assert snapshots.on_track(row, None, version=plan.current_version, as_of=TODAY()) is None


class TestReviewRows:
    def test_final_review_rows_from_the_last_two_weeks(self, alex, harper, make_plan, kpis):
        plan = make_plan(alex, "active", hr=harper, start=days_ago(30), days=30)
        review, _ = services.review_open(pip=plan, kind=Review.Kind.FINAL)
        add_samples("E1001", kpis["qa_score"], {days_ago(20): (50.0, 1), days_ago(3): (88.0, 1)})
        add_samples("E1001", kpis["aht"], {days_ago(2): (320.0, 1)})
        rows = {
            r.expectation.area: r
            for r in snapshots.review_rows(pip=plan, review=review, today=TODAY())
        }
        qa = rows["QA Score"]
        assert qa.value == 88.0  # the sample 20 days ago is outside the last two weeks
        assert (qa.start, qa.end) == (days_ago(13), TODAY())
        assert qa.suggested is True and qa.formatted == "88 %"
        assert qa.evidence.endswith(": met.") and "88 %" in qa.evidence and "≥ 85 %" in qa.evidence
        aht = rows["AHT (Avg. Handle Time)"]
        assert aht.suggested is False and aht.evidence.endswith(": not met.")
        assert rows["CSAT Score"].suggested is None
        assert rows["CSAT Score"].evidence.startswith("No CSAT score data")
        wrap_up = rows["Call Wrap-Up Notes"]
        assert wrap_up.value is None and wrap_up.suggested is None and wrap_up.evidence == ""
        assert snapshots.suggestions(rows.values())[qa.expectation.pk] == (88.0, True)

    def test_review_never_counts_days_after_the_period(self, alex, harper, make_plan, kpis):
        plan = make_plan(alex, "active", hr=harper, start=days_ago(40), days=30)
        review, _ = services.review_open(pip=plan, kind=Review.Kind.FINAL)
        add_samples("E1001", kpis["qa_score"], {days_ago(12): (90.0, 1), days_ago(5): (10.0, 1)})
        rows = snapshots.review_rows(pip=plan, review=review, today=TODAY())
        qa = next(r for r in rows if r.expectation.area == "QA Score")
        assert qa.end == days_ago(10) and qa.value == 90.0


def test_session_days(plan):
    actions = {a.action: a for a in plan.current_version.actions.prefetch_related("sessions")}
    coaching = actions["One-on-one coaching sessions (twice weekly)"]
    shadowing = actions["Shadow top-performing agents"]
    checklist = actions["Use call flow checklist during every interaction"]
    monday = dt.date(2025, 3, 3)
    week = (monday, monday + dt.timedelta(days=6))
    assert snapshots.session_days(coaching, *week) == [dt.date(2025, 3, 4), dt.date(2025, 3, 7)]
    assert len(snapshots.session_days(shadowing, *week)) == 5  # any working day
    assert snapshots.session_days(checklist, *week) == []
    fresh = ActionItem.objects.prefetch_related("sessions").get(pk=coaching.pk)
    fresh.sessions.create(held_on=dt.date(2025, 3, 4), recorded_by=plan.supervisor)
    fresh = ActionItem.objects.prefetch_related("sessions").get(pk=coaching.pk)
    assert snapshots.session_days(fresh, *week) == [dt.date(2025, 3, 7)]
