"""A whole plan, day by day: reminders to the right people on the right day, reviews opened
once, escalations."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.core import mail

from metrics.models import Kpi
from metrics.queries import window_means
from pips import services, tasks
from pips.models import (
    AuditEvent,
    Notification,
    Pip,
    Reminder,
    Review,
    ScheduleItem,
    SignerRole,
    Status,
)
from pips.services import CheckInInput, ReviewItemInput
from tests.conftest import plan_content
from tests.pips.reminders_support import (
    NEW_YORK,
    OURS,
    load_samples,
    ny,
    sent_reminders,
    sig,
    unfold,
    utc,
)


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

    # The reminder for 12 March carries that week's numbers, as metrics has them.
    reminder = next(
        m
        for m in mail.outbox
        if m.to == ["sam@example.com"]
        and m.subject.startswith("Tomorrow: check-in")
        and "Thursday 12 Mar 2026, 10:00 (America/New_York)" in m.subject
    )
    qa = Kpi.objects.get(code="qa_score")
    week = window_means(
        employee_id=alex.employee_id,
        kpi_ids=[qa.pk],
        start=dt.date(2026, 3, 4),
        end=dt.date(2026, 3, 10),
    )[qa.pk]
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
