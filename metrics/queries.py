"""Every KPI figure: window means, weekly series and "below standard" streaks. Plans ask these
functions for an employee's numbers and never compute them again.

Every mean is weighted by `Sample.weight` (calls, surveys…), so a day with 40 calls counts 40
times as much as a day with one. Weeks are ISO weeks starting on Monday and are identified by
their Monday. Figures over many weeks (weekly series, "below standard") read whole weeks from
the weekly totals (`WeeklyTotal`, kept equal to the samples by `metrics.rollups`) and only the
days of a partial week from the samples; windows of days read the samples. Each function runs a
constant number of queries whatever the number of employees, and they accept a `Kpi` or a KPI
code (a code is joined in the same query, not looked up).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from metrics.models import Direction, Kpi, Sample, WeeklyTotal

KpiRef = Kpi | str


@dataclass(frozen=True, slots=True)
class WindowValue:
    """One KPI over a date window; `value` is None when there is no sample in it."""

    kpi: str
    start: date
    end: date
    value: float | None
    weight: float
    samples: int


@dataclass(frozen=True, slots=True)
class WeekPoint:
    week: date  # the Monday
    value: float
    weight: float
    samples: int


@dataclass(frozen=True, slots=True)
class BelowStandard:
    """An employee's last weeks against a target, oldest first (None: no data that week)."""

    employee_id: str
    kpi: str
    target: float
    direction: str
    weeks: tuple[WeekPoint | None, ...]
    weeks_below: int
    streak: int  # consecutive weeks below, counting back from the latest
    flagged: bool  # below in at least the required number of weeks
    since: date | None = None  # the Monday of the first week of the streak

    @property
    def latest(self) -> WeekPoint | None:
        return next((week for week in reversed(self.weeks) if week is not None), None)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def is_below(value: float, target: float, direction: str) -> bool:
    """Worse than the target; meeting it exactly is not below."""
    return value > target if direction == Direction.LOWER else value < target


def window_means(
    *, employee_id: str, kpi_ids: Iterable[int], start: date, end: date
) -> dict[int, float | None]:
    """The mean of each KPI (by id) for one employee from `start` to `end` inclusive, in one
    query: what a plan's baselines, check-ins and reviews show. None without samples."""
    ids = sorted(set(kpi_ids))
    values: dict[int, float | None] = dict.fromkeys(ids)
    if not ids or end < start:
        return values
    rows = (
        Sample.objects.filter(
            employee_id=employee_id, kpi_id__in=ids, date__gte=start, date__lte=end
        )
        .values("kpi_id")
        .annotate(**_TOTALS)
        .order_by()
    )
    for row in rows:
        values[row["kpi_id"]] = _mean(row)[0]
    return values


def windows_for(
    *, windows: Iterable[tuple[str, date, date]], kpis: Iterable[KpiRef]
) -> dict[tuple[str, date, date], dict[str, WindowValue]]:
    """Many (employee_id, start, end) windows at once, each with every KPI asked for, in one
    aggregate query: daily totals over the span of all the windows, summed per window here
    (a reminder run's numbers for every plan)."""
    windows = list(dict.fromkeys(windows))
    kpis = list(kpis)
    result = {
        window: {_code(k): WindowValue(_code(k), window[1], window[2], None, 0.0, 0) for k in kpis}
        for window in windows
    }
    if not windows or not kpis:
        return result
    daily: dict[tuple[str, str], list[tuple[date, dict]]] = defaultdict(list)
    rows = (
        _samples_of(kpis, min(w[1] for w in windows), max(w[2] for w in windows))
        .filter(employee_id__in={w[0] for w in windows})
        .values("employee_id", "kpi__code", "date")
        .annotate(**_TOTALS)
        .order_by()
    )
    for row in rows:
        daily[(row["employee_id"], row["kpi__code"])].append((row["date"], row))
    for window in windows:
        employee_id, start, end = window
        for code in result[window]:
            days = [row for day, row in daily[(employee_id, code)] if start <= day <= end]
            totals = {
                "weighted": sum(row["weighted"] for row in days),
                "total_weight": sum(row["total_weight"] for row in days),
                "samples": sum(row["samples"] for row in days),
            }
            result[window][code] = WindowValue(code, start, end, *_mean(totals))
    return result


