"""How a plan's KPI-linked expectations are going, and which agents are below standard.

Plans ask `metrics` for the numbers; the verdicts (on track, below standard for how long) are
made here. `expectation_progress` is what the plan page and the PDF both draw, so they show the
same picture: the baseline frozen at issue, the latest week, the trend, on track or not, and a
server-side SVG chart of the weekly values against the target line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from metrics.charts import weekly_chart_svg
from metrics.models import Kpi
from metrics.queries import (
    WeekPoint,
    below_standard_by_kpi,
    week_start,
    weekly_series_by_kpi,
)
from pips.content import ExpectationData, PlanContent
from pips.models import Agent, Comparator, Expectation, Pip, PipVersion
from pips.selectors import standard_display

# Weeks of data before the plan shown on its charts, for context, when no baseline range is set.
WEEKS_BEFORE = 4
# Within this share of the target, a change from one week to the next counts as steady.
STEADY_SHARE = 0.005

# The "below standard" rule: worse than the KPI's standard in at least BELOW_WEEKS of the last
# OF_LAST whole weeks (the current, partial week is left out; a week without data is not below).
BELOW_WEEKS = 2
OF_LAST = 4
# How far back "below for how long" looks.
STREAK_WEEKS = 12


# --- A plan's expectations -----------------------------------------------------------------


class Trend:
    IMPROVING = "improving"
    WORSENING = "worsening"
    STEADY = "steady"
    UNKNOWN = ""


TREND_LABELS = {
    Trend.IMPROVING: gettext_lazy("Improving"),
    Trend.WORSENING: gettext_lazy("Getting worse"),
    Trend.STEADY: gettext_lazy("Steady"),
    Trend.UNKNOWN: gettext_lazy("Not enough data"),
}


@dataclass(frozen=True)
class ExpectationProgress:
    """One KPI-linked expectation against the agent's weekly data."""

    expectation: Expectation
    kpi: Kpi
    weeks: tuple[WeekPoint, ...]  # every week with data in the chart's range, oldest first
    latest: WeekPoint | None  # the latest week with data since the plan started
    previous: WeekPoint | None  # the week with data before it, since the plan started
    trend: str
    on_track: bool | None  # None: no data since the plan started
    svg: str

    @property
    def target(self) -> float | None:
        return self.expectation.target

    @property
    def baseline(self) -> float | None:
        return self.expectation.baseline_value

    @property
    def lower_is_better(self) -> bool:
        return self.expectation.comparator == Comparator.LTE

    @property
    def baseline_display(self) -> str:
        return self.kpi.format_value(self.baseline)

    @property
    def latest_display(self) -> str:
        return self.kpi.format_value(self.latest.value if self.latest else None)

    @property
    def standard_display(self) -> str:
        return self.expectation.standard_display()

    @property
    def trend_label(self) -> str:
        return TREND_LABELS[self.trend]

    @property
    def status_label(self) -> str:
        if self.on_track is None:
            return _("No data yet")
        return _("On track") if self.on_track else _("Off track")


def expectation_progress(
    version: PipVersion, employee_id: str, today: dt.date | None = None
) -> list[ExpectationProgress]:
    """Progress of each KPI-linked expectation of a version, in the plan's order. One query for
    every KPI of the plan (pass a version whose `expectations__kpi` are prefetched, as
    `selectors.version_with_sections` does, to keep it at one)."""
    today = today or timezone.localdate()
    rows = [e for e in version.expectations.all() if e.kpi_id is not None]
    if not rows:
        return []
    plan_start = week_start(version.period_start)
    start = min(
        week_start(e.baseline_from or version.period_start - dt.timedelta(weeks=WEEKS_BEFORE))
        for e in rows
    )
    end = min(today, version.period_end)
    series = (
        weekly_series_by_kpi(
            employee_id=employee_id, kpis=[e.kpi for e in rows], start=start, end=end
        )
        if end >= start
        else {}
    )
    result = []
    for expectation in rows:
        kpi = expectation.kpi
        weeks = tuple(series.get(kpi.code, ()))
        during = [week for week in weeks if week.week >= plan_start]
        latest = during[-1] if during else None
        previous = during[-2] if len(during) > 1 else None
        result.append(
            ExpectationProgress(
                expectation=expectation,
                kpi=kpi,
                weeks=weeks,
                latest=latest,
                previous=previous,
                trend=_trend(expectation, latest, previous),
                on_track=expectation.is_met(latest.value) if latest else None,
                svg=weekly_chart_svg(
                    weeks,
                    kpi=kpi,
                    target=expectation.target,
                    baseline=expectation.baseline_value,
                    period=(version.period_start, version.period_end),
                    title=expectation.area,
                    title_lang=version.language,
                ),
            )
        )
    return result


def _trend(expectation: Expectation, latest: WeekPoint | None, previous: WeekPoint | None) -> str:
    """The latest week against the one before (or, in the first week, the baseline), in the
    direction the expectation counts as better: down for AHT, up for QA."""
    if latest is None:
        return Trend.UNKNOWN
    before = previous.value if previous else expectation.baseline_value
    if before is None:
        return Trend.UNKNOWN
    change = latest.value - before
    scale = abs(expectation.target or before) or 1.0
    if abs(change) <= scale * STEADY_SHARE:
        return Trend.STEADY
    better = change < 0 if expectation.comparator == Comparator.LTE else change > 0
    return Trend.IMPROVING if better else Trend.WORSENING


