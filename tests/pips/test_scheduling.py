"""The schedule and the reminder sweep: meeting dates and times in the team's zone, reminders
to the right people on the right day, reviews opened once, escalations, invitations, and a sweep
that is safe to run twice, or twice at once, in a constant number of queries."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import zoneinfo
from collections import Counter
from dataclasses import dataclass

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.models import Kpi, Sample
from pips import kpis, reminders, services, tasks
from pips.models import (
    Agent,
    AuditEvent,
    Delivery,
    Notification,
    Pip,
    Reminder,
    Review,
    ScheduleItem,
    SignerRole,
    Status,
    Team,
)
from pips.notifications import emails
from pips.services import CheckInInput, ReviewItemInput, SignatureInput
from pipsystem import ics
from tests.conftest import make_user, plan_content

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# The subjects of the sweep's e-mails.
OURS = re.compile(r"^(Tomorrow: |Please sign |Not signed: |Overdue: )|waiting for HR|is open: ")
UTC = dt.UTC


def ny(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NEW_YORK)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def sent_reminders() -> set[tuple[str, str, str, str]]:
    """(kind, due on, recipient, local day sent) of every reminder sent."""
    return {
        (
            r.kind,
            r.due_on.isoformat(),
            r.recipient.username,
            f"{r.sent_at.astimezone(NEW_YORK):%m-%d}",
        )
        for r in Reminder.objects.select_related("recipient").exclude(sent_at=None)
    }


def load_samples(employee_id: str, start: dt.date, end: dt.date, qa, csat) -> None:
    codes = {k.code: k for k in Kpi.objects.filter(code__in=["qa_score", "csat"])}
    rows = []
    day = start
    while day <= end:
        rows.append(Sample(employee_id=employee_id, kpi=codes["qa_score"], date=day, value=qa(day)))
        rows.append(
            Sample(employee_id=employee_id, kpi=codes["csat"], date=day, value=csat(day), weight=2)
        )
        day += dt.timedelta(days=1)
    Sample.objects.bulk_create(rows)


def sig(user, **extra) -> SignatureInput:
    return SignatureInput(typed_name=user.get_full_name(), consent=True, **extra)


@pytest.fixture
def new_york(billing) -> Team:
    billing.timezone = "America/New_York"
    billing.save()
    return billing


# --- the schedule ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schedule_is_written_in_the_team_zone_across_the_dst_change(
    alex, sam, harper, new_york, make_plan, template
):
    # 42 days from Monday 2 March 2026; New York moves to summer time on Sunday 8 March.
    pip = make_plan(alex, "active", hr=harper, start=dt.date(2026, 3, 2), days=42)
    items = list(pip.schedule.order_by("due_at"))
    assert [(i.kind, i.due_on.isoformat()) for i in items] == [
        ("checkin", "2026-03-09"),
        ("checkin", "2026-03-16"),
        ("midpoint", "2026-03-23"),
        ("checkin", "2026-03-30"),
        ("checkin", "2026-04-06"),
        ("final", "2026-04-13"),
    ]
    # 10:00 in New York: 15:00 UTC in winter time would be wrong after 8 March.
    assert all(i.due_at.astimezone(NEW_YORK).hour == 10 for i in items)
    assert items[0].due_at == utc(2026, 3, 9, 14)
    assert items[-1].due_at == utc(2026, 4, 13, 14)
    # Writing it again changes nothing.
    services.schedule_write(pip=pip)
    assert pip.schedule.count() == 6


@pytest.mark.django_db
def test_schedule_biweekly_on_a_weekday_in_a_half_hour_zone(alex, sam, harper, billing, template):
    billing.timezone = "Asia/Kolkata"
    billing.save()
    content = plan_content(template, dt.date(2026, 3, 4), 30)  # a Wednesday
    content.checkin_cadence = "biweekly"
    content.checkin_weekday = 4  # Friday
    pip = services.pip_create(actor=sam, agent=alex, content=content, template=template)
    pip.refresh_from_db()
    services.schedule_write(pip=pip)
    items = list(pip.schedule.order_by("due_at"))
    assert [(i.kind, i.due_on.isoformat()) for i in items] == [
        ("checkin", "2026-03-06"),
        ("checkin", "2026-03-20"),
        ("final", "2026-04-03"),
    ]
    assert items[0].due_at == utc(2026, 3, 6, 4, 30)  # 10:00 IST is 04:30 UTC


@pytest.mark.django_db
def test_a_new_version_cancels_the_meetings_it_no_longer_has(alex, sam, harper, make_plan):
    pip = make_plan(alex, "active", hr=harper, start=dt.date(2026, 3, 2), days=30)
    version = pip.current_version
    version.checkin_weekday = 2  # what an amendment moving the check-ins to Wednesday writes
    version.save(update_fields=["checkin_weekday"])
    services.schedule_write(pip=pip)
    live = pip.schedule.filter(cancelled_at__isnull=True, kind="checkin")
    assert {i.due_on.weekday() for i in live} == {2}
    assert pip.schedule.filter(cancelled_at__isnull=False, kind="checkin").count() == 4
    # And back to Mondays: the cancelled Monday meetings come back, not stay cancelled.
    version.checkin_weekday = 0
    version.save(update_fields=["checkin_weekday"])
    services.schedule_write(pip=pip)
    live = pip.schedule.filter(cancelled_at__isnull=True, kind="checkin")
    assert sorted(i.due_on.isoformat() for i in live) == [
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
        "2026-03-30",
    ]


# --- invitations -------------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    assert "\n" not in text.replace("\r\n", "")
    return text.replace("\r\n ", "").split("\r\n")


def test_invitation_is_a_request_with_a_stable_uid_and_utc_start(settings):
    settings.SITE_URL = "https://pips.example.com"
    meeting = ics.Meeting(
        uid=ics.uid_for(42),
        start=ny(2026, 3, 12, 10),
        duration=dt.timedelta(minutes=30),
        summary="Check-in: Zoë O'Brien, Billing; weekly",
        description="Line one\nLine two with a backslash \\ " + "long " * 30,
        organizer=ics.Person("Carter, Sam", "sam@example.com"),
        attendees=[ics.Person("Zoë O'Brien", "zoe@example.com")],
    )
    text = ics.calendar([meeting], now=utc(2026, 3, 1, 8))
    assert text.endswith("\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = unfold(text)
    assert lines[:5] == [
        "BEGIN:VCALENDAR",
        "PRODID:-//pipsystem//Performance Improvement Plans//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
    ]
    assert "UID:pip-schedule-42@pips.example.com" in lines
    assert "DTSTART:20260312T140000Z" in lines  # 10:00 EDT
    assert "DTSTAMP:20260301T080000Z" in lines
    assert "DURATION:PT30M" in lines
    assert r"SUMMARY:Check-in: Zoë O'Brien\, Billing\; weekly" in lines
    assert any(
        line.startswith(r"DESCRIPTION:Line one\nLine two with a backslash \\ ") for line in lines
    )
    assert 'ORGANIZER;CN="Carter, Sam":mailto:sam@example.com' in lines
    assert "CLASS:PRIVATE" in lines
    assert ics.uid_for(42) == ics.uid_for(42) != ics.uid_for(43)
    assert ics.attachment([meeting])[2] == "text/calendar; method=REQUEST"


def test_folding_never_splits_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = ics.fold(line)
    parts = folded.split("\r\n ")
    assert "".join(parts) == line
    assert all(len(p.encode()) <= 75 for p in parts)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        ics.utc_stamp(dt.datetime(2026, 3, 1, 10))  # noqa: DTZ001


# --- a whole plan, day by day ------------------------------------------------------------------


class Walk:
    """Run the beat's sweep four times a day (02:00, 08:00, 14:00 and 20:00 UTC) in frozen
    time, with the steps of the plan in between."""

    def __init__(self, traveller, capture, start: dt.datetime):
        self.traveller = traveller
        self.capture = capture
        self.clock = start

    def until(self, moment: dt.datetime) -> None:
        tick = self.clock
        while tick <= moment:
            self.traveller.move_to(tick)
            with self.capture(execute=True):
                tasks.sweep_due()
            tick += dt.timedelta(hours=6)
        self.clock = tick
        self.traveller.move_to(moment)

    def do(self, moment: dt.datetime, step) -> None:
        self.until(moment)
        with self.capture(execute=True):
            step()


@pytest.mark.django_db
def test_a_six_week_plan_reminds_opens_reviews_and_escalates_on_the_right_days(
    alex, sam, harper, new_york, template, django_capture_on_commit_callbacks
):
    load_samples(
        alex.employee_id,
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 30),
        qa=lambda d: 70 + d.day % 10,
        csat=lambda d: 72.0,
    )
    content = plan_content(template, dt.date(2026, 3, 2), 42)
    content.checkin_weekday = 3  # Thursdays
    state: dict = {}

    def pip() -> Pip:
        return Pip.objects.get(pk=state["pip"].pk)

    with time_machine.travel(utc(2026, 2, 16, 14), tick=False) as traveller:
        walk = Walk(traveller, django_capture_on_commit_callbacks, utc(2026, 2, 16, 20))

        def draft_and_submit():
            state["pip"] = services.pip_create(
                actor=sam, agent=alex, content=content, template=template
            )
            services.pip_submit(actor=sam, pip=state["pip"])

        with django_capture_on_commit_callbacks(execute=True):
            draft_and_submit()  # Monday 16 Feb, 09:00 in New York
        walk.do(ny(2026, 2, 19, 10), lambda: services.pip_approve(actor=harper, pip=pip()))
        walk.do(
            ny(2026, 2, 19, 11),
            lambda: services.pip_issue(
                actor=sam, pip=pip(), meeting_held_on=dt.date(2026, 2, 19), signature=sig(sam)
            ),
        )
        assert pip().ack_due_at == ny(2026, 2, 24, 11)  # three working days
        walk.do(
            ny(2026, 2, 26, 9),
            lambda: services.signature_add(
                actor=alex.user,
                pip=pip(),
                version=pip().current_version,
                role=SignerRole.AGENT,
                data=sig(alex.user, agrees=True),
            ),
        )
        walk.do(
            ny(2026, 2, 27, 10),
            lambda: services.signature_add(
                actor=harper,
                pip=pip(),
                version=pip().current_version,
                role=SignerRole.HR,
                data=sig(harper),
            ),
        )
        assert pip().status == Status.ACTIVE

        def held(day: dt.date):
            return lambda: services.checkin_record(
                actor=sam,
                pip=pip(),
                data=CheckInInput(held_on=day, scheduled_for=day, notes="Went through the week."),
                snapshot=[],
            )

        def review_items():
            return [
                ReviewItemInput(expectation_id=e.pk, confirmed=True)
                for e in pip().current_version.expectations.all()
            ]

        walk.do(ny(2026, 3, 5, 11), held(dt.date(2026, 3, 5)))
        walk.do(ny(2026, 3, 12, 11), held(dt.date(2026, 3, 12)))
        # 19 March is not recorded until the Tuesday after: HR hears of it on Monday.
        walk.do(
            ny(2026, 3, 23, 15),
            lambda: services.midpoint_record(
                actor=sam,
                review=pip().reviews.get(kind="midpoint"),
                items=review_items(),
                summary="On track for QA, CSAT still low.",
                suggestions={},
            ),
        )
        walk.do(
            ny(2026, 3, 24, 9),
            lambda: services.checkin_missed(
                actor=sam, pip=pip(), scheduled_for=dt.date(2026, 3, 19), reason="Agent was ill."
            ),
        )
        walk.do(ny(2026, 3, 26, 11), held(dt.date(2026, 3, 26)))
        walk.do(ny(2026, 4, 2, 11), held(dt.date(2026, 4, 2)))
        walk.do(ny(2026, 4, 9, 11), held(dt.date(2026, 4, 9)))
        walk.do(
            ny(2026, 4, 13, 15),
            lambda: services.final_record(
                actor=sam,
                review=pip().reviews.get(kind="final"),
                items=review_items(),
                outcome="successful",
                summary="All targets met.",
                suggestions={},
            ),
        )
        walk.until(ny(2026, 4, 24, 12))

    meeting = [
        ("checkin_reminder", "2026-03-05", "03-04"),
        ("checkin_reminder", "2026-03-12", "03-11"),
        ("checkin_reminder", "2026-03-19", "03-18"),
        ("midpoint_reminder", "2026-03-23", "03-22"),
        ("checkin_reminder", "2026-03-26", "03-25"),
        ("checkin_reminder", "2026-04-02", "04-01"),
        ("checkin_reminder", "2026-04-09", "04-08"),
        ("final_reminder", "2026-04-13", "04-12"),
    ]
    expected = {
        ("approval_reminder", "2026-02-18", "harper", "02-18"),
        ("ack_reminder", "2026-02-24", "alex", "02-24"),
        ("ack_escalation", "2026-02-24", "sam", "02-25"),
        ("ack_escalation", "2026-02-24", "harper", "02-25"),
        ("countersign_reminder", "2026-02-24", "harper", "02-26"),
        ("checkin_overdue", "2026-03-19", "harper", "03-23"),
        *((kind, due, who, day) for kind, due, day in meeting for who in ("sam", "alex")),
    }
    assert sent_reminders() == expected
    assert not Reminder.objects.filter(sent_at=None).exists()

    plan = pip()
    assert plan.status == Status.CLOSED_SUCCESSFUL
    reviews = Review.objects.filter(pip=plan)
    assert sorted(reviews.values_list("kind", "due_on")) == [
        ("final", dt.date(2026, 4, 13)),
        ("midpoint", dt.date(2026, 3, 23)),
    ]
    opened = AuditEvent.objects.filter(pip=plan, action__endswith="_review_opened")
    assert sorted((e.action, f"{e.at.astimezone(NEW_YORK):%m-%d %H:%M}") for e in opened) == [
        ("final_review_opened", "04-13 04:00"),  # the first sweep of the day, New York time
        ("midpoint_review_opened", "03-23 04:00"),
    ]

    ours = [m for m in mail.outbox if OURS.search(m.subject)]
    assert len(ours) == len(expected) + 4  # and the two reviews opened, to Sam and Harper
    by_subject = Counter((m.subject, tuple(m.to)) for m in ours)
    assert all(n == 1 for n in by_subject.values()), by_subject
    review_mails = [m for m in mail.outbox if " is open: " in m.subject]
    assert sorted((m.subject.split(" of ")[0], m.to[0]) for m in review_mails) == [
        ("The final review", "harper@example.com"),
        ("The final review", "sam@example.com"),
        ("The midpoint review", "harper@example.com"),
        ("The midpoint review", "sam@example.com"),
    ]
    assert Notification.objects.filter(user=harper, text__contains="review of").count() == 2

    # The reminder for 12 March carries that week's numbers, as kpis.window_value has them.
    reminder = next(
        m
        for m in mail.outbox
        if m.to == ["sam@example.com"]
        and m.subject.startswith("Tomorrow: check-in")
        and "Thursday 12 Mar 2026, 10:00 (America/New_York)" in m.subject
    )
    qa = Kpi.objects.get(code="qa_score")
    week = kpis.window_value(alex.employee_id, qa.pk, dt.date(2026, 3, 4), dt.date(2026, 3, 10))
    assert f"QA score: {qa.format_value(week)} (target ≥ 85 %), below the target" in reminder.body
    assert "CSAT score: 72 % (target ≥ 80 %), below the target" in reminder.body
    assert "04 Mar to 10 Mar 2026" in reminder.body
    calendar = unfold(reminder.attachments[0][1])
    item = ScheduleItem.objects.get(pip=plan, kind="checkin", due_on=dt.date(2026, 3, 12))
    assert f"UID:pip-schedule-{item.pk}@127.0.0.1" in calendar
    assert "DTSTART:20260312T140000Z" in calendar  # after the change to summer time
    first = next(m for m in mail.outbox if "Thursday 05 Mar 2026" in m.subject)
    assert "DTSTART:20260305T150000Z" in unfold(first.attachments[0][1])  # before it
    # The agent's copy speaks to the agent.
    agent_copy = next(
        m
        for m in mail.outbox
        if m.to == ["alex@example.com"]
        and m.subject.startswith("Tomorrow: your check-in")
        and "12 Mar" in m.subject
    )
    assert agent_copy.subject.startswith("Tomorrow: your check-in with Sam Carter")
    assert agent_copy.alternatives[0][0].count("QA score") == 1


# --- running twice, at once, after a crash -----------------------------------------------------


@pytest.fixture
def due_plan(alex, sam, harper, make_plan):
    """Alex's active plan, at a moment a check-in reminder and an overdue escalation are due."""
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        pip = make_plan(alex, "active", hr=harper, start=dt.date(2026, 3, 2), days=30)
    # Monday 9 March, 10:00 UTC: the first check-in is missed by two working days; the second
    # (Monday 16) is a day away... not yet. Wednesday 11 March 12:00 it is.
    return pip


