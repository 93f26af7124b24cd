"""One e-mail per person per hour: reminders and escalations to someone who had a reminder
e-mail less than PIP_REMINDER_DIGEST_MINUTES ago are shown in the app at once and e-mailed
together, as one digest, by the first sweep after that hour."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
import time_machine
from django.core import mail

from pips import reminders
from pips.models import Agent, Notification, Pip, Reminder, ScheduleItem
from tests.conftest import make_user
from tests.pips.reminders_support import sweep_at, utc

# The module (the package's `sweep` is its function).
sweep_module = importlib.import_module("pips.reminders.sweep")

# Wednesday 11 March 2026, 10:00 UTC: a check-in of Monday 10:00 is two working days overdue.
T0 = utc(2026, 3, 11, 10)
# The minutes after T0 at which each of the fourteen check-ins becomes overdue: all within
# the hour after the first, two of them in the same sweep twice.
ARRIVALS = [0, 5, 10, 15, 20, 25, 25, 30, 35, 40, 45, 50, 55, 55]


def minutes(n: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


@pytest.fixture
def plans(billing, sam, harper, make_plan):
    """Plans of fourteen agents of Sam's, Harper their HR, with nothing on their schedule for
    weeks; each test then puts the meetings it needs on it."""

    def build(count: int) -> list[Pip]:
        built = []
        for n in range(count):
            agent = Agent.objects.create(
                employee_id=f"D{n:03d}",
                full_name=f"Agent Number{n}",
                team=billing,
                supervisor=sam,
                user=make_user(f"agent{n}", "Agent", f"Number{n}"),
            )
            with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
                pip = make_plan(agent, "active", hr=harper, start=dt.date(2026, 3, 2), days=30)
            pip.schedule.update(due_at=utc(2026, 5, 1, 10), done_at=None)
            built.append(pip)
        mail.outbox.clear()
        return built

    return build


def checkin(pip: Pip, due_at: dt.datetime) -> None:
    """Put the plan's first check-in at `due_at`."""
    item = pip.schedule.filter(kind=ScheduleItem.Kind.CHECKIN).order_by("due_on").first()
    ScheduleItem.objects.filter(pk=item.pk).update(due_at=due_at, due_on=due_at.date())


def overdue_from(pip: Pip, moment: dt.datetime) -> None:
    """The plan's check-in is two working days overdue from `moment` (a Wednesday) on."""
    checkin(pip, moment - dt.timedelta(days=2))


def to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


@pytest.mark.django_db
def test_fourteen_escalations_in_an_hour_come_as_one_email_and_one_digest(plans, harper):
    pips = plans(len(ARRIVALS))
    for pip, arrival in zip(pips, ARRIVALS, strict=True):
        overdue_from(pip, minutes(arrival))
    for step in range(0, 60, 5):
        sweep_at(minutes(step))
        due = sum(arrival <= step for arrival in ARRIVALS)
        # Every escalation is in Harper's list in the app as soon as it is due...
        assert Notification.objects.filter(user=harper).count() == due
        # ...but only the first one was e-mailed.
        assert len(to(harper)) == 1
    (first,) = to(harper)
    assert first.subject.startswith("Overdue: ")
    assert Reminder.objects.filter(recipient=harper, held_until=minutes(60)).count() == 13

    run = sweep_at(minutes(60))  # the hour since the first e-mail is over
    assert run.sent == 13
    first, digest = to(harper)
    assert digest.subject.startswith("13 plans need you (13 overdue)")
    for pip in pips[1:]:
        assert f"/pips/{pip.pk}/" in digest.body
    assert f"/pips/{pips[0].pk}/" not in digest.body
    assert Notification.objects.filter(user=harper).count() == 14  # none added by the digest
    assert not Reminder.objects.filter(sent_at=None).exists()

    assert sweep_at(minutes(65)).sent == 0
    assert len(to(harper)) == 2  # 2 e-mails, not 14


