"""Teams are kept in the admin; their time zone drives every schedule, so it must be real."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pips.models import Team

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Manila"])
def test_time_zone_names_are_accepted(name):
    Team(name="Billing", timezone=name).full_clean()


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "CET+1", "../etc/passwd", "berlin", ""])
def test_other_time_zones_are_refused_with_a_message(name):
    with pytest.raises(ValidationError) as caught:
        Team(name="Billing", timezone=name).full_clean()
    assert "timezone" in caught.value.message_dict


def test_the_admin_says_what_is_wrong(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:pips_team_add"),
        {"name": "Billing", "department": "Care", "timezone": "Europe/Berlln"},
    )
    assert response.status_code == 200
    assert "Europe/Berlln is not a time zone name" in response.content.decode()
    assert not Team.objects.filter(name="Billing").exists()

    response = client.post(
        reverse("admin:pips_team_add"),
        {"name": "Billing", "department": "Care", "timezone": "Europe/Berlin"},
    )
    assert response.status_code == 302
    assert Team.objects.get(name="Billing").timezone == "Europe/Berlin"
