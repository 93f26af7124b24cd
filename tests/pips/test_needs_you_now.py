""" "Needs you now": each role's short, ordered to-do at the top of the home page, from the
domain (pips.selectors.needs_you_now): sign, countersign, check-ins and reviews due or overdue,
HR's approvals and amendments, disagreements to read, plans to issue or revise."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from pips import services
from pips.models import ScheduleItem, SignerRole
from pips.selectors import TodoKind, needs_you_now
from pips.services import SignatureInput
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def kinds(todos) -> list[tuple[str, str, bool]]:
    return [(t.kind, t.pip.reference, t.overdue) for t in todos]


def test_the_agent_is_asked_to_sign_and_nothing_else(alex, harper, make_plan):
    pip = make_plan(alex, "issued", hr=harper)
    todos = needs_you_now(alex.user)
    assert kinds(todos) == [(TodoKind.SIGN, pip.reference, False)]
    assert todos[0].url == f"/pips/{pip.pk}/sign/"
    services.signature_add(
        actor=alex.user,
        pip=pip,
        version=pip.current_version,
        role=SignerRole.AGENT,
        data=SignatureInput(typed_name="Alex Rivera", consent=True, agrees=True),
    )
    assert needs_you_now(alex.user) == []


def test_hr_countersigns_before_approving_and_reads_a_disagreement(
    alex, blake, sam, olivia, harper, make_plan
):
    pending = make_plan(blake, "pending_hr")
    issued = make_plan(alex, "issued", hr=harper)
    services.signature_add(
        actor=alex.user,
        pip=issued,
        version=issued.current_version,
        role=SignerRole.AGENT,
        data=SignatureInput(
            typed_name="Alex Rivera", consent=True, agrees=False, comments="The AHT target."
        ),
    )
    todos = needs_you_now(harper)
    # The disagreement is flagged on the countersignature itself, not listed twice.
    assert kinds(todos) == [
        (TodoKind.COUNTERSIGN, issued.reference, False),
        (TodoKind.APPROVE, pending.reference, False),
    ]
    assert todos[0].flagged and "disagrees: read their comments first" in todos[0].text
    assert todos[1].url == f"/pips/{pending.pk}/hr-review/"
    # The supervisor reads the disagreement too; another team's supervisor sees none of it.
    assert (TodoKind.DISAGREEMENT, issued.reference, False) in kinds(needs_you_now(sam))
    assert issued.reference not in str(kinds(needs_you_now(olivia)))


def test_the_supervisor_sees_check_ins_due_then_overdue_first(alex, sam, harper, make_plan):
    active = make_plan(alex, "active", hr=harper)
    step = (
        ScheduleItem.objects.filter(pip=active, done_at__isnull=True, cancelled_at__isnull=True)
        .order_by("due_on")
        .first()
    )
    assert step is not None
    assert needs_you_now(sam, today=step.due_on - dt.timedelta(days=3)) == []
    due = needs_you_now(sam, today=step.due_on - dt.timedelta(days=1))
    assert kinds(due) == [(TodoKind.MEETING, active.reference, False)]
    assert "due" in due[0].text and due[0].url.endswith("/checkins/new/")
    overdue = needs_you_now(sam, today=step.due_on + dt.timedelta(days=2))
    assert kinds(overdue) == [(TodoKind.MEETING, active.reference, True)]
    assert "was due" in overdue[0].text
    # HR is told of the overdue one (the escalation), not of one merely due.
    escalated = needs_you_now(harper, today=step.due_on + dt.timedelta(days=2))
    assert kinds(escalated) == [(TodoKind.MEETING, active.reference, True)]
    assert needs_you_now(harper, today=step.due_on) == []
    # The page's badge says "Overdue"; the text does not say it a second time. Its button is a
    # verb ("Open" the plan), not the "open" of a plan's state: in French "Ouvrir", not
    # "Ouverte".
    assert "Overdue" not in escalated[0].text
    assert escalated[0].text.startswith("Check-in of ")
    with translation.override("fr"):
        (in_french,) = needs_you_now(harper, today=step.due_on + dt.timedelta(days=2))
    assert in_french.action == "Ouvrir"


def test_the_supervisor_issues_approved_plans_and_revises_returned_ones(
    alex, sam, harper, make_plan, billing
):
    from pips.models import Agent

    approved = make_plan(alex, "approved", hr=harper)
    casey = Agent.objects.create(
        employee_id="E1009", full_name="Casey Doe", team=billing, supervisor=sam
    )
    returned = services.pip_return(
        actor=harper, pip=make_plan(casey, "pending_hr"), comment="Add the QA target."
    )
    assert kinds(needs_you_now(sam)) == [
        (TodoKind.ISSUE, approved.reference, False),
        (TodoKind.REVISE, returned.reference, False),
    ]


def test_the_home_starts_with_it(client, alex, sam, harper, make_plan):
    pip = make_plan(alex, "approved", hr=harper)
    client.force_login(sam)
    body = client.get("/").content.decode()
    assert body.index('id="h-todo"') < body.index('id="h-below"') < body.index('id="h-plans"')
    assert f"Hold the meeting with Alex Rivera and issue {pip.reference}" in body
    client.force_login(harper)
    assert "Nothing is waiting for you." in client.get("/").content.decode()


def test_hr_escalations_are_the_running_plans_whose_next_step_is_past(
    alex, sam, harper, billing, make_plan, monkeypatch
):
    """The overdue steps are read from the steps of a past day (`schedule_pending_on`): the
    same plans, in the same order, as working out every running plan's next step and keeping
    those of a past day. Steps recorded, cancelled, of a plan no longer running, or behind a
    step still ahead are not escalated."""
    from django.db.models import Q
    from django.utils import timezone

    from pips import selectors
    from pips.models import RUNNING_STATUSES, Agent, Pip

    agents = [alex] + [
        Agent.objects.create(
            employee_id=f"E30{n:02d}",
            full_name=f"Agent {n}",
            team=billing,
            supervisor=sam,
            user=make_user(f"agent{n}", "Agent", str(n)),
        )
        for n in range(5)
    ]
    plans = [make_plan(agent, "active", hr=harper) for agent in agents[:-1]]
    # The last one started two weeks before the others: its steps come first.
    early = timezone.localdate() - dt.timedelta(days=14)
    plans.append(make_plan(agents[-1], "active", hr=harper, start=early, days=45))

    def pending(pip):
        return ScheduleItem.objects.filter(
            pip=pip, done_at__isnull=True, cancelled_at__isnull=True
        ).order_by("due_at", "pk")

    first = pending(plans[0]).first()
    assert first is not None
    # Plan 1: its first step recorded; plan 2: its first step cancelled (as an amendment's
    # new schedule does); plan 3: cancelled, no longer running.
    pending(plans[1]).filter(pk=pending(plans[1]).first().pk).update(done_at=first.due_at)
    pending(plans[2]).filter(pk=pending(plans[2]).first().pk).update(cancelled_at=first.due_at)
    services.pip_cancel(actor=harper, pip=plans[3], reason="Left the team.")

    def escalated(today):
        return [t.pip.pk for t in needs_you_now(harper, today) if t.kind == TodoKind.MEETING]

    def by_next_step(today):
        return list(
            selectors.with_next_step(Pip.objects.filter(status__in=RUNNING_STATUSES))
            .filter(Q(next_step_on__lt=today))
            .order_by("next_step_on", "pk")
            .values_list("pk", flat=True)[: selectors.TODO_LIMIT]
        )

    days = sorted({item.due_on for item in ScheduleItem.objects.filter(pip__in=plans)})
    seen = set()
    for today in [days[0], *(d + dt.timedelta(days=1) for d in days)]:
        assert escalated(today) == by_next_step(today), today
        seen.update(escalated(today))
    assert plans[3].pk not in seen
    assert {plans[0].pk, plans[1].pk, plans[2].pk} <= seen
    # Capped, the nearest first.
    monkeypatch.setattr(selectors, "TODO_LIMIT", 2)
    late = days[-1] + dt.timedelta(days=1)
    assert escalated(late) == by_next_step(late)
    assert escalated(late) == [plans[5].pk, plans[0].pk]
