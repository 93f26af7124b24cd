"""The agent's numbers at a check-in or a review, taken from the KPI data, and what the data
suggests (met, on track) before the supervisor confirms it.

Every value is the weighted mean of the daily samples over a window, as metrics computes it
(`metrics.queries.window_means`, all of a plan's KPIs in one query). A plan's baseline is the
same mean over the BASELINE_DAYS before the plan is drafted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from metrics.queries import window_means
from pips.models import (
    ActionItem,
    CheckIn,
    DeadlineKind,
    Expectation,
    Pip,
    PipVersion,
    Review,
    ReviewItem,
    ScheduleItem,
)

# A plan's baseline: the agent's numbers over the last 30 full days before it is drafted.
BASELINE_DAYS = 30


@dataclass(frozen=True)
class Baseline:
    value: float | None
    start: dt.date
    end: dt.date
    source: str


def baseline_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The BASELINE_DAYS full days before `today`."""
    end = today - dt.timedelta(days=1)
    return end - dt.timedelta(days=BASELINE_DAYS - 1), end


def baselines(employee_id: str, kpi_ids: Iterable[int], today: dt.date) -> dict[int, Baseline]:
    """Each KPI's baseline for an employee, in one query, with where it came from."""
    start, end = baseline_window(today)
    values = window_means(employee_id=employee_id, kpi_ids=kpi_ids, start=start, end=end)
    source = f"KPI data, {start:%d %b %Y} – {end:%d %b %Y}"
    return {
        kpi_id: Baseline(value, start, end, source if value is not None else "")
        for kpi_id, value in values.items()
    }


# A review judges the agent's recent performance: the last two weeks up to the review.
REVIEW_WINDOW_DAYS = 14


def _kpi_rows(version: PipVersion) -> list[Expectation]:
    """The KPI-linked expectations of a version (use a version whose expectations__kpi are
    prefetched to keep this free of queries)."""
    return [e for e in version.expectations.all() if e.kpi_id is not None]


# --- check-ins ---------------------------------------------------------------------------------


def last_held_on(pip: Pip, before: dt.date) -> dt.date | None:
    """The day of the last check-in held before a date (missed ones have no numbers)."""
    return (
        CheckIn.objects.filter(pip=pip, state=CheckIn.State.HELD, held_on__lt=before)
        .order_by("-held_on")
        .values_list("held_on", flat=True)
        .first()
    )


def checkin_window(pip: Pip, version: PipVersion, held_on: dt.date) -> tuple[dt.date, dt.date]:
    """The period a check-in reports on: from the day after the last check-in held (or the
    start of the plan) to the day of this one. Consecutive check-ins tile the plan."""
    last = last_held_on(pip, held_on)
    start = last + dt.timedelta(days=1) if last else version.period_start
    return min(start, held_on), held_on


def checkin_snapshot(*, pip: Pip, version: PipVersion, start: dt.date, end: dt.date) -> list[dict]:
    """One entry per KPI-linked expectation: the KPI, the window, the value the data gives
    for it, the target and whether it is met. Stored on the check-in as the data stood."""
    rows = _kpi_rows(version)
    values = window_means(
        employee_id=pip.agent.employee_id, kpi_ids=[e.kpi_id for e in rows], start=start, end=end
    )
    snapshot = []
    for expectation in rows:
        kpi = expectation.kpi
        value = values[expectation.kpi_id]
        snapshot.append(
            {
                "expectation": expectation.pk,
                "area": expectation.area,
                "kpi": kpi.code,
                "name": kpi.name,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "value": value,
                "formatted": kpi.format_value(value),
                "target": expectation.target,
                "standard": expectation.standard_display(),
                "met": expectation.is_met(value),
            }
        )
    return snapshot


def snapshot_window(snapshot: list[dict]) -> tuple[dt.date, dt.date] | None:
    """The period a stored snapshot covers (every entry shares it)."""
    if not snapshot or "from" not in snapshot[0]:
        return None
    return dt.date.fromisoformat(snapshot[0]["from"]), dt.date.fromisoformat(snapshot[0]["to"])


def pending_checkin_dates(pip: Pip) -> list[dt.date]:
    """Scheduled check-ins not yet recorded (held or missed) and not cancelled."""
    return list(
        ScheduleItem.objects.filter(
            pip=pip,
            kind=ScheduleItem.Kind.CHECKIN,
            done_at__isnull=True,
            cancelled_at__isnull=True,
        )
        .order_by("due_on")
        .values_list("due_on", flat=True)
        .distinct()
    )


def session_days(action: ActionItem, start: dt.date, end: dt.date) -> list[dt.date]:
    """The days in [start, end] a recurring session could have been held on, to tick: its
    weekdays for "every Tuesday & Friday", the working days for "weekly". Days with a session
    already recorded are left out (use an action whose sessions are prefetched)."""
    if not action.records_sessions or end < start:
        return []
    weekdays = set(action.recurrence_weekdays or [])
    if action.deadline_kind != DeadlineKind.RECURRING or not weekdays:
        weekdays = {0, 1, 2, 3, 4}
    recorded = {s.held_on for s in action.sessions.all()}
    days = []
    day = start
    while day <= end:
        if day.weekday() in weekdays and day not in recorded:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


