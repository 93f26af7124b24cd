"""Who sees which plan: one rule, `Pip.objects.visible_to(user)`, and 404 for everything else."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from pips.models import Pip

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans(alex, blake, harper, make_plan):
    return {
        "alex_draft": make_plan(alex, "draft"),
        "blake_issued": make_plan(blake, "issued", hr=harper),
    }


def visible(user: User) -> set[int]:
    return set(Pip.objects.visible_to(user).values_list("pk", flat=True))


def test_hr_and_admin_see_everything(plans, harper, admin_user):
    everything = {p.pk for p in plans.values()}
    assert visible(harper) == everything
    assert visible(admin_user) == everything


def test_supervisor_sees_only_their_agents(plans, sam, olivia):
    assert visible(sam) == {plans["alex_draft"].pk}
    assert visible(olivia) == {plans["blake_issued"].pk}


def test_agent_sees_own_plans_once_issued(plans, alex, blake):
    assert visible(alex.user) == set()  # Alex's plan is still a draft
    assert visible(blake.user) == {plans["blake_issued"].pk}


def test_user_without_roles_sees_nothing(plans):
    nobody = User.objects.create_user("nobody", password="x-long-password-12")
    assert visible(nobody) == set()


@pytest.mark.parametrize("who", ["olivia", "blake", "nobody"])
def test_outsiders_get_404_on_the_plan_page(client, plans, olivia, blake, who):
    users = {
        "olivia": olivia,
        "blake": blake.user,
        "nobody": User.objects.create_user("nobody", password="x-long-password-12"),
    }
    client.force_login(users[who])
    response = client.get(plans["alex_draft"].get_absolute_url())
    assert response.status_code == 404


def test_owner_and_hr_open_the_plan_page(client, plans, sam, harper):
    for user in (sam, harper):
        client.force_login(user)
        response = client.get(plans["alex_draft"].get_absolute_url())
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert b"2. Performance Expectations" in response.content


def test_anonymous_is_sent_to_login(client, plans):
    response = client.get(plans["alex_draft"].get_absolute_url())
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_viewing_a_plan_is_audited(client, plans, harper):
    client.force_login(harper)
    client.get(plans["alex_draft"].get_absolute_url())
    event = plans["alex_draft"].events.get(action="viewed")
    assert event.actor == harper and event.ip_address == "127.0.0.1"


def test_employee_cannot_read_a_draft_amendment(client, alex, sam, harper, make_plan):
    from pips import services

    pip = make_plan(alex, "active", hr=harper)
    services.amendment_start(actor=sam, pip=pip, change_summary="Adjust the AHT target.")
    client.force_login(alex.user)
    assert client.get(f"/pips/{pip.pk}/v1/").status_code == 200
    assert client.get(f"/pips/{pip.pk}/v2/").status_code == 404
    client.force_login(sam)
    assert client.get(f"/pips/{pip.pk}/v2/").status_code == 200
