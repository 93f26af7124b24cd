"""Home pages: each role sees its plans, in a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pips.models import Agent

pytestmark = pytest.mark.django_db


def add_plans(n: int, team, supervisor, make_plan, hr, start: int = 0) -> None:
    for i in range(start, start + n):
        agent = Agent.objects.create(
            employee_id=f"Q{i:04d}", full_name=f"Agent {i}", team=team, supervisor=supervisor
        )
        make_plan(agent, "pending_hr" if i % 2 else "draft", hr=hr)


def home_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["sam", "harper"])
def test_home_queries_do_not_grow_with_plans(client, billing, sam, harper, make_plan, who):
    user = {"sam": sam, "harper": harper}[who]
    add_plans(5, billing, sam, make_plan, harper)
    at_5 = home_queries(client, user)
    add_plans(45, billing, sam, make_plan, harper, start=5)
    at_50 = home_queries(client, user)
    assert at_50 == at_5
    # Session, user, roles and the nav (4 + 1), "needs you now" (supervisor: disagreements, the
    # steps due read from the plans the page lists; HR: countersign, approvals, amendments,
    # overdue, disagreements), the role's part (supervisor: KPI catalog, team, its numbers, its
    # plans' ids and its plans, who is below standard; HR: a page of the queue, its count, the
    # list), the session save (3).
    assert at_50 <= {"sam": 15, "harper": 18}[who]


def test_home_lists_only_what_the_user_may_see(client, alex, blake, olivia, harper, make_plan):
    make_plan(alex, "issued", hr=harper)
    make_plan(blake, "issued", hr=harper)
    client.force_login(olivia)
    body = client.get("/").content.decode()
    assert "Blake Moreau" in body and "Alex Rivera" not in body
    client.force_login(alex.user)
    body = client.get("/").content.decode()
    assert "Read and sign PIP-" in body and "Blake Moreau" not in body


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