def weekly_series_by_kpi(
    *, employee_id: str, kpis: Iterable[KpiRef], start: date, end: date
) -> dict[str, list[WeekPoint]]:
    """The weekly series of several KPIs for one employee in one query (a plan's charts): the
    whole weeks from the weekly totals, a partial week at either end from its samples."""
    kpis = list(kpis)
    series: dict[str, list[WeekPoint]] = {_code(kpi): [] for kpi in kpis}
    if end < start:
        return series
    # [first, after): the whole weeks inside [start, end].
    first = week_start(start + timedelta(days=6))
    after = week_start(end + timedelta(days=1))
    days = Sample.objects.filter(
        _kpi_filter(kpis), employee_id=employee_id, date__gte=start, date__lte=end
    )
    if first < after:
        days = days.exclude(date__gte=first, date__lt=after)
    rows = days.values(code=F("kpi__code"), monday=TruncWeek("date")).annotate(**_TOTALS)
    if first < after:
        weeks = (
            WeeklyTotal.objects.filter(
                _kpi_filter(kpis), employee_id=employee_id, week__gte=first, week__lt=after
            )
            .values(code=F("kpi__code"), monday=F("week"))
            .annotate(**_WEEK_TOTALS)
        )
        rows = rows.union(weeks, all=True)
    for row in sorted(rows, key=lambda row: (row["code"], _day(row["monday"]))):
        series[row["code"]].append(WeekPoint(_day(row["monday"]), *_mean(row)))
    return series


def team_window(
    *,
    employee_ids: Iterable[str],
    start: date,
    end: date,
    kpis: Iterable[KpiRef] | None = None,
) -> dict[str, dict[str, float]]:
    """{employee_id: {kpi_code: weighted mean}} over a window for a team, in one query.
    Employees or KPIs without samples in the window are absent."""
    samples = Sample.objects.filter(
        employee_id__in=list(employee_ids), date__gte=start, date__lte=end
    )
    if kpis is not None:
        samples = samples.filter(_kpi_filter(list(kpis)))
    result: dict[str, dict[str, float]] = defaultdict(dict)
    for row in samples.values("employee_id", "kpi__code").annotate(**_TOTALS).order_by():
        value = _mean(row)[0]
        if value is not None:
            result[row["employee_id"]][row["kpi__code"]] = value
    return dict(result)


def below_standard(
    *,
    kpi: KpiRef,
    employee_ids: Iterable[str] | None = None,
    weeks_below: int = 2,
    of_last: int = 4,
    target: float | None = None,
    direction: str | None = None,
    today: date | None = None,
) -> dict[str, BelowStandard]:
    """Who has been worse than `target` in at least `weeks_below` of the last `of_last` whole
    weeks (the current, partial week is left out), for a whole team in two queries.

    `target` and `direction` default to the KPI's standard and direction. A week without data
    is not counted as below. Every employee with data in those weeks is returned; filter on
    `flagged`. `employee_ids=None` means everyone (served by the (kpi, date) index).
    """
    if isinstance(kpi, str) or target is None or direction is None:
        kpi = kpi if isinstance(kpi, Kpi) else Kpi.objects.get(code=kpi)
        target = kpi.standard if target is None else target
        direction = kpi.direction if direction is None else direction
    if target is None:
        raise ValueError(f"{kpi.code} has no standard: pass a target")
    found = _below(
        {kpi.code: (kpi, target, direction)},
        employee_ids=employee_ids,
        weeks_below=weeks_below,
        of_last=of_last,
        streak_weeks=of_last,
        today=today,
    )
    return {employee_id: standing for (employee_id, _), standing in found.items()}


