"""The numbers reminders carry, a constant number of queries, and catching up after an
outage."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.models import Kpi
from metrics.queries import window_means
from pips import reminders, services, tasks
from pips.models import (
    Agent,
    AuditEvent,
    Delivery,
    Notification,
    Pip,
    Reminder,
    Review,
    Status,
)
from tests.conftest import make_user
from tests.pips.reminders_support import (
    load_samples,
    sig,
    utc,
)


@pytest.mark.django_db
def test_week_numbers_match_window_value_for_every_plan_in_one_query(
    alex, blake, sam, harper, make_plan, django_assert_num_queries
):
    plans = [make_plan(a, "active", hr=harper) for a in (alex, blake)]
    load_samples(
        "E1001", dt.date(2026, 2, 1), dt.date(2026, 3, 31), lambda d: 60 + d.day, lambda d: 70
    )
    load_samples("E2001", dt.date(2026, 3, 5), dt.date(2026, 3, 6), lambda d: 90, lambda d: 81.5)
    for plan in plans:
        plan.agent.refresh_from_db()
    pairs = [
        (plans[0], dt.date(2026, 3, 12)),
        (plans[1], dt.date(2026, 3, 12)),
        (plans[0], dt.date(2026, 3, 19)),
    ]
    with django_assert_num_queries(3):  # the KPIs, the targets, the samples
        numbers = reminders.week_numbers(pairs)
    qa = Kpi.objects.get(code="qa_score")
    for plan, due_on in pairs:
        start, end = reminders.reminder_window(due_on)
        expected = window_means(
            employee_id=plan.agent.employee_id, kpi_ids=[qa.pk], start=start, end=end
        )[qa.pk]
        line = numbers[(plan.pk, due_on)][0]
        assert line.name == "QA score"
        assert line.value == qa.format_value(expected)
    blake_csat = numbers[(plans[1].pk, dt.date(2026, 3, 12))][1]
    assert (blake_csat.value, blake_csat.target, blake_csat.met) == ("81.5 %", "≥ 80 %", True)


def add_agents(n: int, team, supervisor, make_plan, harper, offset: int) -> None:
    for i in range(offset, offset + n):
        agent = Agent.objects.create(
            employee_id=f"S{i:04d}",
            full_name=f"Agent Number {i}",
            team=team,
            supervisor=supervisor,
            user=make_user(f"agent{i}", "Agent", f"Number {i}"),
        )
        make_plan(agent, ["active", "active", "issued", "pending_hr"][i % 4], hr=harper)


def sweep_queries(moment: dt.datetime) -> tuple[int, int, int]:
    """The queries of a sweep, and of sending everything it claimed as one chunk."""
    Reminder.objects.all().delete()
    Notification.objects.all().delete()
    with time_machine.travel(moment, tick=False):
        with CaptureQueriesContext(connection) as finding:
            report = reminders.sweep()
        with CaptureQueriesContext(connection) as sending:
            sent = reminders.send_claimed(report.to_send, report.claimed_at).sent
    return len(finding.captured_queries), len(sending.captured_queries), sent


@pytest.mark.django_db
def test_the_sweep_runs_a_constant_number_of_queries(billing, sam, harper, make_plan):
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        add_agents(4, billing, sam, make_plan, harper, 0)
    small = sweep_queries(utc(2026, 3, 15, 11))
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        add_agents(16, billing, sam, make_plan, harper, 100)
    large = sweep_queries(utc(2026, 3, 15, 11))
    assert large[2] > small[2] * 3
    assert {r.kind for r in Reminder.objects.all()} >= {
        "checkin_reminder",
        "checkin_overdue",
        "ack_reminder",
        "ack_escalation",
        "approval_reminder",
    }
    assert small[0] == large[0]
    assert large[0] <= 7  # items, waiting plans, HR users, insert, reclaim, events
    # Sending: a fixed number to load what a chunk needs (take, load, schedule, 3 for the KPIs),
    # then two for each reminder as it goes out (marked sent, its notification), so a worker
    # killed mid-chunk has recorded every e-mail it sent.
    assert small[1] - 2 * small[2] == large[1] - 2 * large[2] <= 8


@pytest.mark.django_db
def test_the_sweep_delivers_events_whose_task_never_ran(alex, sam, harper, make_plan):
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        pip = make_plan(alex, "issued", hr=harper)  # its tasks were never queued here
    issued = AuditEvent.objects.get(pip=pip, action="issued")
    assert not Delivery.objects.filter(event=issued).exists()
    with time_machine.travel(utc(2026, 3, 2, 12, 1), tick=False):
        assert issued.pk not in reminders.sweep().events_to_deliver  # still in its grace time
    with time_machine.travel(utc(2026, 3, 2, 12, 10), tick=False):
        tasks.sweep_due()
        tasks.sweep_due()
    assert Delivery.objects.filter(event=issued).exists()
    assert [m.subject for m in mail.outbox].count(
        f"Your Performance Improvement Plan {pip.reference} is ready to read and sign"
    ) == 1


@pytest.mark.django_db
def test_a_broker_outage_does_not_fail_the_step_that_commits(
    alex, sam, harper, make_plan, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    pip = make_plan(alex, "approved", hr=harper)

    def down(*args, **kwargs):
        raise ConnectionRefusedError("the broker is down")

    monkeypatch.setattr(tasks.notify_event, "delay", down)
    with (
        caplog.at_level(logging.ERROR, logger="pipsystem.celery"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.pip_issue(
            actor=sam, pip=pip, meeting_held_on=timezone.localdate(), signature=sig(sam)
        )
    assert Pip.objects.get(pk=pip.pk).status == Status.ISSUED
    assert re.search(r"Could not queue pips\.tasks\.notify_event", caplog.text)
    assert mail.outbox == []


@pytest.mark.django_db
def test_review_tasks_open_each_review_once(
    alex, sam, harper, make_plan, django_capture_on_commit_callbacks
):
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        pip = make_plan(alex, "active", hr=harper, start=dt.date(2026, 3, 2), days=42)
    midpoint = pip.schedule.get(kind="midpoint")
    with time_machine.travel(utc(2026, 3, 22, 23), tick=False):
        assert reminders.sweep().reviews_to_open == []  # not yet its day (UTC)
    with time_machine.travel(utc(2026, 3, 23, 0, 5), tick=False):
        report = reminders.sweep()
        assert report.reviews_to_open == [midpoint.pk]
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.open_review(midpoint.pk) is True
            assert tasks.open_review(midpoint.pk) is False
        assert reminders.sweep().reviews_to_open == []
    final = pip.schedule.get(kind="final")
    with time_machine.travel(utc(2026, 4, 13, 12), tick=False):
        # The final review waits for the midpoint review to be done.
        assert reminders.sweep().reviews_to_open == []
        assert tasks.open_review(final.pk) is False
    assert Review.objects.filter(pip=pip).count() == 1
    assert AuditEvent.objects.filter(pip=pip, action="midpoint_review_opened").count() == 1
    opened = [m for m in mail.outbox if "is open" in m.subject]
    assert sorted(m.to[0] for m in opened) == ["harper@example.com", "sam@example.com"]
    assert "METHOD:REQUEST" in opened[0].attachments[0][1]


@pytest.mark.django_db
def test_several_reminders_to_one_person_come_as_one_digest(billing, sam, harper, make_plan):
    """HR with a dozen escalations and approvals due in one sweep gets one e-mail listing them
    all, with a link to each plan; each person gets one e-mail; every reminder is recorded as
    sent and stays in the in-app list."""
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        add_agents(12, billing, sam, make_plan, harper, 0)
    mail.outbox.clear()
    with time_machine.travel(utc(2026, 3, 15, 11), tick=False):
        report = reminders.sweep()
        sent = reminders.send_claimed(report.to_send, report.claimed_at)
    to_harper = Reminder.objects.filter(recipient=harper)
    assert to_harper.count() >= 5
    assert sent.sent == Reminder.objects.count() == len(report.to_send)
    by_recipient: dict[str, list] = {}
    for message in mail.outbox:
        assert len(message.to) == 1
        by_recipient.setdefault(message.to[0], []).append(message)
    assert all(len(messages) == 1 for messages in by_recipient.values()), {
        k: [m.subject for m in v] for k, v in by_recipient.items()
    }
    (digest,) = by_recipient[harper.email]
    assert digest.subject.startswith(f"{to_harper.count()} plans need you")
    for reminder in to_harper.select_related("pip"):
        assert f"{settings.SITE_URL}/pips/{reminder.pip_id}/" in digest.body
    assert Notification.objects.filter(user=harper).count() == to_harper.count()
