"""What the e-mails about a plan's meetings share: the team's clock, names and addresses, links
to the plan, the HR people to tell, and the iCalendar invitation. Used by the reminder sweep and
by the notification of an opened review."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from pips.dates import add_working_days
from pips.models import Pip, ScheduleItem
from pips.notifications import emails
from pips.roles import HR
from pipsystem import ics

logger = logging.getLogger(__name__)

MEETINGS = {
    ScheduleItem.Kind.CHECKIN: ("check-in", dt.timedelta(minutes=30)),
    ScheduleItem.Kind.MIDPOINT: ("midpoint review", dt.timedelta(hours=1)),
    ScheduleItem.Kind.FINAL: ("final review", dt.timedelta(hours=1)),
}


def team_zone(pip: Pip) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(pip.agent.team.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        logger.warning("Team %s has an unknown time zone; using UTC", pip.agent.team_id)
        return zoneinfo.ZoneInfo("UTC")


def working_days_after(moment: dt.datetime, days: int, zone: dt.tzinfo) -> dt.datetime:
    """`days` working days (Monday to Friday) after a moment, counted on the team's calendar:
    the same wall-clock time on that day, so a DST change does not move it."""
    return add_working_days(moment.astimezone(zone), days)


def local_date(moment: dt.datetime, zone: dt.tzinfo) -> dt.date:
    return moment.astimezone(zone).date()


class HrUsers:
    """All active HR users, loaded once per sweep and only if someone needs them."""

    def __init__(self) -> None:
        self._users: list | None = None

    def all(self) -> list:
        if self._users is None:
            self._users = list(
                get_user_model()
                .objects.filter(groups__name=HR, is_active=True)
                .distinct()
                .order_by("pk")
            )
        return self._users

    def for_plan(self, pip: Pip) -> list:
        """The plan's HR: whoever approved it, or every HR user when no one has yet."""
        if pip.approved_by_id and pip.approved_by.is_active:
            return [pip.approved_by]
        return [u for u in self.all() if u.pk != pip.supervisor_id]


def plan_url(pip: Pip, name: str = "pips:detail") -> str:
    """A page of the plan (its detail page unless named)."""
    return reverse(name, args=[pip.pk])


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def email_of(user, pip: Pip) -> str:
    if pip.agent.user_id == user.pk and pip.agent.email:
        return pip.agent.email
    return user.email


def when_text(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A %d %b %Y, %H:%M} ({zone.key})"


def relative_day(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """ "tomorrow", as a reminder a day ahead normally says; "today" when it goes out late (a
    plan activated the day before its first check-in, a sweep that was down)."""
    days = (moment.astimezone(zone).date() - local_date(timezone.now(), zone)).days
    return {0: "today", 1: "tomorrow"}.get(days, "coming up")


def meeting_invitation(item: ScheduleItem, pip: Pip, extra: Iterable = ()) -> ics.Meeting:
    label, duration = MEETINGS[item.kind]
    supervisor = ics.Person(display_name(pip.supervisor), pip.supervisor.email)
    people = [supervisor]
    agent_email = pip.agent.email or (pip.agent.user.email if pip.agent.user else "")
    if agent_email:
        people.append(ics.Person(pip.agent.full_name, agent_email))
    people += [ics.Person(display_name(u), u.email) for u in extra if u.email]
    url = emails.absolute(plan_url(pip))
    return ics.Meeting(
        uid=ics.uid_for(item.pk),
        start=item.due_at,
        duration=duration,
        summary=f"{label.capitalize()}: {pip.agent.full_name} with {display_name(pip.supervisor)}",
        description=f"{label.capitalize()} of the performance improvement plan "
        f"{pip.reference}.\n{url}",
        url=url,
        organizer=supervisor,
        attendees=list(dict.fromkeys(people)),
    )
