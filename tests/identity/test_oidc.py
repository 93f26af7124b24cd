"""Single sign-on against a real OpenID Connect provider (tests/oidc/provider.mjs): the code
flow with PKCE, matching by employee ID and by e-mail, roles from the provider's groups,
refusals, and logging out of the provider too."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import User

from pips import roles
from pipsystem.identity import invitations
from pipsystem.identity.models import Invitation
from tests.identity.conftest import ROLE_GROUPS
from tests.identity.sso import TESTSERVER, sso_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(oidc_provider, settings):
    idp = oidc_provider(TESTSERVER)
    idp.settings(settings)
    settings.IDENTITY_ROLE_GROUPS = ROLE_GROUPS
    return idp


def test_an_agent_is_matched_by_employee_id_and_lands_on_home(client, provider, alex):
    response, _ = sso_login(client, provider, "alex.idp", "idp-pass-alex")
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert home.wsgi_request.user == alex.user
    # The provider's e-mail did not replace ours, nor did anyone get a new account.
    alex.user.refresh_from_db()
    assert alex.user.email == "alex@example.com"
    assert User.objects.filter(username__startswith="idp").count() == 0


def test_an_employee_record_without_an_account_gets_one_at_first_sign_in(
    client, provider, billing, sam
):
    from pips.models import Agent

    agent = Agent.objects.create(
        employee_id="E1001", full_name="Alex Rivera", team=billing, supervisor=sam
    )
    response, _ = sso_login(client, provider, "alex.idp", "idp-pass-alex")
    assert response.status_code == 302 and response["Location"] == "/"
    agent.refresh_from_db()
    assert agent.user is not None and agent.user.username == "E1001"
    assert not agent.user.has_usable_password()


def test_a_pending_invitation_is_used_up_by_signing_in(client, provider, alex, harper):
    alex.user.set_unusable_password()
    alex.user.save()
    [invitation] = invitations.invitations_send(actor=harper, users=[alex.user])
    sso_login(client, provider, "alex.idp", "idp-pass-alex")
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.accepted_via == "sso"


def test_hr_is_matched_by_email_whatever_its_case_and_gets_the_role_from_groups(
    client, provider, db
):
    harper = User.objects.create_user("harper", "harper@example.com")
    assert not roles.is_hr(harper)
    response, _ = sso_login(client, provider, "harper.idp", "idp-pass-harper")
    assert response["Location"] == "/"
    harper = User.objects.get(pk=harper.pk)
    assert roles.is_hr(harper)


def test_a_role_the_groups_no_longer_give_is_withdrawn(client, provider, harper, settings):
    settings.IDENTITY_ROLE_GROUPS = {"PIP Supervisors": "supervisor", "Payroll": "hr"}
    # Harper's groups no longer include one that gives HR, and she has no other role.
    response, _ = sso_login(client, provider, "harper.idp", "idp-pass-harper")
    assert response["Location"] == "/accounts/sso/refused/"
    assert not roles.is_hr(User.objects.get(pk=harper.pk))


def test_a_known_user_without_any_role_is_refused(client, provider, db):
    User.objects.create_user("norole", "norole@example.com")
    response, _ = sso_login(client, provider, "norole.idp", "idp-pass-norole")
    assert response["Location"] == "/accounts/sso/refused/"
    page = client.get("/accounts/sso/refused/")
    assert page.status_code == 403
    assert "no role in pipsystem" in page.content.decode()
    assert "_auth_user_id" not in client.session


def test_someone_not_on_the_roster_is_refused_and_no_account_is_made(client, provider, db):
    response, _ = sso_login(client, provider, "stranger.idp", "idp-pass-stranger")
    assert response["Location"] == "/accounts/sso/refused/"
    assert "no account here matches" in client.get("/accounts/sso/refused/").content.decode()
    assert not User.objects.filter(email__iexact="stranger@elsewhere.example").exists()


def test_a_deactivated_account_is_refused(client, provider, alex):
    alex.user.is_active = False
    alex.user.save()
    response, _ = sso_login(client, provider, "alex.idp", "idp-pass-alex")
    assert response["Location"] == "/accounts/sso/refused/"
    assert "deactivated" in client.get("/accounts/sso/refused/").content.decode()


def test_logout_ends_the_provider_session_too(client, provider, alex):
    _, idp_session = sso_login(client, provider, "alex.idp", "idp-pass-alex")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.issuer}/session/end"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == [f"{TESTSERVER}/accounts/login/"]
    assert query["id_token_hint"]
    assert "_auth_user_id" not in client.session
    # The provider asks to confirm, then sends the browser back to our login page.
    confirm = idp_session.get(response["Location"], timeout=10)
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', confirm.text, re.S)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    done = idp_session.post(
        provider.issuer + unescape(form.group(1))
        if form.group(1).startswith("/")
        else unescape(form.group(1)),
        data={**fields, "logout": "yes"},
        allow_redirects=False,
        timeout=10,
    )
    assert done.headers["Location"].startswith(f"{TESTSERVER}/accounts/login/")
    # Signing in again needs the provider's password again.
    response, _ = sso_login(client, provider, "alex.idp", "idp-pass-alex", session=idp_session)
    assert response["Location"] == "/"


def test_the_login_page_offers_single_sign_on(client, provider):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Test IdP" in page
    assert 'name="password"' in page


def test_with_local_passwords_off_only_single_sign_on_is_offered(client, provider, settings, alex):
    settings.LOCAL_PASSWORDS = False
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "pipsystem.identity.oidc.RoleMappedOIDCBackend",
    ]
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Test IdP" in page
    assert 'name="password"' not in page
    from tests.conftest import PASSWORD

    client.post("/accounts/login/", {"username": "alex", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    response, _ = sso_login(client, provider, "alex.idp", "idp-pass-alex")
    assert response["Location"] == "/"


def test_a_wrong_state_is_refused(client, provider):
    response = client.get("/oidc/callback/?code=abc&state=forged")
    assert response.status_code in (302, 400)
    assert "_auth_user_id" not in client.session
    assert Invitation.objects.count() == 0


def test_refused_sign_ins_from_one_address_do_not_lock_out_the_others(client, provider, alex):
    # A floor of agents shares one public address: refusals must not lock the next person out.
    User.objects.create_user("norole", "norole@example.com")
    for _ in range(7):
        response, _ = sso_login(client, provider, "norole.idp", "idp-pass-norole")
        assert response["Location"] == "/accounts/sso/refused/"
    response, _ = sso_login(client, provider, "alex.idp", "idp-pass-alex")
    assert response["Location"] == "/"


def test_settings_read_the_provider_from_the_environment():
    """What an administrator sets (README): the endpoints by name, and the logout form may
    go to the provider's end-session endpoint under the content security policy."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "OIDC_CLIENT_ID": "pipsystem",
        "OIDC_CLIENT_SECRET": "secret",
        "OIDC_AUTHORIZATION_ENDPOINT": "https://corp.okta.com/oauth2/v1/authorize",
        "OIDC_TOKEN_ENDPOINT": "https://corp.okta.com/oauth2/v1/token",
        "OIDC_USERINFO_ENDPOINT": "https://corp.okta.com/oauth2/v1/userinfo",
        "OIDC_JWKS_ENDPOINT": "https://corp.okta.com/oauth2/v1/keys",
        "OIDC_END_SESSION_ENDPOINT": "https://corp.okta.com/oauth2/v1/logout",
        "IDENTITY_ROLE_GROUPS": "PIP HR=hr,PIP Supervisors=supervisor",
        "LOCAL_PASSWORDS": "false",
        "DJANGO_SETTINGS_MODULE": "pipsystem.settings",
    }
    code = (
        "from django.conf import settings as s;"
        "print(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']);"
        "print(s.IDENTITY_ROLE_GROUPS);print(s.AUTHENTICATION_BACKENDS)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "https://corp.okta.com" in out
    assert "'PIP HR': 'hr'" in out
    assert "ModelBackend'" not in out.splitlines()[2].replace("RoleMappedOIDCBackend", "")
    env["OIDC_TOKEN_ENDPOINT"] = ""
    broken = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert broken.returncode != 0 and "also set OIDC_TOKEN_ENDPOINT" in broken.stderr


def test_claims_only_in_the_id_token_count_and_must_be_about_the_same_person(monkeypatch, rf):
    """Entra ID sends groups and the employee ID in the ID token, not at the userinfo endpoint."""
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    from pipsystem.identity.oidc import RoleMappedOIDCBackend

    answers = {"sub": "idp-0001", "email": "alex@example.com"}
    monkeypatch.setattr(OIDCAuthenticationBackend, "get_userinfo", lambda *a: dict(answers))
    backend = RoleMappedOIDCBackend()
    backend.request = rf.get("/")
    backend.request.session = {}
    payload = {"sub": "idp-0001", "groups": ["PIP HR"], "employee_id": "E1001"}
    claims = backend.get_userinfo("access", "id", payload)
    assert claims["groups"] == ["PIP HR"] and claims["email"] == "alex@example.com"
    answers["sub"] = "someone-else"
    from django.core.exceptions import SuspiciousOperation

    with pytest.raises(SuspiciousOperation):
        backend.get_userinfo("access", "id", payload)
