"""Which time zone each person reads times in, as `pips.languages` says which language.

The zone they chose on their profile; else, for an employee, their team's (Team.timezone, where
their check-ins are scheduled); for a supervisor, the zone most of their agents' teams are in;
else the organisation's (settings.TIME_ZONE). Every time on a page is shown in that zone and
labelled with it ("10:00 CST"), so HR in Paris and a supervisor in Chicago read one signature
time each in their own clock, never ambiguously. A plan's PDF prints the employee's team's zone
(pips.printing.render), whoever downloads it.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """The IANA names a person may choose ("Europe/Paris"), sorted; the legacy aliases and the
    Etc/ offsets left out of the list (they are still accepted when typed)."""
    skipped = ("Etc/", "SystemV/", "US/", "posix", "right/")
    return tuple(
        sorted(
            name
            for name in zoneinfo.available_timezones()
            if "/" in name and not name.startswith(skipped)
        )
        + ["UTC"]
    )


def default_zone() -> str:
    """The organisation's zone."""
    return settings.TIME_ZONE


def chosen_zone(user) -> str:
    """The zone the person chose on their profile, "" for none. Costs no query when the profile
    came with the user (pips.languages.LanguageUserMixin)."""
    profile = getattr(user, "profile", None)
    return getattr(profile, "time_zone", "") or ""


def supervised_zone(user_ref) -> Subquery:
    """The zone of the team most of a supervisor's active agents work in, as a subquery on the
    user (``user_ref``, an OuterRef to the user's pk): the user is loaded with it
    (pips.languages.LanguageUserMixin), so a page pays no query of its own for it."""
    from pips.models import Agent

    return Subquery(
        Agent.objects.filter(supervisor=user_ref, is_active=True)
        .values("team__timezone")
        .annotate(agents=Count("pk"))
        .order_by("-agents", "team__timezone")
        .values("team__timezone")[:1]
    )


def team_zone_of(user) -> str:
    """The zone of the person's team: an employee's own team; for anyone else, the team most
    of the agents they supervise work in; "" when they have none."""
    agent = getattr(user, "agent_profile", None)
    if agent is not None:
        return agent.team.timezone
    if hasattr(user, "supervised_zone"):
        return user.supervised_zone or ""
    from django.contrib.auth import get_user_model

    found = (
        get_user_model()
        ._default_manager.filter(pk=user.pk)
        .values_list(supervised_zone(OuterRef("pk")), flat=True)
        .first()
    )
    return found or ""


def zone_of(user) -> str:
    """The zone a person reads times in: their choice, else their team's, else the
    organisation's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return default_zone()
    return chosen_zone(user) or team_zone_of(user) or default_zone()


def profile_time_zone_set(*, user, time_zone: str) -> str:
    """Set the zone a person reads times in ("" for their team's or the organisation's).
    Returns the zone now in effect. Refuses a name that is not an IANA time zone."""
    from pips.models import Profile, validate_timezone

    time_zone = time_zone.strip()
    if time_zone:
        try:
            validate_timezone(time_zone)
        except ValidationError as error:
            raise ValidationError({"time_zone": error.messages}) from None
    profile, _created = Profile.objects.get_or_create(user=user)
    if profile.time_zone != time_zone:
        profile.time_zone = time_zone
        profile.save(update_fields=["time_zone"])
    user.profile = profile
    return zone_of(user)


class UserTimeZoneMiddleware:
    """After login, every time on a page is in the reader's zone (zone_of); before it, the
    organisation's. Runs after AuthenticationMiddleware: the profile, the employee's team and
    a supervisor's team zone come with the user (pips.languages.LanguageUserMixin), so a page
    costs no query for it.

    The zone is `request.time_zone`, applied where pages are rendered (base.html's `timezone`
    block), not activated for the whole request: the domain's dates (today, a review's day, who
    covers on which day, the PDF copy's key) stay the organisation's whoever asks."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        name = zone_of(user)
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            # A zone removed from the system's database since it was saved: the default.
            zone = zoneinfo.ZoneInfo(default_zone())
        request.time_zone = zone
        return self.get_response(request)
