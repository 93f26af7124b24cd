"""Issuing a plan to someone who cannot sign in says so, and offers the invitation (or the
paper path)."""

from __future__ import annotations

import pytest
from django.core import mail

from pipsystem.identity.models import Invitation

pytestmark = pytest.mark.django_db


def test_the_issue_page_warns_and_the_supervisor_can_invite(
    client, alex, sam, harper, make_plan, django_capture_on_commit_callbacks
):
    alex.user.set_unusable_password()
    alex.user.save()
    pip = make_plan(alex, "approved", hr=harper)
    client.force_login(sam)
    page = client.get(f"/pips/{pip.pk}/issue/").content.decode()
    assert "Alex Rivera cannot sign in to pipsystem yet" in page
    assert "record the refusal with a witness" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/people/invitations/",
            {"scope": "people", "agents": [alex.pk], "next": f"/pips/{pip.pk}/issue/"},
        )
    assert response["Location"] == f"/pips/{pip.pk}/issue/"
    assert mail.outbox[-1].to == ["alex@example.com"]
    assert Invitation.objects.usable().filter(user=alex.user).exists()


def test_no_warning_for_someone_who_can_sign_in(client, alex, sam, harper, make_plan):
    pip = make_plan(alex, "approved", hr=harper)
    client.force_login(sam)
    assert "cannot sign in" not in client.get(f"/pips/{pip.pk}/issue/").content.decode()
