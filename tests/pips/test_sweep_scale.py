"""The reminder sweep at scale: what was recorded is neither read again nor offered to the
database again, and the sweep builds no model object per plan (plain values), however many
plans are running."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from pips import reminders
from pips.models import Reminder


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def running_plans(alex, blake, sam, olivia, harper, make_plan):
    """Two running plans, at a moment a check-in reminder and an overdue escalation are due."""
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        return [
            make_plan(agent, "active", hr=harper, start=dt.date(2026, 3, 2), days=30)
            for agent in (alex, blake)
        ]


class Built:
    """Counts the model objects created while it is connected."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, sender, **kwargs) -> None:
        self.count += 1


@pytest.mark.django_db
def test_recorded_reminders_are_not_offered_again(running_plans):
    with time_machine.travel(utc(2026, 3, 15, 11), tick=False):
        first = reminders.sweep()
    assert first.recorded == 6  # per plan: two check-in reminders and one escalation
    with (
        time_machine.travel(utc(2026, 3, 15, 11, 5), tick=False),
        CaptureQueriesContext(connection) as captured,
    ):
        again = reminders.sweep()
    assert again.recorded == 0
    table = Reminder._meta.db_table
    assert not [q for q in captured.captured_queries if f'INSERT INTO "{table}"' in q["sql"]]
    assert Reminder.objects.count() == 6


@pytest.mark.django_db
def test_the_sweep_builds_no_model_object_per_plan(running_plans):
    built = Built()
    post_init.connect(built)
    try:
        with time_machine.travel(utc(2026, 3, 15, 11), tick=False):
            report = reminders.sweep()
    finally:
        post_init.disconnect(built)
    assert report.recorded == 6
    assert built.count == 0


@pytest.mark.django_db
def test_reminders_of_a_plan_waiting_for_a_signature_are_not_offered_again(alex, harper, make_plan):
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        make_plan(alex, "issued", hr=harper)
    with time_machine.travel(utc(2026, 3, 12, 12), tick=False):
        first = reminders.sweep()
    assert {r.kind for r in Reminder.objects.all()} == {"ack_reminder", "ack_escalation"}
    assert first.recorded == Reminder.objects.count()
    with (
        time_machine.travel(utc(2026, 3, 12, 12, 5), tick=False),
        CaptureQueriesContext(connection) as captured,
    ):
        again = reminders.sweep()
    assert again.recorded == 0
    table = Reminder._meta.db_table
    assert not [q for q in captured.captured_queries if f'INSERT INTO "{table}"' in q["sql"]]


def test_a_chunk_never_splits_one_persons_reminders():
    report = reminders.SweepReport(claimed_at=utc(2026, 3, 12, 12))
    # Recipient 7 has four reminders, 8 has three, 9 has one; claimed in no particular order.
    report.claim([(1, 8), (2, 7), (3, 9), (4, 7), (5, 8), (6, 7), (7, 7), (8, 8)])
    assert report.to_send == [2, 4, 6, 7, 1, 5, 8, 3]
    assert report.chunks(size=3) == [[2, 4, 6, 7], [1, 5, 8], [3]]
    assert report.chunks(size=5) == [[2, 4, 6, 7, 1, 5, 8], [3]]
