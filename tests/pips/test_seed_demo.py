from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command

from pips.models import Agent, Pip, Status
from pipsystem.identity.models import Invitation

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for config in (apps.get_app_config("pips"), apps.get_app_config("metrics"))
        for model in config.get_models()
    } | {"users": User.objects.count()}


def test_seed_demo_builds_the_demo_and_a_second_run_changes_nothing(settings):
    call_command("seed_demo", verbosity=0)
    first = counts()
    assert Agent.objects.count() == 60
    assert set(Pip.objects.values_list("status", flat=True)) == set(Status.values)
    for username in ("supervisor", "agent", "hr", "admin"):
        assert User.objects.get(username=username).check_password("pipsystem-demo")
    waiting = Pip.objects.get(agent__user__username="agent")
    assert waiting.status == Status.ISSUED
    assert first["metrics.Sample"] > 20_000

    # Every agent can sign in: a demo login, or an account and an invitation to join.
    for agent in Agent.objects.select_related("user"):
        assert agent.user is not None, agent
        assert (
            agent.user.has_usable_password()
            or Invitation.objects.usable().filter(user=agent.user).exists()
        ), agent
    invited = Invitation.objects.count()
    assert invited == 49

    call_command("seed_demo", verbosity=0)
    assert counts() == first
    assert Invitation.objects.count() == invited


def test_each_demo_user_logs_in_and_sees_their_home(client, settings):
    call_command("seed_demo", verbosity=0)
    for username, expect in [
        ("supervisor", b"Your team's plans"),
        ("agent", b"Waiting for your signature"),
        ("hr", b"Approval queue"),
        ("admin", b"All plans"),
    ]:
        client.logout()
        response = client.post(
            "/accounts/login/", {"username": username, "password": "pipsystem-demo"}, follow=True
        )
        assert response.status_code == 200, username
        assert expect in response.content, username
