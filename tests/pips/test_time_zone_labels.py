"""Times on the web pages carry their time zone's label, so a time is never read in the wrong
zone (reminders use the team's zone; pages the reader's, here HR's without a team or a choice:
the organisation's; see test_reader_time_zones)."""

from __future__ import annotations

import pytest
from django.utils import dateformat, timezone

pytestmark = pytest.mark.django_db


def test_times_on_the_plan_page_and_audit_trail_carry_their_zone(
    client, alex, harper, make_plan, settings
):
    settings.TIME_ZONE = "America/New_York"
    pip = make_plan(alex, "active", hr=harper)
    signed_at = pip.current_version.signatures.order_by("signed_at").first().signed_at
    label = dateformat.format(timezone.localtime(signed_at), "d M Y H:i T")
    assert label.endswith((" EST", " EDT"))
    client.force_login(harper)
    assert label in client.get(f"/pips/{pip.pk}/").content.decode()
    trail = client.get(f"/pips/{pip.pk}/audit/").content.decode()
    assert dateformat.format(timezone.localtime(signed_at), "d M Y H:i:s T") in trail
