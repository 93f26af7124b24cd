"""The whole way in, in a real browser: HR loads a 500-person roster from a file, invites a
team, one of them accepts the invitation and sets a password; an agent signs in through the
company's identity provider (a real OpenID Connect provider on this machine) and sees the plan
waiting for their signature. Screenshots go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from pips.models import Agent
from tests.browser import log_in
from tests.identity.conftest import ROLE_GROUPS
from tests.roster.conftest import csv_bytes, person
from tests.roster.test_roster_scale import roster

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NEW_PASSWORD = "a-fresh-password-for-jordan"


def test_roster_invitation_and_single_sign_on(
    chrome, live_server, shots, harper, make_plan, oidc_provider, settings, tmp_path
):
    base = live_server.url
    idp = oidc_provider(base)
    idp.settings(settings)
    settings.IDENTITY_ROLE_GROUPS = ROLE_GROUPS
    settings.SITE_URL = base

    # 500 people: 20 supervisors, and among the agents Alex (E1001, known to the provider).
    rows = roster(499)
    rows.append(
        person(
            "E1001",
            "Alex Rivera",
            team="Team 01",
            manager="S00001",
            email="alex.rivera@example.com",
        )
    )
    path = tmp_path / "workday-export.csv"
    path.write_bytes(csv_bytes(rows))

    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, base, "harper")
    page.get_by_role("link", name="People").click()
    page.fill("#id_new_source", "Workday")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Map the columns")
    # The header's names proposed every column.
    expect(page.locator("#id_supervisor_id")).to_have_value("Manager ID")
    shots(page, "map")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#roster-summary")).to_contain_text("500")
    shots(page, "preview")
    page.get_by_role("button", name="Load the roster").click()
    expect(page.get_by_role("alert")).to_contain_text("The roster is loaded.")
    shots(page, "loaded")
    assert Agent.objects.count() == 500

    # Invite a team.
    page.get_by_role("link", name="Not joined yet").click()
    page.select_option("#team-filter", label="Team 03")
    page.get_by_role("button", name="Show").click()
    team_size = Agent.objects.filter(team__name="Team 03").count()
    page.get_by_role("button", name="Invite this whole team").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{team_size} invitations sent.")
    shots(page, "team-invited")
    assert len(mail.outbox) == team_size
    context.close()

    # One of them accepts: opens the link, chooses a password, lands on their home page.
    message = mail.outbox[0]
    link = re.search(r"http://\S+/accounts/invitation/\d+/[0-9a-f]+/", message.body).group(0)
    context = chrome.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    shots(page, "invitation")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    page.get_by_role("button", name="Set my password and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    shots(page, "joined")
    context.close()

    # Alex has a plan waiting; he signs in through the identity provider.
    alex = Agent.objects.select_related("supervisor").get(employee_id="E1001")
    make_plan(alex, "issued", hr=harper)
    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.wait_for_url(re.compile(re.escape(idp.issuer)))
    shots(page, "provider-login")
    page.fill("#op-login", "alex.idp")
    page.fill("#op-password", "idp-pass-alex")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(base)))
    expect(page.locator(".todo-list")).to_contain_text("Read and sign PIP-")
    shots(page, "agent-home-via-sso")
    # Logging out ends the provider's session too, after its confirmation.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(re.escape(idp.issuer)))
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(re.compile(re.escape(base) + "/accounts/login/"))
    context.close()
