"""HR's consistency figures: plans per team and per supervisor, their outcomes, how long they
took to close, and the share of agents on a plan, so that standards can be seen to apply fairly.
A constant number of queries whatever the number of plans, teams or agents: each table shows a
page of rows, and every count is grouped over that page's teams or supervisors (or summed over
all for the totals), with no COUNT(DISTINCT …)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pips.models import OPEN_STATUSES, RUNNING_STATUSES, Agent, Pip, Status, Team
from pips.roles import SUPERVISOR

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
    # The pages shown (None: every row, as the CSV export has them).
    team_page: Page | None = None
    supervisor_page: Page | None = None


# Rows per page of each table: a company has hundreds of teams and supervisors.
PAGE_SIZE = 50

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


def _on_plan() -> QuerySet[Pip]:
    """Plans that put their agent "on a plan" now. An agent has at most one open plan (a
    constraint) and every on-plan state is open, so counting these plans counts agents, with
    no COUNT(DISTINCT) and no join from agents to all their plans."""
    return Pip.objects.filter(status__in=ON_PLAN, agent__is_active=True).order_by()


def _grouped(queryset: QuerySet, key: str, **counts) -> dict:
    return {row[key]: row for row in queryset.order_by().values(key).annotate(**counts)}


def _counted(queryset: QuerySet, key: str) -> dict:
    return {k: row["n"] for k, row in _grouped(queryset, key, n=Count("id")).items()}


def consistency(
    *,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
    team=None,
    team_page: int | str | None = 1,
    supervisor_page: int | str | None = 1,
    everything: bool = False,
) -> Consistency:
    """The figures by team and by supervisor, a page of each (every row with ``everything``),
    and the totals. Agent counts are of today (active agents, and those on a plan now); plan
    counts are of the plans created in the date range. Each query is grouped over the rows of
    the page only, or summed over all for the totals: a constant number whatever the size."""
    plans = plans_in(created_from=created_from, created_to=created_to, team=team).order_by()
    agents = Agent.objects.filter(is_active=True).order_by()
    on_plan = _on_plan()
    if team is not None:
        agents = agents.filter(team=team)
        on_plan = on_plan.filter(agent__team=team)

    team_list = Team.objects.order_by("name", "pk")
    if team is not None:
        team_list = team_list.filter(pk=team.pk)
    tpage = None if everything else Paginator(team_list, PAGE_SIZE).get_page(team_page)
    shown_teams = list(team_list if tpage is None else tpage.object_list)
    ids = [t.pk for t in shown_teams]
    n_agents = _counted(agents.filter(team__in=ids), "team")
    n_on_plan = _counted(on_plan.filter(agent__team__in=ids), "agent__team")
    by_team = _grouped(plans.filter(agent__team__in=ids), "agent__team", **_PLAN_COUNTS)
    teams = [
        _row(
            t.pk,
            t.name,
            {"agents": n_agents.get(t.pk, 0), "on_plan": n_on_plan.get(t.pk, 0)},
            by_team.get(t.pk, {}),
        )
        for t in shown_teams
    ]

    # The supervisors (of the team's agents, with a team filter), and whoever owns a plan, by
    # name. Their ids are gathered first: an OR of two sub-queries over every user made
    # PostgreSQL scan all agents and users twice.
    User = get_user_model()
    if team is None:
        ids = set(User.objects.filter(groups__name=SUPERVISOR).values_list("pk", flat=True))
    else:
        ids = set(agents.exclude(supervisor=None).values_list("supervisor", flat=True).distinct())
    ids |= set(plans.values_list("supervisor", flat=True).distinct())
    people = User.objects.filter(pk__in=sorted(ids)).order_by(
        "first_name", "last_name", "username", "pk"
    )
    spage = None if everything else Paginator(people, PAGE_SIZE).get_page(supervisor_page)
    shown_people = list(people if spage is None else spage.object_list)
    ids = [u.pk for u in shown_people]
    s_agents = _counted(agents.filter(supervisor__in=ids), "supervisor")
    s_on_plan = _counted(on_plan.filter(agent__supervisor__in=ids), "agent__supervisor")
    by_supervisor = _grouped(plans.filter(supervisor__in=ids), "supervisor", **_PLAN_COUNTS)
    supervisors = [
        _row(
            u.pk,
            u.get_full_name() or u.get_username(),
            {"agents": s_agents.get(u.pk, 0), "on_plan": s_on_plan.get(u.pk, 0)},
            by_supervisor.get(u.pk, {}),
        )
        for u in shown_people
    ]

    total = _row(
        None,
        gettext("All teams"),
        {"agents": agents.count(), "on_plan": on_plan.count()},
        plans.aggregate(**_PLAN_COUNTS),
    )
    return Consistency(teams, supervisors, total, tpage, spage)


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


# The column headings, in the language of the person exporting; the group column holds
# the keys `team` and `supervisor`.
CSV_HEADER = [
    _("group"),
    _("name"),
    _("agents"),
    _("agents on a plan"),
    _("share on a plan (%)"),
    _("plans"),
    _("open"),
    _("closed successful"),
    _("extended"),
    _("closed unsuccessful"),
    _("cancelled"),
    _("average days to close"),
]


def csv_rows(figures: Consistency) -> Iterable[list]:
    yield [str(heading) for heading in CSV_HEADER]
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
