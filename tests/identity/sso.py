"""Signing in through the test OpenID provider without a browser: the Django test client for
our side, a requests session (with the provider's cookies) for the provider's side."""

from __future__ import annotations

import re
from html import unescape

import requests

TESTSERVER = "http://testserver"


def _follow_provider(session: requests.Session, issuer: str, response) -> str:
    """Follow the provider's redirects until one points back at the app; return that URL."""
    while response.status_code in (302, 303):
        location = response.headers["Location"]
        if location.startswith("/"):
            location = issuer + location
        if not location.startswith(issuer):
            return location
        response = session.get(location, allow_redirects=False, timeout=10)
    raise AssertionError(f"the provider answered {response.status_code}: {response.text[:500]}")


def sso_login(client, provider, login: str, password: str, session=None, next_url: str = ""):
    """The whole code flow: our redirect to the provider, its login form, its redirect back to
    our callback. Returns the callback's response (and the provider session)."""
    session = session or requests.Session()
    start = client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start
    assert start["Location"].startswith(provider.issuer + "/auth?")
    response = session.get(start["Location"], allow_redirects=False, timeout=10)
    location = _follow_provider_until_form(session, provider.issuer, response)
    if location is None:  # already signed in at the provider: straight back
        back = _follow_provider(session, provider.issuer, response)
    else:
        form_url, page = location
        action = unescape(re.search(r'action="([^"]+)"', page).group(1))
        response = session.post(
            provider.issuer + action,
            data={"login": login, "password": password},
            allow_redirects=False,
            timeout=10,
        )
        back = _follow_provider(session, provider.issuer, response)
    assert back.startswith(TESTSERVER + "/oidc/callback/"), back
    return client.get(back.removeprefix(TESTSERVER)), session


def _follow_provider_until_form(session, issuer, response):
    while response.status_code in (302, 303):
        location = response.headers["Location"]
        if location.startswith("/"):
            location = issuer + location
        if not location.startswith(issuer):
            return None
        response = session.get(location, allow_redirects=False, timeout=10)
    if 'name="login"' in response.text:
        return response.url, response.text
    raise AssertionError(f"unexpected provider page: {response.status_code} {response.text[:300]}")
