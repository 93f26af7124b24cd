"""Each reader sees times in their own zone, labelled with it: an employee and a supervisor in
their team's, HR and administrators in their profile's, else the organisation's (pips.zones).
The PDF prints the employee's team's zone whoever downloads it."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pips import zones
from pips.languages import ProfileModelBackend
from pips.models import Profile

pytestmark = pytest.mark.django_db

SIGNED_AT = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)


@pytest.fixture
def signed(alex, harper, make_plan, billing, settings):
    settings.TIME_ZONE = "UTC"
    billing.timezone = "America/Chicago"
    billing.save(update_fields=["timezone"])
    # Signatures are never changed: the plan is signed at that moment.
    with time_machine.travel(SIGNED_AT, tick=False):
        return make_plan(alex, "active", hr=harper)


def page(client, user, url: str) -> str:
    client.force_login(user)
    return client.get(url).content.decode()


def test_a_supervisor_in_chicago_and_hr_in_paris_read_one_signature_in_their_own_zone(
    client, signed, sam, harper
):
    Profile.objects.create(user=harper, time_zone="Europe/Paris")
    url = reverse("pips:detail", args=[signed.pk])
    # 15:30 UTC on 2 March 2026: 09:30 in Chicago (CST), 16:30 in Paris (CET).
    supervisor_sees = page(client, sam, url)
    assert "09:30 CST" in supervisor_sees
    assert "16:30 CET" not in supervisor_sees
    hr_sees = page(client, harper, url)
    assert "16:30 CET" in hr_sees
    assert "09:30 CST" not in hr_sees
    # The audit trail too, with the seconds.
    assert "02 Mar 2026 16:30:00 CET" in page(client, harper, f"{url}audit/")


def test_the_employee_reads_their_teams_zone_and_hr_without_a_choice_the_organisations(
    client, signed, alex, harper, settings
):
    settings.TIME_ZONE = "Asia/Tokyo"
    url = reverse("pips:detail", args=[signed.pk])
    assert "09:30 CST" in page(client, alex.user, url)
    # 15:30 UTC is 00:30 the next day in Tokyo.
    assert "00:30 JST" in page(client, harper, url)


def test_a_zone_chosen_on_the_profile_wins_over_the_teams(client, signed, alex):
    Profile.objects.create(user=alex.user, time_zone="Europe/Lisbon")
    # Lisbon is on UTC in winter: WET.
    assert "15:30 WET" in page(client, alex.user, reverse("pips:detail", args=[signed.pk]))


def test_the_profile_page_saves_a_time_zone(client, alex_user):
    client.force_login(alex_user)
    response = client.post(
        reverse("pips:profile"), {"language": "", "time_zone": " America/Sao_Paulo "}
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=alex_user).time_zone == "America/Sao_Paulo"
    form = client.get(reverse("pips:profile")).content.decode()
    assert 'value="America/Sao_Paulo"' in form
    assert '<option value="Europe/Paris">' in form  # the names offered as one types


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "../../etc/passwd", "Europe/"])
def test_an_invalid_time_zone_is_a_field_error(client, alex_user, bad):
    client.force_login(alex_user)
    response = client.post(reverse("pips:profile"), {"language": "", "time_zone": bad})
    assert response.status_code == 200
    form = response.context["form"]
    assert "is not a time zone name" in form.errors["time_zone"][0]
    assert not Profile.objects.filter(user=alex_user).exclude(time_zone="").exists()
    assert 'id="id_time_zone"' in response.content.decode()
    assert "is-invalid" in response.content.decode()


def test_the_service_refuses_a_zone_that_is_not_one(alex_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        zones.profile_time_zone_set(user=alex_user, time_zone="Nowhere/Town")
    assert "time_zone" in refused.value.error_dict


def test_a_supervisors_zone_is_their_agents_teams(sam, alex, billing, retention, settings):
    from pips.models import Agent

    settings.TIME_ZONE = "UTC"
    billing.timezone = "America/Chicago"
    billing.save(update_fields=["timezone"])
    retention.timezone = "Europe/Madrid"
    retention.save(update_fields=["timezone"])
    for n in range(2):
        Agent.objects.create(
            employee_id=f"E90{n}", full_name=f"Agent {n}", team=retention, supervisor=sam
        )
    assert zones.zone_of(sam) == "Europe/Madrid"  # two agents in Madrid, one in Chicago
    # As a page loads the user: the zone comes with them.
    loaded = ProfileModelBackend().get_user(sam.pk)
    assert loaded.supervised_zone == "Europe/Madrid"
    assert zones.zone_of(loaded) == "Europe/Madrid"
    Agent.objects.filter(supervisor=sam).update(is_active=False)
    assert zones.zone_of(ProfileModelBackend().get_user(sam.pk)) == "UTC"


def test_knowing_the_zone_costs_no_query_after_the_first_page(client, sam, alex, billing):
    """The employee's team comes with the user; a supervisor's zone is kept in the session."""
    for user in (alex.user, sam):
        client.force_login(user)
        url = reverse("pips:notifications")
        client.get(url)
        client.get(url)
        with CaptureQueriesContext(connection) as before:
            client.get(url)
        Profile.objects.update_or_create(user=user, defaults={"time_zone": "Europe/Paris"})
        client.get(url)
        with CaptureQueriesContext(connection) as chosen:
            client.get(url)
        assert len(chosen) == len(before), user


def test_the_pdf_prints_the_employees_team_zone_whoever_reads_it(signed):
    from django.utils import timezone

    from pips.printing import render
    from pips.selectors import version_with_sections

    version = version_with_sections(signed.current_version_id)
    # Printed while HR in Paris reads (the zone their request activated).
    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        html = render.print_html(pip=signed, version=version, current_hash=version.content_sha256)
    assert "09:30 CST" in html
    assert "16:30 CET" not in html
    assert "Times are in the team's time zone, America/Chicago." in html


def test_the_zone_list_holds_iana_names():
    names = zones.zone_names()
    assert "Europe/Paris" in names and "UTC" in names
    assert all(zoneinfo.ZoneInfo(name) for name in names[:50])


def test_the_readers_zone_is_for_what_pages_show_not_for_the_domains_dates(harper, settings):
    """Late in the evening in New York it is already tomorrow in Tokyo: a Tokyo reader's page
    shows Tokyo times, but the dates the domain decides with (a review's day, who covers today,
    the PDF copy's key) stay the organisation's."""
    settings.TIME_ZONE = "America/New_York"
    Profile.objects.create(user=harper, time_zone="Asia/Tokyo")
    seen = {}

    def view(request):
        seen["page"] = request.time_zone
        seen["domain_today"] = timezone.localdate()
        return HttpResponse()

    request = RequestFactory().get("/")
    request.user = harper
    with time_machine.travel(
        dt.datetime(2026, 3, 2, 23, 30, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)), tick=False
    ):
        zones.UserTimeZoneMiddleware(view)(request)
    assert seen["page"] == zoneinfo.ZoneInfo("Asia/Tokyo")
    assert seen["domain_today"] == dt.date(2026, 3, 2)
