"""The cookies as a browser receives them: neither the session nor the CSRF cookie can be read by
a script (SECURITY.md says so; no script of the app reads the CSRF cookie, the forms carry the
token)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_the_csrf_cookie_is_httponly_and_samesite(client):
    response = client.get("/accounts/login/")
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_the_session_cookie_is_httponly_and_samesite(client, sam):
    from tests.conftest import PASSWORD

    response = client.post("/accounts/login/", {"username": "sam", "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_no_script_of_the_app_reads_the_csrf_cookie():
    scripts = Path(settings.BASE_DIR, "static", "js").glob("*.js")
    for script in scripts:
        text = script.read_text()
        assert "document.cookie" not in text, script.name
        assert "csrftoken" not in text, script.name
