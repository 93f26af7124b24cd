from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from metrics import rollups
from metrics.models import Kpi, Sample
from metrics.queries import (
    WeekPoint,
    below_standard,
    below_standard_by_kpi,
    team_window,
    weekly_series_by_kpi,
    window_means,
    windows_for,
)

pytestmark = pytest.mark.django_db

MON = dt.date(2025, 3, 3)  # ISO week 10 of 2025


def add(employee: str, code: str, day: dt.date, value: float, weight: float = 1) -> None:
    """A sample written as any writer other than the loader does: its week's totals again."""
    Sample.objects.create(
        employee_id=employee, kpi=Kpi.objects.get(code=code), date=day, value=value, weight=weight
    )
    rollups.rebuild(day, day)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def test_window_mean_is_weighted():
    add("E1", "aht", MON, 300, weight=30)
    add("E1", "aht", MON + days(1), 600, weight=10)
    add("E1", "aht", MON + days(9), 999)  # outside the window
    add("E2", "aht", MON, 100)  # someone else

    figures = windows_for(
        windows=[("E1", MON, MON + days(6)), ("E9", MON, MON + days(6))], kpis=["aht"]
    )

    window = figures[("E1", MON, MON + days(6))]["aht"]
    assert (window.kpi, window.value, window.weight, window.samples) == ("aht", 375, 40, 2)
    empty = figures[("E9", MON, MON + days(6))]["aht"]
    assert (empty.value, empty.weight, empty.samples) == (None, 0, 0)


def test_weekly_series_uses_iso_weeks_starting_monday(kpis):
    add("E1", "qa_score", MON - days(1), 70)  # Sunday: the week before
    add("E1", "qa_score", MON, 80, weight=1)
    add("E1", "qa_score", MON + days(6), 90, weight=3)  # Sunday: same week as MON
    add("E1", "qa_score", MON + days(14), 85)  # a week with no data in between

    series = weekly_series_by_kpi(
        employee_id="E1", kpis=[kpis["qa_score"]], start=MON - days(7), end=MON + days(20)
    )["qa_score"]

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


def test_window_means_by_kpi_id_in_one_query(kpis, django_assert_num_queries):
    add("E1", "qa_score", MON, 90, weight=1)
    add("E1", "qa_score", MON + days(1), 80, weight=3)
    add("E1", "csat", MON, 70, weight=2)
    add("E1", "csat", MON + days(8), 10)  # after the window
    ids = [kpis["qa_score"].pk, kpis["csat"].pk, kpis["aht"].pk]

    with django_assert_num_queries(1):
        values = window_means(employee_id="E1", kpi_ids=ids, start=MON, end=MON + days(6))

    assert values == {kpis["qa_score"].pk: 82.5, kpis["csat"].pk: 70, kpis["aht"].pk: None}
    assert window_means(employee_id="E1", kpi_ids=[], start=MON, end=MON) == {}
    # The same mean as the window of several employees gives.
    figures = windows_for(windows=[("E1", MON, MON + days(6))], kpis=["qa_score"])
    assert values[kpis["qa_score"].pk] == figures[("E1", MON, MON + days(6))]["qa_score"].value


@pytest.mark.parametrize("employees", [2, 20])
def test_many_windows_in_one_query(employees, kpis, django_assert_num_queries):
    for n in range(employees):
        add(f"E{n}", "qa_score", MON, 80 + n, weight=2)
        add(f"E{n}", "qa_score", MON + days(5), 90, weight=2)
    windows = [(f"E{n}", MON, MON + days(6)) for n in range(employees)]
    windows.append(("E0", MON + days(3), MON + days(9)))  # the same employee, a later week
    windows.append(("NODATA", MON, MON + days(6)))

    with django_assert_num_queries(1):
        figures = windows_for(windows=windows, kpis=[kpis["qa_score"], kpis["csat"]])

    assert figures[("E1", MON, MON + days(6))]["qa_score"].value == 85.5
    assert figures[("E1", MON, MON + days(6))]["qa_score"].weight == 4
    assert figures[("E0", MON + days(3), MON + days(9))]["qa_score"].value == 90
    assert figures[("E1", MON, MON + days(6))]["csat"].value is None
    assert figures[("NODATA", MON, MON + days(6))]["qa_score"].samples == 0
    for employee, start, end in windows:
        alone = window_means(
            employee_id=employee, kpi_ids=[kpis["qa_score"].pk], start=start, end=end
        )
        assert figures[(employee, start, end)]["qa_score"].value == alone[kpis["qa_score"].pk]


def test_below_standard_for_several_kpis_in_one_query(kpis, django_assert_num_queries):
    # Whole weeks from 3 March; "today" is in the week of 7 April, so the last whole week is
    # 31 March and a twelve-week look-back reaches 13 January.
    today = dt.date(2025, 4, 9)
    weeks_of("qa_score", "E1", [80] * 5, MON)  # below 85 for five weeks in a row
    weeks_of("aht", "E1", [290, 290, 310, 320, 290], MON)  # twice in the last four, not last
    weeks_of("qa_score", "E2", [90] * 5, MON)
    weeks_of("aht", "E3", [400], MON)  # only long before the last four weeks

    with django_assert_num_queries(1):
        found = below_standard_by_kpi(
            kpis=[kpis["qa_score"], kpis["aht"]],
            employee_ids=["E1", "E2", "E3"],
            weeks_below=2,
            of_last=4,
            streak_weeks=12,
            today=today,
        )

    assert set(found) == {("E1", "qa_score"), ("E1", "aht")}
    qa = found[("E1", "qa_score")]
    assert (qa.weeks_below, qa.streak, qa.since, len(qa.weeks)) == (4, 5, MON, 4)
    aht = found[("E1", "aht")]
    assert (aht.weeks_below, aht.streak, aht.since) == (2, 0, None)
    # The same judgement as the one-KPI question, over the same four weeks.
    one = below_standard(kpi=kpis["qa_score"], employee_ids=["E1"], today=today)["E1"]
    assert (one.weeks, one.weeks_below, one.flagged) == (qa.weeks, qa.weeks_below, True)