# --- reviews -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    """One expectation at a review: the numbers, what they suggest and the evidence text."""

    expectation: Expectation
    value: float | None
    start: dt.date | None
    end: dt.date | None
    suggested: bool | None
    evidence: str

    @property
    def formatted(self) -> str:
        if self.expectation.kpi_id is None:
            return "—"
        return self.expectation.kpi.format_value(self.value)


def review_as_of(review: Review, today: dt.date) -> dt.date:
    """The last day a review counts: its day (a review recorded late still judges the plan as
    it stood then), or today if earlier, and never after the review period."""
    return min(today, review.due_on, review.version.period_end)


def review_window(version: PipVersion, as_of: dt.date) -> tuple[dt.date, dt.date]:
    start = max(version.period_start, as_of - dt.timedelta(days=REVIEW_WINDOW_DAYS - 1))
    return start, as_of


def progress(expectation: Expectation, value: float | None) -> float | None:
    """The share of the gap between baseline and target closed (1.0 = target reached);
    None without a value or a baseline on the wrong side of the target."""
    baseline, target = expectation.baseline_value, expectation.target
    if value is None or baseline is None or target is None:
        return None
    gap = target - baseline
    wrong_side = gap <= 0 if expectation.comparator == "gte" else gap >= 0
    if wrong_side:
        return None
    return (value - baseline) / gap


def on_track(
    expectation: Expectation, value: float | None, *, version: PipVersion, as_of: dt.date
) -> bool | None:
    """At the midpoint: on track when the target is already met, or when the agent has closed
    at least the share of the gap that the share of the period elapsed calls for."""
    met = expectation.is_met(value)
    if met is None or met:
        return met
    share = progress(expectation, value)
    if share is None:
        return False
    elapsed = (as_of - version.period_start).days / max(version.period_days, 1)
    return share >= min(max(elapsed, 0.0), 1.0)


def _evidence(
    row_kind: str,
    expectation: Expectation,
    value: float | None,
    start: dt.date,
    end: dt.date,
    suggested: bool | None,
) -> str:
    kpi = expectation.kpi
    window = f"{start:%d %b %Y} – {end:%d %b %Y}"
    if value is None:
        return f"No {kpi.name} data for {window}."
    standard = expectation.standard_display()
    text = f"{kpi.name} {kpi.format_value(value)} for {window}; target {standard}"
    if expectation.baseline_value is not None:
        text += f", baseline {kpi.format_value(expectation.baseline_value)}"
    share = progress(expectation, value)
    if row_kind == Review.Kind.MIDPOINT and share is not None and not expectation.is_met(value):
        text += f"; {max(share, 0):.0%} of the gap closed"
    verdict = {
        (Review.Kind.MIDPOINT, True): "on track",
        (Review.Kind.MIDPOINT, False): "not on track",
        (Review.Kind.FINAL, True): "met",
        (Review.Kind.FINAL, False): "not met",
    }[(row_kind, bool(suggested))]
    return f"{text}: {verdict}."


def review_rows(*, pip: Pip, review: Review, today: dt.date) -> list[ReviewRow]:
    """Each expectation of the reviewed version with its current value from the data and the
    suggestion: on track at the midpoint, met at the final review. Qualitative rows have no
    numbers and no suggestion; the supervisor judges them."""
    version = review.version
    as_of = review_as_of(review, today)
    start, end = review_window(version, as_of)
    expectations = list(version.expectations.all())
    values = window_means(
        employee_id=pip.agent.employee_id,
        kpi_ids=[e.kpi_id for e in expectations if e.kpi_id],
        start=start,
        end=end,
    )
    rows = []
    for expectation in expectations:
        if expectation.kpi_id is None:
            rows.append(ReviewRow(expectation, None, None, None, None, ""))
            continue
        value = values[expectation.kpi_id]
        if review.kind == Review.Kind.MIDPOINT:
            suggested = on_track(expectation, value, version=version, as_of=as_of)
        else:
            suggested = expectation.is_met(value)
        evidence = _evidence(review.kind, expectation, value, start, end, suggested)
        rows.append(ReviewRow(expectation, value, start, end, suggested, evidence))
    return rows


def suggestions(rows: Iterable[ReviewRow]) -> dict[int, tuple[float | None, bool | None]]:
    """What services.midpoint_record / final_record store beside the supervisor's decision."""
    return {row.expectation.pk: (row.value, row.suggested) for row in rows}


@dataclass(frozen=True)
class RecordedRow:
    """A recorded review item with its value as supervisors read it (AHT as m:ss)."""

    item: ReviewItem

    @property
    def formatted(self) -> str:
        kpi = self.item.expectation.kpi
        return kpi.format_value(self.item.current_value) if kpi else "—"


def recorded_rows(review: Review) -> list[RecordedRow]:
    """The items of a recorded review (prefetch items__expectation__kpi to keep it free of
    queries)."""
    return [RecordedRow(item) for item in review.items.all()]
