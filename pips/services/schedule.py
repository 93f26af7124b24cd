"""The dated steps of the version in force: check-ins, the midpoint and the final review."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone

from pips.models import (
    Cadence,
    Pip,
    PipVersion,
    ScheduleItem,
)


def checkin_dates(version: PipVersion) -> list[dt.date]:
    """Each check-in from the cadence and weekday, after the start and before the final review."""
    step = 14 if version.checkin_cadence == Cadence.BIWEEKLY else 7
    day = version.period_start + dt.timedelta(days=1)
    day += dt.timedelta(days=(version.checkin_weekday - day.weekday()) % 7)
    dates = []
    while day < version.final_review_date:
        if day != version.midpoint_date:
            dates.append(day)
        day += dt.timedelta(days=step)
    return dates


def _due_at(day: dt.date, tz_name: str) -> dt.datetime:
    tz = zoneinfo.ZoneInfo(tz_name or "UTC")
    local = dt.datetime.combine(day, dt.time(settings.PIP_MEETING_HOUR), tzinfo=tz)
    return local.astimezone(dt.UTC)


def schedule_write(*, pip: Pip) -> list[ScheduleItem]:
    """Write the plan's dated steps for the version in force. Steps of an earlier version that
    have not happened are cancelled; the call is safe to repeat."""
    version = pip.current_version
    wanted: list[tuple[str, dt.date]] = [
        (ScheduleItem.Kind.CHECKIN, d) for d in checkin_dates(version)
    ]
    if version.midpoint_date:
        wanted.append((ScheduleItem.Kind.MIDPOINT, version.midpoint_date))
    wanted.append((ScheduleItem.Kind.FINAL, version.final_review_date))
    now = timezone.now()
    keep = set(wanted)
    stale = [
        item.pk
        for item in pip.schedule.filter(done_at__isnull=True, cancelled_at__isnull=True)
        if (item.kind, item.due_on) not in keep
    ]
    if stale:
        ScheduleItem.objects.filter(pk__in=stale).update(cancelled_at=now)
    tz_name = pip.agent.team.timezone
    ScheduleItem.objects.bulk_create(
        [
            ScheduleItem(
                pip=pip, version=version, kind=kind, due_on=day, due_at=_due_at(day, tz_name)
            )
            for kind, day in wanted
        ],
        ignore_conflicts=True,
    )
    # A step that an earlier version cancelled and this one has again comes back (the insert
    # above skipped it: the row exists).
    revived = [
        item.pk
        for item in pip.schedule.filter(done_at__isnull=True, cancelled_at__isnull=False)
        if (item.kind, item.due_on) in keep
    ]
    if revived:
        ScheduleItem.objects.filter(pk__in=revived).update(cancelled_at=None, version=version)
    return list(pip.schedule.filter(cancelled_at__isnull=True))