@dataclass
class Run:
    recorded: int
    reclaimed: int
    sent: int
    failed: int
    skipped: int


def run_sweep(now: dt.datetime | None = None) -> Run:
    """A sweep and then its send tasks, one after the other here, as a worker would run them."""
    report = reminders.sweep(now=now)
    sends = [reminders.send_claimed(chunk, report.claimed_at) for chunk in report.chunks()]
    return Run(
        recorded=report.recorded,
        reclaimed=report.reclaimed,
        sent=sum(s.sent for s in sends),
        failed=sum(s.failed for s in sends),
        skipped=sum(s.skipped for s in sends),
    )


def sweep_at(moment: dt.datetime) -> Run:
    with time_machine.travel(moment, tick=False):
        return run_sweep()


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


# --- signatures and approvals ------------------------------------------------------------------


@pytest.mark.django_db
def test_signature_and_approval_reminders_count_working_days(
    alex, blake, sam, olivia, harper, make_plan
):
    make_user("hank", "Hank", "Ito", "hr")
    # Friday 6 March 2026, 15:00 UTC: Alex's plan is issued, Blake's submitted to HR.
    with time_machine.travel(utc(2026, 3, 6, 15), tick=False):
        issued = make_plan(alex, "issued", hr=harper)
        waiting = make_plan(blake, "pending_hr", hr=harper)
    assert issued.ack_due_at == utc(2026, 3, 11, 15)  # Wednesday: three working days
    assert sweep_at(utc(2026, 3, 10, 14, 59)).recorded == 0
    # Tuesday: two working days (Monday, Tuesday) since the draft was submitted on Friday.
    assert sweep_at(utc(2026, 3, 10, 15)).recorded == 2
    assert sweep_at(utc(2026, 3, 11, 14, 59)).recorded == 0
    assert sweep_at(utc(2026, 3, 11, 15)).recorded == 1
    assert sweep_at(utc(2026, 3, 12, 14, 59)).recorded == 0
    assert sweep_at(utc(2026, 3, 12, 15)).recorded == 2  # a working day later: escalated
    rows = {
        (r.pip_id, r.kind, r.recipient.username, r.due_on.isoformat())
        for r in Reminder.objects.select_related("recipient")
    }
    assert rows == {
        (waiting.pk, "approval_reminder", "harper", "2026-03-10"),
        (waiting.pk, "approval_reminder", "hank", "2026-03-10"),
        (issued.pk, "ack_reminder", "alex", "2026-03-11"),
        (issued.pk, "ack_escalation", "sam", "2026-03-11"),
        (issued.pk, "ack_escalation", "harper", "2026-03-11"),
    }
    ack = next(m for m in mail.outbox if m.to == ["alex@example.com"])
    assert ack.subject == (
        f"Please sign your plan {issued.reference}: the acknowledgment was due 11 Mar 2026"
    )
    assert "does not mean that you agree" in ack.body
    assert f"/pips/{issued.pk}/" in ack.body
    approval = next(m for m in mail.outbox if m.to == ["hank@example.com"])
    assert "waiting for HR approval since 06 Mar" in approval.subject
    assert not any(m.to == ["olivia@example.com"] for m in mail.outbox)
    assert Notification.objects.filter(user=alex.user, pip=issued).count() == 1


