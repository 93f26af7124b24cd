"""The schedule in the team's time zone, and the iCalendar invitations."""

from __future__ import annotations

import datetime as dt

import pytest

from pips import services
from pipsystem import ics
from tests.conftest import plan_content
from tests.pips.reminders_support import (
    NEW_YORK,
    ny,
    unfold,
    utc,
)


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
