"""Sessions expire: after SESSION_COOKIE_AGE of idle time, when the browser closes, and at
logout; a login starts a new session; the cookies are out of reach of scripts and other sites,
and HTTPS-only in production."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HOME = "/"


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_idle_sessions_expire(client, sam):
    idle = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert idle == dt.timedelta(minutes=30)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(sam)
        assert client.get(HOME).status_code == 200
    # Activity keeps the session alive: each request moves the expiry on.
    with time_machine.travel(start + idle - dt.timedelta(minutes=1), tick=False):
        assert client.get(HOME).status_code == 200
    with time_machine.travel(start + 2 * idle - dt.timedelta(minutes=2), tick=False):
        assert client.get(HOME).status_code == 200
    # Idle for longer than the limit: logged out.
    with time_machine.travel(start + 3 * idle, tick=False):
        assert is_login_redirect(client.get(HOME))
        assert not client.session.get("_auth_user_id")


def test_the_session_cookie_ends_with_the_browser(client, sam):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    response = client.post("/accounts/login/", {"username": "sam", "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_logout_ends_the_session_on_the_server(client, sam):
    client.force_login(sam)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(HOME).status_code == 200
    response = client.post("/accounts/logout/")
    assert is_login_redirect(response)
    assert not Session.objects.filter(session_key=key).exists()
    # A copy of the old cookie is worth nothing.
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert is_login_redirect(client.get(HOME))


def test_logout_needs_a_post(client, sam):
    client.force_login(sam)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get(HOME).status_code == 200


def test_login_starts_a_new_session(client, sam):
    client.get("/accounts/login/")
    session = client.session
    session["before"] = "login"
    session.save()
    before = session.session_key
    client.post("/accounts/login/", {"username": "sam", "password": PASSWORD})
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_cookies_are_out_of_reach_of_scripts(client, sam):
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"
