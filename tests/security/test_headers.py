"""Headers on every response: a Content Security Policy that allows only the app's own scripts,
styles and images (plus data: images, the drawn signatures), no framing, no MIME sniffing, a
same-origin referrer, and `Cache-Control: no-store` on everything but static files. Every page
is requested and checked for what that policy would block: inline scripts, event-handler
attributes, style attributes and <style> elements. In production, HTTPS only (HSTS, secure
cookies) and `manage.py check --deploy` is clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from pipsystem.security import SecurityHeadersMiddleware
from tests.security.conftest import PLAN_STATES, ROLES
from tests.security.permission_matrix import EXPECTED
from tests.security.urlwalk import all_routes, request_and_undo, url_for

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "check-only-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    "ALLOWED_HOSTS": "pips.example.com",
}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def check_headers(response, where: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    assert policy, f"{where}: no Content-Security-Policy"
    csp = csp_directives(policy)
    assert csp["default-src"] == ["'self'"], where
    assert csp["script-src"] == ["'self'"], where
    assert csp["style-src"] == ["'self'"], where
    assert sorted(csp["img-src"]) == ["'self'", "data:"], where
    assert csp["object-src"] == ["'none'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert csp["form-action"] == ["'self'"], where
    assert csp["base-uri"] == ["'self'"], where
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["X-Frame-Options"] == "DENY", where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    assert "camera=()" in response["Permissions-Policy"], where
    assert "no-store" in response.get("Cache-Control", ""), f"{where}: may be cached"


class InlineFinder(HTMLParser):
    """What a strict CSP blocks in a page: inline scripts, inline event handlers, javascript:
    URLs, style attributes and <style> elements, and scripts from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            src = attrs.get("src")
            kind = (attrs.get("type") or "").lower()
            if src:
                # The app's own static files, and its JavaScript translation catalog.
                if src != reverse("javascript-catalog") and not src.startswith(
                    settings.STATIC_URL
                    if settings.STATIC_URL.startswith("/")
                    else "/" + settings.STATIC_URL
                ):
                    self.problems.append(f"script from elsewhere: {src}")
            elif kind not in ("application/json", "application/ld+json"):
                self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name == "style":
                self.problems.append(f'<{tag} style="{value}">')
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")


def check_page(response, where: str) -> None:
    if not response.get("Content-Type", "").startswith("text/html"):
        return
    finder = InlineFinder()
    finder.feed(response.content.decode())
    assert not finder.problems, f"{where}: blocked by the CSP: {finder.problems}"


def reader_of(row) -> str | None:
    """The first role the expected table lets read the page (GET 200), if any."""
    for role, cell in zip(ROLES, row.cells("GET"), strict=True):
        if cell == "200":
            return role
    return None


@pytest.mark.parametrize("state", PLAN_STATES)
def test_every_page_has_the_headers_and_nothing_the_policy_blocks(state, build_world, signing):
    routes = [r for r in all_routes() if r.name in EXPECTED and EXPECTED[r.name].state == state]
    if not routes:
        pytest.skip(f"no page is requested with the plan {state}")
    world = build_world(state)
    clients = world.clients()
    values = world.values()
    checked = 0
    for route in routes:
        row = EXPECTED[route.name]
        url = url_for(route, values, row.kwargs)
        role = reader_of(row)
        # The refusals carry the headers too.
        for method, who in (("GET", role or "anon"), ("POST", "other_supervisor")):
            response = request_and_undo(clients[who], method, url)
            check_headers(response, f"{method} {url} as {who} ({response.status_code})")
            if response.status_code == 200:
                check_page(response, f"{method} {url} as {who}")
                checked += 1
    assert checked or state != "active"


def test_static_files_keep_their_caching():
    middleware = SecurityHeadersMiddleware(lambda request: HttpResponse("body {}"))
    factory = RequestFactory()
    static = middleware(factory.get("/" + settings.STATIC_URL.lstrip("/") + "css/app.css"))
    assert "no-store" not in static.get("Cache-Control", "")
    page = middleware(factory.get("/pips/1/"))
    assert "no-store" in page["Cache-Control"]


def test_the_no_store_header_keeps_what_a_view_set(client, sam):
    client.force_login(sam)
    response = client.get("/pips/new/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def _production(code: str) -> subprocess.CompletedProcess:
    # As a deployment runs it: without the test-only switches (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE for their live server).
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "CI")
    }
    env.update(PRODUCTION_ENV)
    return subprocess.run(
        [sys.executable, *code.split("\0")],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_are_https_only():
    script = (
        "import json, pipsystem.settings as s; print(json.dumps({k: getattr(s, k, None) for k in "
        "['DEBUG', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS',"
        " 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY']}))"
    )
    result = _production("-c\0" + script)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True


def test_deploy_checks_are_clean_in_production():
    result = _production("manage.py\0check\0--deploy\0--fail-level\0WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
