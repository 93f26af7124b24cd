"""The audit certificate of a plan opened thousands of times sums each person's views and
downloads up in two queries, with the address of their last access, and never runs a
sub-query per event (the certificate used to take the square of the views)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pips import audit_chain
from pips.models import AuditEvent
from pips.printing import render as printing


@pytest.fixture
def opened_plan(make_plan, alex, sam, harper):
    plan = make_plan(alex, "active", hr=harper, start=timezone.localdate() - dt.timedelta(days=20))
    start = timezone.now() - dt.timedelta(days=10)
    people = [(sam, "192.0.2."), (harper, "198.51.100."), (alex.user, "203.0.113.")]
    # Each through the chain, as every event is written.
    for event in (
        AuditEvent(
            pip=plan,
            version=plan.current_version,
            actor=people[n % 3][0],
            action="downloaded" if n % 10 == 9 else "viewed",
            at=start + dt.timedelta(minutes=n),
            ip_address=f"{people[n % 3][1]}{n % 250 + 1}",
        )
        for n in range(900)
    ):
        audit_chain.append(event)
    return plan


@pytest.mark.django_db
def test_many_views_are_summed_up_per_person_in_two_queries(opened_plan, sam, harper):
    with CaptureQueriesContext(connection) as captured:
        certificate = printing.audit_certificate(opened_plan, until=timezone.now())
    summary = {row.person: row for row in certificate.access}
    assert set(summary) == {"Sam Carter", "Harper Lee", "Alex Rivera"}
    assert sum(r.views + r.downloads for r in certificate.access) == 900
    sam_row = summary["Sam Carter"]
    # Sam's last access is event 897 (n % 3 == 0), from 192.0.2.(897 % 250 + 1).
    assert sam_row.last_ip == "192.0.2.148"
    assert summary["Harper Lee"].last_ip == "198.51.100.149"
    assert summary["Alex Rivera"].last_ip == "203.0.113.150"
    grouped = [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1
    # No sub-query inside the grouped one: it would run once per event.
    assert grouped[0].count("SELECT") == 1
    # The steps, the first views (to see whether there are few), the sums, the addresses.
    assert len(captured.captured_queries) == 4