def below_standard_by_kpi(
    *,
    kpis: Iterable[Kpi],
    employee_ids: Iterable[str],
    weeks_below: int = 2,
    of_last: int = 4,
    streak_weeks: int | None = None,
    today: date | None = None,
) -> dict[tuple[str, str], BelowStandard]:
    """`below_standard` for several KPIs against each one's own standard, in one query, by
    (employee_id, KPI code); only the flagged ones. The streak is counted back over
    `streak_weeks` whole weeks (at least `of_last`), so it can say how long it has lasted."""
    wanted = {k.code: (k, k.standard, k.direction) for k in kpis if k.standard is not None}
    if not wanted:
        return {}
    found = _below(
        wanted,
        employee_ids=employee_ids,
        weeks_below=weeks_below,
        of_last=of_last,
        streak_weeks=max(streak_weeks or of_last, of_last),
        today=today,
    )
    return {key: standing for key, standing in found.items() if standing.flagged}


def _below(
    wanted: dict[str, tuple[Kpi, float, str]],
    *,
    employee_ids: Iterable[str] | None,
    weeks_below: int,
    of_last: int,
    streak_weeks: int,
    today: date | None,
) -> dict[tuple[str, str], BelowStandard]:
    last = week_start(today or timezone.localdate()) - timedelta(weeks=1)
    mondays = [last - timedelta(weeks=n) for n in range(streak_weeks - 1, -1, -1)]
    # Whole weeks only: the weekly totals, one row per employee, KPI and week.
    totals = WeeklyTotal.objects.filter(
        kpi_id__in=[kpi.pk for kpi, _, _ in wanted.values()],
        week__gte=mondays[0],
        week__lte=last,
    )
    if employee_ids is not None:
        totals = totals.filter(employee_id__in=list(employee_ids))
    weekly: dict[tuple[str, str], dict[date, WeekPoint]] = defaultdict(dict)
    rows = totals.values("employee_id", "week", code=F("kpi__code"), **_ROW_TOTALS)
    for row in rows:
        week = _day(row["week"])
        weekly[row["employee_id"], row["code"]][week] = WeekPoint(week, *_mean(row))

    result = {}
    for (employee_id, code), points in weekly.items():
        kpi, target, direction = wanted[code]
        weeks = [points.get(monday) for monday in mondays]
        below = [p is not None and is_below(p.value, target, direction) for p in weeks]
        recent = below[-of_last:]
        streak = next((n for n, flag in enumerate(reversed(below)) if not flag), len(below))
        result[employee_id, code] = BelowStandard(
            employee_id=employee_id,
            kpi=code,
            target=target,
            direction=direction,
            weeks=tuple(weeks[-of_last:]),
            weeks_below=sum(recent),
            streak=streak,
            flagged=sum(recent) >= weeks_below,
            since=mondays[-streak] if streak else None,
        )
    return result


# --- Internals -------------------------------------------------------------------------------

_TOTALS = {
    "weighted": Sum(F("value") * F("weight")),
    "total_weight": Sum("weight"),
    "samples": Count("*"),
}


# The same sums from the weekly totals: grouped, or one week's row as it stands.
_WEEK_TOTALS = {
    "weighted": Sum("weighted_sum"),
    "total_weight": Sum("weight_sum"),
    "samples": Sum("sample_count"),
}
_ROW_TOTALS = {
    "weighted": F("weighted_sum"),
    "total_weight": F("weight_sum"),
    "samples": F("sample_count"),
}


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _mean(row: dict) -> tuple[float | None, float, int]:
    weight = row["total_weight"] or 0.0
    # Rounded so that a mean of exact 85s compares equal to a target of 85.
    value = round(row["weighted"] / weight, 6) if weight else None
    return value, weight, row["samples"]


def _code(kpi: KpiRef) -> str:
    return kpi.code if isinstance(kpi, Kpi) else kpi


def _kpi_filter(kpis: list[KpiRef]) -> Q:
    codes = [k for k in kpis if isinstance(k, str)]
    ids = [k.pk for k in kpis if isinstance(k, Kpi)]
    if codes and ids:
        return Q(kpi__code__in=codes) | Q(kpi_id__in=ids)
    return Q(kpi__code__in=codes) if codes else Q(kpi_id__in=ids)


def _samples_of(kpis: list[KpiRef], start: date, end: date):
    return Sample.objects.filter(_kpi_filter(kpis), date__gte=start, date__lte=end)
