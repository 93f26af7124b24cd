"""Invitations: a single-use link that expires, set a password (or go to single sign-on),
resend, and who has not joined."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from pipsystem.identity import invitations
from pipsystem.identity.models import Invitation

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def newcomer(db) -> User:
    user = User.objects.create_user(
        "E3001", "casey.kim@example.com", None, first_name="Casey", last_name="Kim"
    )
    assert not user.has_usable_password()
    return user


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Invite as the page does: the e-mails are queued once the transaction commits."""

    def send(actor, users):
        with django_capture_on_commit_callbacks(execute=True):
            return invitations.invitations_send(actor=actor, users=users)

    return send


def _link(message) -> str:
    return re.search(r"http://[^\s]+/accounts/invitation/\d+/[0-9a-f]+/", message.body).group(0)


def test_hr_invites_and_the_email_has_a_working_link(invite, client, harper, newcomer, settings):
    [invitation] = invite(harper, [newcomer])
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["casey.kim@example.com"]
    assert "E3001" in message.body  # the username to sign in with
    url = _link(message).removeprefix(settings.SITE_URL)
    page = client.get(url)
    assert page.status_code == 200
    assert "Welcome, Casey Kim" in page.content.decode()
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    newcomer.refresh_from_db()
    assert newcomer.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(newcomer.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_via == "password" and invitation.sent_at is not None
    # Single use: the same link again is gone, and says what to do.
    client.logout()
    again = client.get(url)
    assert again.status_code == 410
    assert "ask HR" in again.content.decode()


def test_the_link_expires(invite, client, harper, newcomer, settings):
    invite(harper, [newcomer])
    url = _link(mail.outbox[0]).removeprefix(settings.SITE_URL)
    later = timezone.now() + dt.timedelta(days=settings.INVITATION_VALID_DAYS, minutes=1)
    with time_machine.travel(later):
        assert client.get(url).status_code == 410
        response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code == 410
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()


def test_a_forged_or_altered_token_is_not_found(invite, client, harper, newcomer, settings):
    [invitation] = invite(harper, [newcomer])
    url = _link(mail.outbox[0]).removeprefix(settings.SITE_URL)
    altered = url[:-3] + ("0" if url[-3] != "0" else "1") + url[-2:]
    assert client.get(altered).status_code == 404
    assert client.get(f"/accounts/invitation/{invitation.pk + 1}/{'a' * 64}/").status_code == 404


def test_resend_revokes_the_earlier_link(invite, client, harper, newcomer, settings):
    invite(harper, [newcomer])
    first = _link(mail.outbox[0]).removeprefix(settings.SITE_URL)
    invite(harper, [newcomer])
    second = _link(mail.outbox[1]).removeprefix(settings.SITE_URL)
    assert first != second
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    assert Invitation.objects.pending().filter(user=newcomer).count() == 1


def test_a_weak_or_mismatched_password_is_refused_at_its_field(
    invite, client, harper, newcomer, settings
):
    invite(harper, [newcomer])
    url = _link(mail.outbox[0]).removeprefix(settings.SITE_URL)
    response = client.post(url, {"password1": "password", "password2": "password"})
    assert response.status_code == 200
    assert "too short" in response.content.decode() or "too common" in response.content.decode()
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert "The two passwords differ." in response.content.decode()
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()
    assert Invitation.objects.usable().filter(user=newcomer).exists()


def test_people_who_joined_or_have_no_email_are_not_invited(invite, harper, alex, newcomer, db):
    no_email = User.objects.create_user("E3002", "", None)
    sent = invite(harper, [alex.user, newcomer, no_email])
    assert [i.user for i in sent] == [newcomer]
    assert not invitations.has_joined(newcomer)
    assert invitations.has_joined(alex.user)


def test_each_email_goes_out_once_even_if_the_task_runs_twice(invite, harper, newcomer):
    [invitation] = invite(harper, [newcomer])
    assert len(mail.outbox) == 1
    assert invitations.send_pending([invitation.pk]) == 0
    assert len(mail.outbox) == 1


def test_the_catch_up_sends_what_could_not_be_queued(invite, harper, newcomer, monkeypatch):
    from pipsystem.identity import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.send_invitations, "delay", broker_down)
    [invitation] = invite(harper, [newcomer])
    assert mail.outbox == []
    monkeypatch.undo()
    assert tasks.send_unsent_invitations() == 1
    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_with_single_sign_on_the_page_offers_it(invite, client, harper, newcomer, settings):
    settings.OIDC_RP_CLIENT_ID = "pips"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example.com/auth"
    invite(harper, [newcomer])
    assert "sign in with your company account" in mail.outbox[0].body
    page = client.get(_link(mail.outbox[0]).removeprefix(settings.SITE_URL)).content.decode()
    assert "/oidc/authenticate/" in page
    settings.LOCAL_PASSWORDS = False
    page = client.get(_link(mail.outbox[0]).removeprefix(settings.SITE_URL)).content.decode()
    assert 'name="password1"' not in page


def test_the_email_is_in_the_invitees_language_not_the_senders(invite, harper, newcomer):
    from django.utils import translation

    from pips.models import Profile

    Profile.objects.create(user=newcomer, language="fr")
    with translation.override("en"):  # HR's page
        invite(harper, [newcomer])
    (message,) = mail.outbox
    assert message.subject.startswith("Vous êtes invité à ")
    assert translation.get_language() == "en"


def test_without_a_chosen_language_the_email_is_in_the_rosters(invite, harper, newcomer):
    from pips.models import Agent, Team

    team = Team.objects.create(name="Ventas")
    Agent.objects.create(
        employee_id="E3001", full_name="Casey Kim", team=team, user=newcomer, language="fr"
    )
    invite(harper, [newcomer])
    (message,) = mail.outbox
    assert message.subject.startswith("Vous êtes invité à ")