@pytest.mark.django_db
def test_amendments_waiting_for_hr_or_for_the_employee_are_reminded(
    alex, blake, sam, olivia, harper, make_plan
):
    make_user("hank", "Hank", "Ito", "hr")  # not the plans' HR: not reminded of them
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        waiting = make_plan(alex, "active", hr=harper)
        amended = make_plan(blake, "active", hr=harper)
    # Friday 6 March, 15:00 UTC: one amendment goes to HR, the other is approved at once.
    with time_machine.travel(utc(2026, 3, 6, 15), tick=False):
        services.amendment_start(actor=sam, pip=waiting, change_summary="New AHT target.")
        services.amendment_submit(actor=sam, pip=waiting)
        services.amendment_start(actor=olivia, pip=amended, change_summary="Longer period.")
        services.amendment_submit(actor=olivia, pip=amended)
        services.amendment_decide(actor=harper, pip=amended, approve=True)
        amended.refresh_from_db()
        services.signature_add(  # the manager signs the amended version at the meeting
            actor=olivia,
            pip=amended,
            version=amended.current_version,
            role=SignerRole.MANAGER,
            data=sig(olivia),
        )

    def amendment_reminders() -> set[tuple[int, str, str, str]]:
        return {
            (r.pip_id, r.kind, r.recipient.username, r.due_on.isoformat())
            for r in Reminder.objects.filter(kind__startswith="amendment_").select_related(
                "recipient"
            )
        }

    sweep_at(utc(2026, 3, 10, 14, 59))
    assert amendment_reminders() == set()
    # Tuesday: two working days without HR's decision.
    sweep_at(utc(2026, 3, 10, 15))
    assert amendment_reminders() == {
        (waiting.pk, "amendment_approval_reminder", "harper", "2026-03-10")
    }
    # Wednesday: three working days since the manager signed the amended version, and the
    # employee has not.
    sweep_at(utc(2026, 3, 11, 15))
    sweep_at(utc(2026, 3, 12, 15))  # each once
    assert Reminder.objects.filter(kind__startswith="amendment_").count() == 2
    assert amendment_reminders() == {
        (waiting.pk, "amendment_approval_reminder", "harper", "2026-03-10"),
        (amended.pk, "amendment_ack_reminder", "blake", "2026-03-11"),
    }
    hr_mail = next(m for m in mail.outbox if m.to == ["harper@example.com"])
    assert hr_mail.subject == (
        f"An amendment to {waiting.reference} (Alex Rivera) has been waiting for HR approval"
        " for two working days"
    )
    assert f"/pips/{waiting.pk}/amendment/" in hr_mail.body
    ack = next(m for m in mail.outbox if m.to == ["blake@example.com"])
    assert ack.subject == (
        f"Please sign the amended version 2 of your plan {amended.reference}:"
        " the acknowledgment was due 11 Mar 2026"
    )
    assert "was amended" in ack.body and f"/pips/{amended.pk}/sign/" in ack.body

    # Once decided and signed, nothing more is due.
    Reminder.objects.filter(kind__startswith="amendment_").delete()
    with time_machine.travel(utc(2026, 3, 13, 9), tick=False):
        services.amendment_decide(actor=harper, pip=waiting, approve=True)
        amended.refresh_from_db()
        services.signature_add(
            actor=blake.user,
            pip=amended,
            version=amended.current_version,
            role=SignerRole.AGENT,
            data=sig(blake.user),
        )
    sweep_at(utc(2026, 3, 16, 15))
    assert amendment_reminders() == set()


@pytest.mark.django_db
def test_a_supervisor_who_is_also_hr_is_not_reminded_of_their_own_draft(
    alex, sam, harper, make_plan
):
    sam.groups.add(harper.groups.get(name="hr"))
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        make_plan(alex, "pending_hr", hr=harper)
    sweep_at(utc(2026, 3, 5, 9))
    assert list(Reminder.objects.values_list("recipient__username", flat=True)) == ["harper"]


# --- numbers, queries, catching up -------------------------------------------------------------


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
        start, end = reminders.kpi_window(due_on)
        expected = kpis.window_value(plan.agent.employee_id, qa.pk, start, end)
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
    assert small[:2] == large[:2]
    assert large[0] <= 7  # items, waiting plans, HR users, insert, reclaim, events
    assert large[1] <= 10  # take, load, schedule, 3 for the KPIs, notifications, mark sent


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
        caplog.at_level(logging.ERROR, logger="pips.tasks"),
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