# --- Agents below standard -------------------------------------------------------------------


@dataclass(frozen=True)
class KpiGap:
    """One KPI an agent has been below standard on."""

    kpi: Kpi
    weeks: tuple[WeekPoint | None, ...]  # the last OF_LAST whole weeks, oldest first
    weeks_below: int  # of those
    streak: int  # consecutive whole weeks below, counting back from last week
    since: dt.date | None  # the Monday of the first week of that streak

    @property
    def latest(self) -> WeekPoint | None:
        return next((week for week in reversed(self.weeks) if week is not None), None)

    # Computed once per gap, not at every mention in the home page's rows.
    @cached_property
    def latest_display(self) -> str:
        return self.kpi.format_value(self.latest.value if self.latest else None)

    @cached_property
    def standard_display(self) -> str:
        return standard_display(self.kpi)

    @cached_property
    def duration(self) -> str:
        """How long it has lasted: "3 weeks running", or "2 of the last 4 weeks"."""
        if self.streak:
            return ngettext("%(weeks)s week running", "%(weeks)s weeks running", self.streak) % {
                "weeks": self.streak
            }
        return _("%(weeks)s of the last 4 weeks") % {"weeks": self.weeks_below}


@dataclass(frozen=True)
class AgentBelowStandard:
    agent: Agent
    gaps: list[KpiGap]
    open_plan: Pip | None

    @property
    def longest(self) -> int:
        return max(gap.streak for gap in self.gaps)

    @cached_property
    def worst_gaps(self) -> list[KpiGap]:
        """The gaps, the longest-running first (then the most weeks below)."""
        return sorted(self.gaps, key=lambda gap: (-gap.streak, -gap.weeks_below))

    @property
    def start_url(self) -> str:
        """The new-plan page for this agent with the expectations taken from the gaps."""
        query = urlencode({"agent": self.agent.pk, "kpis": ",".join(g.kpi.code for g in self.gaps)})
        return f"{reverse('pips:new')}?{query}"


def agents_below_standard(
    agents: Sequence[Agent],
    kpis: Iterable[Kpi],
    plans: Iterable[Pip] = (),
    today: dt.date | None = None,
) -> list[AgentBelowStandard]:
    """The agents worse than a KPI's standard in at least BELOW_WEEKS of the last OF_LAST whole
    weeks (AHT: above it), with how long each has been, the longest first. One query for the
    whole team and every KPI (metrics.queries.below_standard_by_kpi); `plans` (already loaded)
    gives each agent's open plan."""
    kpis = [kpi for kpi in kpis if kpi.standard is not None]
    if not agents or not kpis:
        return []
    found = below_standard_by_kpi(
        kpis=kpis,
        employee_ids=[agent.employee_id for agent in agents],
        weeks_below=BELOW_WEEKS,
        of_last=OF_LAST,
        streak_weeks=STREAK_WEEKS,
        today=today,
    )
    open_plans = {plan.agent_id: plan for plan in plans if plan.is_open()}
    result = []
    for agent in agents:
        gaps = [
            KpiGap(
                kpi=kpi,
                weeks=standing.weeks,
                weeks_below=standing.weeks_below,
                streak=standing.streak,
                since=standing.since,
            )
            for kpi in kpis
            if (standing := found.get((agent.employee_id, kpi.code))) is not None
        ]
        if gaps:
            result.append(AgentBelowStandard(agent, gaps, open_plans.get(agent.pk)))
    result.sort(key=lambda row: (-row.longest, -len(row.gaps), row.agent.full_name))
    return result


# --- A new plan from the gaps ----------------------------------------------------------------


def keep_gap_expectations(content: PlanContent, codes: Iterable[str], kpis: Sequence[Kpi]) -> None:
    """Narrow a template's content to the KPIs with gaps: their expectations (a row with the
    KPI's standard for a gap the template has no row for) and reasons, plus every qualitative
    row and reason. Unknown codes are ignored; no known code leaves the content as it is."""
    by_code = {kpi.code: kpi for kpi in kpis}
    wanted = [by_code[code] for code in dict.fromkeys(codes) if code in by_code]
    if not wanted:
        return
    ids = {kpi.pk for kpi in wanted}
    content.expectations = [e for e in content.expectations if e.kpi_id is None or e.kpi_id in ids]
    present = {e.kpi_id for e in content.expectations}
    # The row's area is the plan's own text: the KPI's name in the language it is written in.
    with translation.override(content.language or translation.get_language()):
        areas = {kpi.pk: kpi.display_name for kpi in wanted}
    extra = [
        ExpectationData(
            area=areas[kpi.pk],
            kpi_id=kpi.pk,
            comparator=Comparator.LTE if kpi.lower_is_better else Comparator.GTE,
            target=kpi.standard,
        )
        for kpi in wanted
        if kpi.pk not in present and kpi.standard is not None
    ]
    qualitative = [e for e in content.expectations if e.kpi_id is None]
    linked = [e for e in content.expectations if e.kpi_id is not None]
    content.expectations = linked + extra + qualitative
    content.reasons = [r for r in content.reasons if r.kpi_id is None or r.kpi_id in ids]
