"""The sweep is safe to run twice, or twice at once, and after a crash."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection

from pips import reminders, services
from pips.models import (
    Notification,
    Reminder,
)
from pips.notifications import emails
from tests.pips.reminders_support import (
    run_sweep,
    sweep_at,
    utc,
)


@pytest.fixture
def due_plan(alex, sam, harper, make_plan):
    """Alex's active plan, at a moment a check-in reminder and an overdue escalation are due."""
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        pip = make_plan(alex, "active", hr=harper, start=dt.date(2026, 3, 2), days=30)
    # Monday 9 March, 10:00 UTC: the first check-in is missed by two working days; the second
    # (Monday 16) is a day away... not yet. Wednesday 11 March 12:00 it is.
    return pip


@pytest.mark.django_db
def test_the_sweep_run_twice_sends_each_reminder_once(due_plan):
    first = sweep_at(utc(2026, 3, 15, 11))
    # The check-in of 9 March is overdue; the one of 16 March is tomorrow.
    assert {(r.kind, r.recipient.username) for r in Reminder.objects.all()} == {
        ("checkin_overdue", "harper"),
        ("checkin_reminder", "sam"),
        ("checkin_reminder", "alex"),
    }
    assert first.recorded == first.sent == 3
    outbox = len(mail.outbox)
    again = sweep_at(utc(2026, 3, 15, 11, 5))
    assert (again.recorded, again.sent) == (0, 0)
    assert len(mail.outbox) == outbox == 3
    assert Notification.objects.count() == 3


@pytest.mark.django_db
def test_a_reminder_that_goes_out_on_the_day_says_today(due_plan):
    sweep_at(utc(2026, 3, 16, 8))  # the sweep was down since Sunday morning
    subjects = sorted(m.subject for m in mail.outbox if m.to == ["sam@example.com"])
    assert subjects == [
        f"Today: check-in with Alex Rivera ({due_plan.reference}), Monday 16 Mar 2026, 10:00 (UTC)"
    ]
    assert Notification.objects.get(user__username="alex").text == (
        "Your check-in with Sam Carter is today: Monday 16 Mar 2026, 10:00 (UTC)."
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweep_run_at_once_on_four_connections_sends_each_reminder_once(postgres, due_plan):
    mail.outbox.clear()  # what the plan's own steps sent as they committed
    notes = Notification.objects.count()
    reports = []
    errors = []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait(timeout=10)
            reports.append(run_sweep(now=utc(2026, 3, 15, 11)))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sum(r.recorded for r in reports) == 3
    assert sum(r.sent for r in reports) == 3
    assert sorted(tuple(m.to) for m in mail.outbox) == [
        ("alex@example.com",),
        ("harper@example.com",),
        ("sam@example.com",),
    ]
    assert Notification.objects.count() - notes == 3
    assert not Reminder.objects.filter(sent_at=None).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reminders_left_unsent_by_a_crashed_run_are_sent_once_after_the_lease(postgres, due_plan):
    mail.outbox.clear()
    now = utc(2026, 3, 15, 11)
    wanted, _ = reminders.due_work(now)
    # A run recorded its reminders and died before sending them.
    assert len(reminders.record(wanted, now)) == 3
    assert sweep_at(now + dt.timedelta(minutes=5)).sent == 0  # within the lease: not yet
    reports = []
    barrier = threading.Barrier(3)

    def run():
        try:
            barrier.wait(timeout=10)
            reports.append(run_sweep(now=now + reminders.LEASE + dt.timedelta(minutes=1)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(r.reclaimed for r in reports) == 3
    assert sum(r.sent for r in reports) == 3
    assert len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_send_task_delivered_twice_at_once_sends_once(postgres, due_plan):
    report = reminders.sweep(now=utc(2026, 3, 15, 11))
    mail.outbox.clear()
    results = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(reminders.send_claimed(report.to_send, report.claimed_at))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted((r.sent, r.skipped) for r in results) == [(0, 3), (3, 0)]
    assert len(mail.outbox) == 3
    # Delivered once more, later, it finds nothing left to send.
    assert reminders.send_claimed(report.to_send, report.claimed_at).skipped == 3


@pytest.mark.django_db
def test_a_reminder_that_fails_is_left_for_a_later_run(due_plan, monkeypatch, caplog):
    real_send = emails.send

    def flaky(name, recipients, *args, **kwargs):
        if recipients == ["harper@example.com"]:
            raise OSError("SMTP said no")
        return real_send(name, recipients, *args, **kwargs)

    monkeypatch.setattr(emails, "send", flaky)
    with caplog.at_level(logging.ERROR, logger="pips.reminders.sweep"):
        report = sweep_at(utc(2026, 3, 15, 11))
    assert (report.sent, report.failed) == (2, 1)
    assert "could not be sent" in caplog.text
    assert Reminder.objects.get(kind="checkin_overdue").sent_at is None
    monkeypatch.setattr(emails, "send", real_send)
    later = sweep_at(utc(2026, 3, 15, 11, 30))
    assert (later.reclaimed, later.sent) == (1, 1)
    assert [m.to for m in mail.outbox].count(["harper@example.com"]) == 1


@pytest.mark.django_db
def test_an_escalation_is_only_for_running_plans(due_plan, harper):
    services.pip_cancel(actor=harper, pip=due_plan, reason="The agent moved to another team.")
    assert sweep_at(utc(2026, 3, 15, 11)).recorded == 0
