"""HR's consistency page at the size of a large company: a page of teams and a page of
supervisors at a time, totals over everything, the same figures as counting agent by agent,
no COUNT(DISTINCT …) (it spilled to disk at 50,000 agents), and the CSV with every row."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pips import stats
from pips.models import Agent, Pip, Team


@pytest.fixture
def company(postgres):
    call_command(
        "seed_scale",
        "--prefix",
        "st",
        "--skip-demo",
        "--teams",
        "60",
        "--agents",
        "240",
        "--plans",
        "120",
        "--hr",
        "1",
        "--sample-days",
        "0",
        "--views",
        "0",
        "--big-plan-views",
        "0",
        "--notifications",
        "0",
        stdout=io.StringIO(),
    )
    # Some agents leave: they no longer count, nor do their plans count as "on a plan".
    leavers = list(Agent.objects.order_by("pk").values_list("pk", flat=True)[:30])[::7]
    Agent.objects.filter(pk__in=leavers).update(is_active=False)
    return User.objects.get(username="st-hr-1")


def expected_by_team() -> dict[int, tuple[int, int, int]]:
    """(active agents, active agents on a plan now, plans) per team, counted one by one."""
    active = {a.pk: a.team_id for a in Agent.objects.filter(is_active=True)}
    on_plan = {p.agent_id for p in Pip.objects.filter(status__in=stats.ON_PLAN)}
    agents = Counter(active.values())
    on = Counter(team for agent, team in active.items() if agent in on_plan)
    plans = Counter(Pip.objects.values_list("agent__team", flat=True))
    return {t.pk: (agents[t.pk], on[t.pk], plans[t.pk]) for t in Team.objects.all()}


def test_a_page_of_teams_and_of_supervisors_with_totals_over_all(company):
    with CaptureQueriesContext(connection) as captured:
        figures = stats.consistency()
    assert not any("COUNT(DISTINCT" in q["sql"].upper() for q in captured.captured_queries)
    assert len(figures.teams) == stats.PAGE_SIZE
    assert figures.team_page.paginator.count == 60
    assert len(figures.supervisors) == stats.PAGE_SIZE
    expected = expected_by_team()
    for row in figures.teams:
        assert (row.agents, row.on_plan, row.plans) == expected[row.key]
    assert figures.total.agents == sum(v[0] for v in expected.values())
    assert figures.total.on_plan == sum(v[1] for v in expected.values())
    assert figures.total.plans == Pip.objects.count()
    second = stats.consistency(team_page=2, supervisor_page=2)
    assert len(second.teams) == 10
    assert {r.key for r in second.teams}.isdisjoint({r.key for r in figures.teams})
    names = [r.name for r in figures.teams + second.teams]
    assert names == sorted(names)


def test_the_page_links_keep_the_filters(client, company):
    client.force_login(company)
    response = client.get("/pips/stats/?created_from=2000-01-01&tpage=2")
    assert response.status_code == 200
    html = response.content.decode()
    assert len(response.context["figures"].teams) == 10
    assert "?created_from=2000-01-01&amp;tpage=1" in html
    assert "?created_from=2000-01-01&amp;spage=2&amp;tpage=2" in html


def test_the_csv_has_every_team_and_supervisor(client, company):
    client.force_login(company)
    response = client.get("/pips/stats/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    groups = Counter(row[0] for row in rows[1:])
    assert groups["team"] == 60
    assert groups["supervisor"] == 60
