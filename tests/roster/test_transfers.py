"""A supervisor change in the roster is a transfer: open plans move to the new supervisor, on
each plan's record; a terminated employee is deactivated and their open plans end
"employment ended"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from pips.audit import AuditAction
from pips.models import Agent, AuditEvent, Pip, Status
from pipsystem.identity import invitations
from pipsystem.identity.models import Invitation
from tests.roster.conftest import person, supervisor

pytestmark = pytest.mark.django_db

ROSTER = [
    supervisor("S100", "Sam Carter"),
    supervisor("S200", "Olivia Brooks", team="Retention"),
    person("E1001", "Alex Rivera", manager="S100"),
    person("E1002", "Jordan Patel", manager="S100"),
]


@pytest.fixture
def world(load, harper, make_plan):
    assert load(ROSTER, harper).status == "loaded"
    alex = Agent.objects.select_related("user", "supervisor").get(employee_id="E1001")
    alex.user.first_name, alex.user.last_name = "Alex", "Rivera"
    alex.user.save()
    plan = make_plan(alex, "active", hr=harper)
    return {"alex": alex, "plan": plan, "sam": alex.supervisor}


def test_a_new_supervisor_moves_the_open_plan_on_its_record(load, harper, world, client):
    rows = [r[:] for r in ROSTER]
    rows[2][5] = "S200"
    record = load(rows, harper)
    assert record.status == "loaded", record.errors
    assert (record.transferred, record.plans_reassigned) == (1, 1)
    olivia = User.objects.get(username="S200")
    plan = Pip.objects.get(pk=world["plan"].pk)
    assert plan.supervisor == olivia and plan.is_open()
    assert Agent.objects.get(employee_id="E1001").supervisor == olivia
    event = AuditEvent.objects.get(pip=plan, action=AuditAction.REASSIGNED)
    assert event.actor == harper and "Roster import from Workday" in event.comment
    assert (event.changes["from"], event.changes["to"]) == ("Sam Carter", "Olivia Brooks")
    entry = next(c for c in record.changes if c["employee_id"] == "E1001")
    assert entry["transfer"] == ["S100", "S200"] and entry["plans"] == [plan.pk]
    # The old supervisor no longer sees the plan; the new one does.
    client.force_login(world["sam"])
    assert client.get(f"/pips/{plan.pk}/").status_code == 404
    client.force_login(olivia)
    assert client.get(f"/pips/{plan.pk}/").status_code == 200
    # Loading the same file again moves nothing.
    again = load(rows, harper)
    assert again.transferred == 0 and again.plans_reassigned == 0


def test_a_terminated_employee_is_deactivated_and_the_plan_ends(load, harper, world):
    user = world["alex"].user
    user.set_unusable_password()
    user.save()
    invitations.invitations_send(actor=harper, users=[user])
    rows = [r[:] for r in ROSTER]
    rows[2][9] = "terminated"
    preview_plan_count = Pip.objects.open().count()
    record = load(rows, harper)
    assert record.status == "loaded", record.errors
    assert (record.deactivated, record.plans_ended) == (1, 1)
    assert preview_plan_count - Pip.objects.open().count() == 1
    alex = Agent.objects.select_related("user").get(employee_id="E1001")
    assert not alex.is_active and not alex.user.is_active
    plan = Pip.objects.get(pk=world["plan"].pk)
    assert plan.status == Status.ENDED and plan.cancel_reason.startswith("Employment ended")
    assert AuditEvent.objects.filter(pip=plan, action=AuditAction.EMPLOYMENT_ENDED).count() == 1
    assert not plan.schedule.filter(done_at__isnull=True, cancelled_at__isnull=True).exists()
    assert not Invitation.objects.pending().filter(user=user).exists()
    # Idempotent: the same file again ends nothing more.
    again = load(rows, harper)
    assert again.deactivated == 0 and again.plans_ended == 0


def test_a_rehire_is_reactivated(load, harper, world):
    rows = [r[:] for r in ROSTER]
    rows[3][9] = "terminated"
    load(rows, harper)
    assert not User.objects.get(username="E1002").is_active
    rows[3][9] = "active"
    record = load(rows, harper)
    assert record.updated == 1
    assert User.objects.get(username="E1002").is_active
    assert Agent.objects.get(employee_id="E1002").is_active


def test_a_supervisor_who_leaves_with_plans_nobody_moves_is_refused(load, harper, world):
    rows = [r[:] for r in ROSTER]
    rows[0][9] = "terminated"
    rows[3][5] = "S200"  # Jordan moves, but Alex (with a plan) still reports to Sam
    record = load(rows, harper)
    assert record.status == "rejected"
    reasons = " ".join(e["reason"] for e in record.errors)
    assert "S100 is not an active supervisor" in reasons  # Alex's row names a leaver
    assert Pip.objects.get(pk=world["plan"].pk).supervisor == world["sam"]


def test_a_supervisor_may_leave_when_the_file_moves_their_people(load, harper, world):
    rows = [r[:] for r in ROSTER]
    rows[0][9] = "terminated"
    rows[2][5] = "S200"
    rows[3][5] = "S200"
    record = load(rows, harper)
    assert record.status == "loaded", record.errors
    assert record.plans_reassigned == 1 and record.deactivated == 1
    assert not User.objects.get(username="S100").is_active


def test_a_supervisor_leaving_who_leads_people_not_in_the_file_is_refused(load, harper, world):
    record = load(
        [person("S100", "Sam Carter", manager="", role="supervisor", status="terminated")], harper
    )
    assert record.status == "rejected"
    assert (
        "leaves but still leads 2 people not in this file and 1 open plans"
        in record.errors[0]["reason"]
    )