@pytest.mark.django_db
def test_each_person_has_an_hour_of_their_own(plans, harper, sam):
    pips = plans(3)
    overdue_from(pips[0], minutes(0))  # Harper's first escalation
    overdue_from(pips[1], minutes(20))  # Harper's second: held
    # Sam and the agent are reminded of a check-in a day ahead, at 10:20 and at 10:40.
    checkin(pips[2], minutes(20) + dt.timedelta(days=1))
    second = pips[2].schedule.filter(kind=ScheduleItem.Kind.CHECKIN).order_by("due_on")[1]
    ScheduleItem.objects.filter(pk=second.pk).update(due_at=minutes(40) + dt.timedelta(days=1))

    for step in range(0, 60, 5):
        sweep_at(minutes(step))
    # Harper's second escalation waits for her hour; Sam's first reminder went at once, his
    # second waits for his own hour, which ends at 11:20, not at Harper's 11:00.
    assert len(to(harper)) == 1
    assert [m.subject.split(":")[0] for m in to(sam)] == ["Tomorrow"]
    agent = pips[2].agent.user
    assert len(to(agent)) == 1
    assert Notification.objects.filter(user=sam).count() == 2

    sweep_at(minutes(60))
    assert len(to(harper)) == 2
    assert len(to(sam)) == 1
    sweep_at(minutes(80))
    assert len(to(sam)) == 2 and len(to(agent)) == 2
    assert Notification.objects.filter(user=sam).count() == 2
    assert not Reminder.objects.filter(sent_at=None).exists()


@pytest.mark.django_db
def test_a_digest_whose_send_task_died_before_marking_it_is_sent_once_more_at_most(
    plans, harper, monkeypatch
):
    pips = plans(3)
    for pip, arrival in zip(pips, [0, 10, 30], strict=True):
        overdue_from(pip, minutes(arrival))
    for step in (0, 10, 30):
        sweep_at(minutes(step))
    assert len(to(harper)) == 1
    assert Notification.objects.filter(user=harper).count() == 3

    class Killed(BaseException):
        """The worker dies: no `except Exception` in the send task catches it."""

    def die(reminder, out):
        raise Killed

    monkeypatch.setattr(sweep_module, "_mark_sent", die)
    with pytest.raises(Killed):
        sweep_at(minutes(60))  # the digest goes out, then the worker dies
    monkeypatch.undo()
    assert len(to(harper)) == 2
    assert Reminder.objects.filter(recipient=harper, sent_at=None).count() == 2

    # Not taken back while the dead task's claim could still be running...
    assert sweep_at(minutes(65)).sent == 0
    # ...and sent once more after the lease, like any reminder whose task died.
    later = sweep_at(minutes(61) + reminders.LEASE)
    assert (later.reclaimed, later.sent) == (2, 2)
    digests = [m for m in to(harper) if m.subject.startswith("2 plans need you")]
    assert len(digests) == 2
    assert sweep_at(minutes(61) + 2 * reminders.LEASE).sent == 0
    assert len(to(harper)) == 3
    assert Notification.objects.filter(user=harper).count() == 3  # each in the app once


@pytest.mark.django_db
def test_a_send_task_delivered_twice_holds_once(plans, harper):
    pips = plans(2)
    overdue_from(pips[0], minutes(0))
    overdue_from(pips[1], minutes(5))
    sweep_at(minutes(0))
    with time_machine.travel(minutes(5), tick=False):
        report = reminders.sweep()
        first = reminders.send_claimed(report.to_send, report.claimed_at)
        again = reminders.send_claimed(report.to_send, report.claimed_at)
    assert (first.held, first.sent, again.held, again.skipped) == (1, 0, 0, 1)
    assert Notification.objects.filter(user=harper).count() == 2


@pytest.mark.django_db
def test_no_digest_when_the_setting_is_zero(plans, harper, settings):
    settings.PIP_REMINDER_DIGEST_MINUTES = 0
    pips = plans(2)
    overdue_from(pips[0], minutes(0))
    overdue_from(pips[1], minutes(5))
    sweep_at(minutes(0))
    sweep_at(minutes(5))
    assert len(to(harper)) == 2
