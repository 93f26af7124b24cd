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
    # HR once returned the demo agent's plan: the drafting history is there to be kept from them.
    assert waiting.events.filter(action="returned").exists()
    assert first["metrics.Sample"] > 20_000

    # Every agent can sign in: a demo login, or an account and an invitation to join.
    for agent in Agent.objects.select_related("user"):
        assert agent.user is not None, agent
        assert (
            agent.user.has_usable_password()
            or Invitation.objects.usable().filter(user=agent.user).exists()
        ), agent
    invited = Invitation.objects.count()
    # Every agent without a demo login, less the one whose employment ended (inactive).
    assert invited == 48

    call_command("seed_demo", verbosity=0)
    assert counts() == first
    assert Invitation.objects.count() == invited


def test_each_demo_user_logs_in_and_sees_their_home(client, settings):
    call_command("seed_demo", verbosity=0)
    for username, expect in [
        ("supervisor", b"Your team's plans"),
        ("agent", b"Read and sign PIP-"),
        ("hr", b"Approval queue"),
        ("admin", b"All plans"),
    ]:
        client.logout()
        response = client.post(
            "/accounts/login/", {"username": username, "password": "pipsystem-demo"}, follow=True
        )
        assert response.status_code == 200, username
        assert expect in response.content, username


def test_the_demo_agent_sees_none_of_the_drafting(client, settings):
    """Anyone trying the demo as the agent sees what the employee sees: their issued plan, not
    HR's return of it nor HR's comments."""
    call_command("seed_demo", verbosity=0)
    plan = Pip.objects.get(agent__user__username="agent")
    returned = plan.events.get(action="returned")
    client.force_login(User.objects.get(username="agent"))
    page = client.get(f"/pips/{plan.pk}/").content.decode()
    assert "Issued to the employee" in page
    assert "Returned by HR" not in page and returned.comment not in page
    client.force_login(User.objects.get(username="hr"))
    assert "Returned by HR" in client.get(f"/pips/{plan.pk}/").content.decode()
