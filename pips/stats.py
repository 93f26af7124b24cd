"""HR's consistency figures: plans per team and per supervisor, their outcomes, how long they
took to close, and the share of agents on a plan, so that standards can be seen to apply fairly.
A constant number of queries whatever the number of plans (each table is one grouped query)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from pips.models import OPEN_STATUSES, RUNNING_STATUSES, Agent, Pip, Status, Team

# An agent is "on a plan" from issue until the plan closes.
ON_PLAN = sorted(RUNNING_STATUSES | {Status.ISSUED})
CLOSED = [Status.CLOSED_SUCCESSFUL, Status.CLOSED_UNSUCCESSFUL]
# Cells a spreadsheet would read as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class StatsRow:
    key: int | None
    name: str
    agents: int
    on_plan: int
    plans: int
    open: int
    successful: int
    extended: int
    unsuccessful: int
    cancelled: int
    avg_days: float | None  # issue to close, of plans closed successful or unsuccessful

    @property
    def share_on_plan(self) -> float | None:
        return self.on_plan / self.agents * 100 if self.agents else None


@dataclass(frozen=True)
class Consistency:
    teams: list[StatsRow]
    supervisors: list[StatsRow]
    total: StatsRow


_PLAN_COUNTS = {
    "plans": Count("id"),
    "open": Count("id", filter=Q(status__in=sorted(OPEN_STATUSES))),
    "successful": Count("id", filter=Q(status=Status.CLOSED_SUCCESSFUL)),
    "extended": Count("id", filter=Q(extension_count__gt=0)),
    "unsuccessful": Count("id", filter=Q(status=Status.CLOSED_UNSUCCESSFUL)),
    "cancelled": Count("id", filter=Q(status=Status.CANCELLED)),
    "avg_duration": Avg(
        ExpressionWrapper(F("closed_at") - F("issued_at"), output_field=DurationField()),
        filter=Q(status__in=CLOSED, issued_at__isnull=False, closed_at__isnull=False),
    ),
}
_AGENT_COUNTS = {
    "agents": Count("id", distinct=True),
    "on_plan": Count("id", filter=Q(pips__status__in=ON_PLAN), distinct=True),
}


def plans_in(
    *, created_from: dt.date | None = None, created_to: dt.date | None = None, team=None
) -> QuerySet[Pip]:
    plans = Pip.objects.all()
    if created_from:
        plans = plans.filter(created_at__date__gte=created_from)
    if created_to:
        plans = plans.filter(created_at__date__lte=created_to)
    if team is not None:
        plans = plans.filter(agent__team=team)
    return plans


def consistency(
    *, created_from: dt.date | None = None, created_to: dt.date | None = None, team=None
) -> Consistency:
    """Four grouped queries: plans and agents, by team and by supervisor. Agent counts are of
    today (active agents, and those on a plan now); plan counts are of the plans created in the
    date range."""
    plans = plans_in(created_from=created_from, created_to=created_to, team=team).order_by()
    agents = Agent.objects.filter(is_active=True).order_by()
    if team is not None:
        agents = agents.filter(team=team)

    by_team = {r["agent__team"]: r for r in plans.values("agent__team").annotate(**_PLAN_COUNTS)}
    active = Q(agents__is_active=True)
    team_rows = Team.objects.order_by("name").annotate(
        n_agents=Count("agents", filter=active, distinct=True),
        n_on_plan=Count(
            "agents", filter=active & Q(agents__pips__status__in=ON_PLAN), distinct=True
        ),
    )
    if team is not None:
        team_rows = team_rows.filter(pk=team.pk)
    teams = [
        _row(t.pk, t.name, {"agents": t.n_agents, "on_plan": t.n_on_plan}, by_team.get(t.pk, {}))
        for t in team_rows
    ]

    names = ("supervisor__first_name", "supervisor__last_name", "supervisor__username")
    by_supervisor = {
        r["supervisor"]: r for r in plans.values("supervisor", *names).annotate(**_PLAN_COUNTS)
    }
    supervisor_agents = {
        r["supervisor"]: r
        for r in agents.filter(supervisor__isnull=False)
        .values("supervisor", *names)
        .annotate(**_AGENT_COUNTS)
    }
    supervisors = [
        _row(key, _person(r), supervisor_agents.get(key, r), by_supervisor.get(key, {}))
        for key, r in {**supervisor_agents, **by_supervisor}.items()
    ]
    supervisors.sort(key=lambda row: row.name.casefold())
    return Consistency(teams, supervisors, _sum(teams))


def _person(row: dict) -> str:
    full = f"{row['supervisor__first_name']} {row['supervisor__last_name']}".strip()
    return full or row["supervisor__username"] or "—"


def _row(key, name: str, agent_counts: dict, plan_counts: dict) -> StatsRow:
    duration = plan_counts.get("avg_duration")
    return StatsRow(
        key=key,
        name=name,
        agents=agent_counts.get("agents", 0),
        on_plan=agent_counts.get("on_plan", 0),
        plans=plan_counts.get("plans", 0),
        open=plan_counts.get("open", 0),
        successful=plan_counts.get("successful", 0),
        extended=plan_counts.get("extended", 0),
        unsuccessful=plan_counts.get("unsuccessful", 0),
        cancelled=plan_counts.get("cancelled", 0),
        avg_days=duration.total_seconds() / 86400 if duration is not None else None,
    )


def _sum(rows: list[StatsRow]) -> StatsRow:
    closed = [(r.avg_days, r.successful + r.unsuccessful) for r in rows if r.avg_days is not None]
    weight = sum(n for _, n in closed)
    return StatsRow(
        key=None,
        name="All teams",
        agents=sum(r.agents for r in rows),
        on_plan=sum(r.on_plan for r in rows),
        plans=sum(r.plans for r in rows),
        open=sum(r.open for r in rows),
        successful=sum(r.successful for r in rows),
        extended=sum(r.extended for r in rows),
        unsuccessful=sum(r.unsuccessful for r in rows),
        cancelled=sum(r.cancelled for r in rows),
        avg_days=sum(d * n for d, n in closed) / weight if weight else None,
    )


CSV_HEADER = [
    "group",
    "name",
    "agents",
    "agents on a plan",
    "share on a plan (%)",
    "plans",
    "open",
    "closed successful",
    "extended",
    "closed unsuccessful",
    "cancelled",
    "average days to close",
]


def csv_rows(figures: Consistency) -> Iterable[list]:
    yield CSV_HEADER
    for group, rows in (("team", figures.teams), ("supervisor", figures.supervisors)):
        for r in rows:
            yield [
                group,
                r.name,
                r.agents,
                r.on_plan,
                "" if r.share_on_plan is None else f"{r.share_on_plan:.1f}",
                r.plans,
                r.open,
                r.successful,
                r.extended,
                r.unsuccessful,
                r.cancelled,
                "" if r.avg_days is None else f"{r.avg_days:.1f}",
            ]


def neutralise(cell) -> str | int:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell
