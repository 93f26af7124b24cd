"""HR's consistency page and its CSV export: plans per team and supervisor, outcomes, time to
close, share of agents on a plan; HR only; formulas neutralised; constant queries."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pips import services
from pips.models import Agent, AuditEvent, Pip, Team
from pips.stats import neutralise
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def plans(alex, blake, harper, make_plan, billing, sam):
    """Alex on an active plan; a second Billing agent whose plan closed after 20 days; Blake
    (Retention) on a draft."""
    active = make_plan(alex, "active", hr=harper)
    casey = Agent.objects.create(
        employee_id="E1002",
        full_name="Casey Nguyen",
        team=billing,
        supervisor=sam,
        user=make_user("casey", "Casey", "Nguyen"),
    )
    closed = make_plan(casey, "active", hr=harper)
    issued_at = timezone.now() - dt.timedelta(days=20)
    Pip.objects.filter(pk=closed.pk).update(
        status="closed_successful", issued_at=issued_at, closed_at=timezone.now()
    )
    draft = make_plan(blake, "draft", hr=harper)
    return active, closed, draft


def test_hr_sees_plans_per_team_and_supervisor(client, harper, plans):
    client.force_login(harper)
    response = client.get("/pips/stats/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    figures = response.context["figures"]
    teams = {row.name: row for row in figures.teams}
    billing = teams["Billing"]
    assert (billing.agents, billing.on_plan, billing.plans) == (2, 1, 2)
    assert (billing.open, billing.successful, billing.unsuccessful) == (1, 1, 0)
    assert billing.share_on_plan == 50
    assert billing.avg_days == pytest.approx(20, abs=0.01)
    retention = teams["Retention"]
    assert (retention.agents, retention.on_plan, retention.plans, retention.open) == (1, 0, 1, 1)
    supervisors = {row.name: row for row in figures.supervisors}
    assert supervisors["Sam Carter"].plans == 2 and supervisors["Olivia Brooks"].plans == 1
    assert (figures.total.agents, figures.total.plans) == (3, 3)
    body = response.content.decode()
    assert "By team" in body and "By supervisor" in body and "20.0" in body


def test_filters(client, harper, plans, billing):
    client.force_login(harper)
    figures = client.get(f"/pips/stats/?team={billing.name}").context["figures"]
    assert [row.name for row in figures.teams] == ["Billing"]
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    figures = client.get(f"/pips/stats/?created_from={tomorrow}").context["figures"]
    assert figures.total.plans == 0 and figures.total.agents == 3


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("created_from=2025-03-10&created_to=2025-03-01", "before its start"),
        ("created_from=yesterday", "Enter a date such as"),
        ("team=Nowhere", "No team called “Nowhere”"),
    ],
)
def test_bad_filters_are_explained(client, harper, plans, query, message):
    client.force_login(harper)
    response = client.get(f"/pips/stats/?{query}")
    assert response.status_code == 200 and message in response.content.decode()
    assert response.context["figures"].total.plans == 3  # unfiltered, not half-filtered
    export = client.get(f"/pips/stats/export.csv?{query}")
    assert export.status_code == 400 and message in export.content.decode()
    assert not AuditEvent.objects.filter(action="report_exported").exists()


def test_csv_export_is_recorded(client, harper, plans, billing):
    client.force_login(harper)
    response = client.get(f"/pips/stats/export.csv?team={billing.name}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="pip-consistency-')
    rows = read_csv(response)
    assert rows[0][:3] == ["group", "name", "agents"]
    assert ["team", "Billing", "2", "1", "50.0", "2", "1", "1", "0", "0", "0", "20.0"] in rows
    event = AuditEvent.objects.get(action="report_exported")
    assert (event.actor, event.pip, event.comment) == (harper, None, "consistency.csv")
    assert event.changes == {"filters": {"team": "Billing"}}


def test_csv_neutralises_formulas(client, harper, sam, make_plan):
    evil = Team.objects.create(name='=HYPERLINK("http://x.example","click")')
    sam.first_name, sam.last_name = "@SUM(A1:A9)", ""
    sam.save()
    for i, name in enumerate(["+1", "-2", "\tTab", "\rCR"]):
        Team.objects.create(name=f"{name} team {i}")
    Agent.objects.create(employee_id="E9", full_name="Eve", team=evil, supervisor=sam)
    client.force_login(harper)
    names = [row[1] for row in read_csv(client.get("/pips/stats/export.csv"))[1:]]
    assert '\'=HYPERLINK("http://x.example","click")' in names
    assert "'@SUM(A1:A9)" in names
    assert {"'+1 team 0", "'-2 team 1", "'\tTab team 2"} <= set(names)
    assert any(name.startswith("'\r") for name in names)
    assert not any(name[:1] in "=+-@\t\r" for name in names if name)
    assert neutralise(-3) == -3 and neutralise("Billing") == "Billing"


def test_only_hr_and_admins(client, sam, alex, olivia, admin_user, plans):
    for url in ("/pips/stats/", "/pips/stats/export.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        for user in (sam, olivia, alex.user):
            client.force_login(user)
            assert client.get(url).status_code == 403
        client.force_login(admin_user)
        assert client.get(url).status_code == 200
        client.logout()
    assert AuditEvent.objects.filter(action="report_exported").count() == 1  # the admin's


def test_wrong_method(client, harper):
    client.force_login(harper)
    assert client.post("/pips/stats/").status_code == 405
    assert client.post("/pips/stats/export.csv").status_code == 405


def test_queries_do_not_grow(client, harper, sam, make_plan, billing):
    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            team = Team.objects.create(name=f"Team {i}")
            agent = Agent.objects.create(
                employee_id=f"S{i:04d}", full_name=f"Agent {i}", team=team, supervisor=sam
            )
            plan = make_plan(agent, "draft", hr=harper)
            if i % 2:
                services.pip_submit(actor=sam, pip=plan)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(harper)
    add(2, 0)
    few = (count("/pips/stats/"), count("/pips/stats/export.csv"))
    add(20, 2)
    many = (count("/pips/stats/"), count("/pips/stats/export.csv"))
    assert few == many
