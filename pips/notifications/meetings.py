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
from django.utils import dateformat, timezone
from django.utils.translation import gettext, pgettext, pgettext_lazy

from pips import languages
from pips.dates import add_working_days
from pips.models import Pip, ScheduleItem
from pips.notifications import emails
from pips.roles import HR
from pipsystem import ics

logger = logging.getLogger(__name__)

#: Each meeting's name inside a sentence ("Your check-in with …"), written in the reader's
#: language when the sentence is, and how long it lasts.
MEETINGS = {
    ScheduleItem.Kind.CHECKIN: (pgettext_lazy("meeting", "check-in"), dt.timedelta(minutes=30)),
    ScheduleItem.Kind.MIDPOINT: (
        pgettext_lazy("meeting", "midpoint review"),
        dt.timedelta(hours=1),
    ),
    ScheduleItem.Kind.FINAL: (pgettext_lazy("meeting", "final review"), dt.timedelta(hours=1)),
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
    """ "Monday 16 Mar 2026, 10:00 (America/New_York)": the day and month named in the
    language active now (Django's date format, not strftime, which knows one locale)."""
    local = moment.astimezone(zone)
    return f"{dateformat.format(local, 'l d M Y, H:i')} ({zone.key})"


def day_text(day: dt.date) -> str:
    """ "Monday 16 Mar 2026", named in the language active now."""
    return dateformat.format(day, "l d M Y")


def relative_day(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """ "tomorrow", as a reminder a day ahead normally says; "today" when it goes out late (a
    plan activated the day before its first check-in, a sweep that was down)."""
    days = (moment.astimezone(zone).date() - local_date(timezone.now(), zone)).days
    if days == 0:
        return pgettext("meeting is", "today")
    if days == 1:
        return pgettext("meeting is", "tomorrow")
    return pgettext("meeting is", "coming up")


def meeting_invitation(item: ScheduleItem, pip: Pip, extra: Iterable = ()) -> ics.Meeting:
    """The meeting's invitation, written in the language active now: build it inside
    `translation.override(languages.language_of(recipient))`, once per language."""
    label, duration = MEETINGS[item.kind]
    label = str(label)
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
        summary=gettext("%(meeting)s: %(agent)s with %(supervisor)s")
        % {
            "meeting": label[:1].upper() + label[1:],
            "agent": pip.agent.full_name,
            "supervisor": display_name(pip.supervisor),
        },
        description=gettext("%(meeting)s of the performance improvement plan %(reference)s.")
        % {"meeting": label[:1].upper() + label[1:], "reference": pip.reference}
        + f"\n{url}",
        language=languages.current_language(),
        url=url,
        organizer=supervisor,
        attendees=list(dict.fromkeys(people)),
    )
