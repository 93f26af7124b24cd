from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from metrics.models import Kpi, Sample
from metrics.queries import (
    WeekPoint,
    below_standard,
    kpi_window,
    team_window,
    weekly_series,
    weekly_series_by_kpi,
)

pytestmark = pytest.mark.django_db

MON = dt.date(2025, 3, 3)  # ISO week 10 of 2025


def add(employee: str, code: str, day: dt.date, value: float, weight: float = 1) -> None:
    Sample.objects.create(
        employee_id=employee, kpi=Kpi.objects.get(code=code), date=day, value=value, weight=weight
    )


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def test_window_mean_is_weighted():
    add("E1", "aht", MON, 300, weight=30)
    add("E1", "aht", MON + days(1), 600, weight=10)
    add("E1", "aht", MON + days(9), 999)  # outside the window
    add("E2", "aht", MON, 100)  # someone else

    window = kpi_window(employee_id="E1", kpi="aht", start=MON, end=MON + days(6))

    assert (window.kpi, window.value, window.weight, window.samples) == ("aht", 375, 40, 2)
    empty = kpi_window(employee_id="E9", kpi="aht", start=MON, end=MON + days(6))
    assert (empty.value, empty.weight, empty.samples) == (None, 0, 0)


def test_weekly_series_uses_iso_weeks_starting_monday(kpis):
    add("E1", "qa_score", MON - days(1), 70)  # Sunday: the week before
    add("E1", "qa_score", MON, 80, weight=1)
    add("E1", "qa_score", MON + days(6), 90, weight=3)  # Sunday: same week as MON
    add("E1", "qa_score", MON + days(14), 85)  # a week with no data in between

    series = weekly_series(
        employee_id="E1", kpi=kpis["qa_score"], start=MON - days(7), end=MON + days(20)
    )

    assert series == [
        WeekPoint(MON - days(7), 70, 1, 1),
        WeekPoint(MON, 87.5, 4, 2),
        WeekPoint(MON + days(14), 85, 1, 1),
    ]


def test_several_series_in_one_query(django_assert_num_queries, kpis):
    add("E1", "qa_score", MON, 80)
    add("E1", "aht", MON, 310)
    with django_assert_num_queries(1):
        series = weekly_series_by_kpi(
            employee_id="E1", kpis=["qa_score", kpis["aht"], "csat"], start=MON, end=MON + days(6)
        )
    assert series == {
        "qa_score": [WeekPoint(MON, 80, 1, 1)],
        "aht": [WeekPoint(MON, 310, 1, 1)],
        "csat": [],
    }


@pytest.mark.parametrize("team_size", [3, 30])
def test_team_window_in_one_query(team_size, django_assert_num_queries):
    team = [f"E{n}" for n in range(team_size)]
    for n, employee in enumerate(team):
        add(employee, "qa_score", MON, 80 + n % 10, weight=2)
        add(employee, "qa_score", MON + days(1), 90 + n % 10, weight=2)
        add(employee, "aht", MON, 300 + n)
    add("OUTSIDER", "aht", MON, 1)

    with django_assert_num_queries(1):
        values = team_window(employee_ids=team + ["NODATA"], start=MON, end=MON + days(6))

    assert set(values) == set(team)
    assert values["E1"] == {"qa_score": 86, "aht": 301}
    only_aht = team_window(employee_ids=["E1"], start=MON, end=MON + days(6), kpis=["aht"])
    assert only_aht == {"E1": {"aht": 301}}


def weeks_of(code: str, employee: str, values: list[float | None], first_monday: dt.date) -> None:
    for n, value in enumerate(values):
        if value is not None:
            add(employee, code, first_monday + dt.timedelta(weeks=n, days=2), value)


@time_machine.travel(dt.datetime(2025, 4, 2, 12, tzinfo=dt.UTC))  # a Wednesday
def test_below_standard_for_a_higher_is_better_kpi(django_assert_num_queries):
    # The last four whole weeks start on 3, 10, 17 and 24 March; 31 March is this week.
    weeks_of("qa_score", "LOW", [80, 84, 86, 84.9], MON)
    weeks_of("qa_score", "OK", [85, 90, 85, 88], MON)  # the standard, exactly, is not below
    weeks_of("qa_score", "GAPS", [80, None, None, 70], MON)
    weeks_of("qa_score", "OLD", [50, 50, 50, 50], MON - dt.timedelta(weeks=4))  # long ago
    add("RECENT", "qa_score", dt.date(2025, 3, 31), 10)  # this week: not counted yet

    with django_assert_num_queries(2):
        result = below_standard(kpi="qa_score", weeks_below=3, of_last=4)

    assert set(result) == {"LOW", "OK", "GAPS"}
    low = result["LOW"]
    assert (low.weeks_below, low.streak, low.flagged, low.target) == (3, 1, True, 85)
    assert [w.value for w in low.weeks] == [80, 84, 86, 84.9]
    assert low.latest == WeekPoint(dt.date(2025, 3, 24), 84.9, 1, 1)
    assert (result["OK"].weeks_below, result["OK"].flagged) == (0, False)
    gaps = result["GAPS"]
    assert (gaps.weeks_below, gaps.streak, gaps.flagged) == (2, 1, False)
    assert gaps.weeks[1] is None


def test_below_standard_for_aht_where_lower_is_better(kpis, django_assert_num_queries):
    weeks_of("aht", "SLOW", [320, 330, 290, 310], MON)  # the standard is 5:00
    weeks_of("aht", "FAST", [280, 300, 250, 240], MON)
    weeks_of("aht", "OTHER TEAM", [900, 900, 900, 900], MON)

    with django_assert_num_queries(1):  # a Kpi with target and direction: no lookup
        result = below_standard(
            kpi=kpis["aht"],
            employee_ids=["SLOW", "FAST", "NEW"],
            weeks_below=2,
            of_last=4,
            target=300,
            direction="lower",
            today=dt.date(2025, 3, 31),
        )

    assert set(result) == {"SLOW", "FAST"}
    assert (result["SLOW"].weeks_below, result["SLOW"].streak, result["SLOW"].flagged) == (
        3,
        1,
        True,
    )
    assert (result["FAST"].weeks_below, result["FAST"].flagged) == (0, False)
    stricter = below_standard(
        kpi="aht", employee_ids=["FAST"], target=260, today=dt.date(2025, 3, 31)
    )
    assert (stricter["FAST"].weeks_below, stricter["FAST"].streak) == (2, 0)


def test_below_standard_needs_a_target(kpis):
    kpis["csat"].standard = None
    with pytest.raises(ValueError, match="no standard"):
        below_standard(kpi=kpis["csat"], today=MON)
