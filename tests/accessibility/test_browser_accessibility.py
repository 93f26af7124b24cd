"""Every page the four roles use, checked with axe-core in a real browser against the WCAG 2.0
and 2.1 A and AA rules: no violation anywhere.

The pages are found the way the permission matrix finds them: every URL of the project (outside
the admin), opened as each of the agent, the supervisor, HR, the analyst and an anonymous
visitor for whom the expected table says the page opens (200), in the plan state its row names.
A new page is checked without being listed here. The error pages (400, 403, 404, 500, CSRF
failure) and the phone-sized homes are checked too.

axe-core comes with axe-playwright-python (axe.min.js, MPL-2.0), injected into each page."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from tests.security.permission_matrix import EXPECTED
from tests.security.urlwalk import all_routes, url_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The rules of WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
# The people whose pages are checked (the matrix's other columns are outsiders: 404s).
CHECKED_ROLES = ("anon", "agent", "supervisor", "hr", "analyst")
# Pages that are not HTML for a person to read.
NOT_PAGES = {
    "metrics:api_samples",
    "metrics:api_schema",
    "metrics:load_status",
    "pips:pdf",
    "pips:version_pdf",
    "pips:stats_csv",
}
ROUTES = all_routes()
STATES = sorted({row.state for row in EXPECTED.values()})

axe = Axe()


def violations_on(page) -> list[str]:
    """axe-core's WCAG A/AA violations on the page as loaded, one line per rule and node."""
    results = axe.run(page, options=AXE_OPTIONS)
    found = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            found.append(
                f"{violation['id']} ({violation['impact']}): {node['target']} "
                f"{node.get('failureSummary', '').splitlines()[-1:]}"
            )
    return found


def browser_as(chrome, client: Client | None, base: str, **context_options):
    """A browser context logged in with the test client's session (no login form each time)."""
    context = chrome.new_context(**context_options)
    if client is not None and settings.SESSION_COOKIE_NAME in client.cookies:
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": base,
                }
            ]
        )
    return context


def pages_for(state: str, world) -> dict[str, list[tuple[str, str]]]:
    """For each checked role, the (name, URL) of every page that opens for them."""
    values = world.values()
    pages: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for route in ROUTES:
        row = EXPECTED.get(route.name)
        if row is None or row.state != state or route.name in NOT_PAGES:
            continue
        url = url_for(route, values, row.kwargs)
        for role, cell in zip(CHECKED_ROLES, _cells(row), strict=True):
            if cell == "200":
                pages[role].append((route.name, url))
    return pages


def _cells(row) -> list[str]:
    from tests.security.conftest import ROLES

    by_role = dict(zip(ROLES, row.cells("GET"), strict=True))
    return [by_role[role] for role in CHECKED_ROLES]


@pytest.mark.parametrize("state", STATES)
def test_every_page_of_every_role_has_no_wcag_violation(
    state, chrome, live_server, build_world, signing
):
    world = build_world(state)
    clients = world.clients()
    base = live_server.url
    checked: list[str] = []
    failures: list[str] = []
    for role, pages in pages_for(state, world).items():
        context = browser_as(chrome, clients[role] if role != "anon" else None, base)
        page = context.new_page()
        for name, url in pages:
            response = page.goto(base + url)
            assert response is not None and response.status == 200, (role, name, url)
            if "text/html" not in response.headers.get("content-type", ""):
                continue  # JSON for scripts and probes (lookups, health): not a page
            checked.append(f"{role} {name}")
            failures += [f"{role} {name} {url}: {v}" for v in violations_on(page)]
        context.close()
    assert checked, f"no page was checked in state {state}"
    assert not failures, "axe-core violations:\n" + "\n".join(failures)


def test_error_pages_have_no_wcag_violation(chrome, live_server, build_world, signing):
    world = build_world("active")
    clients = world.clients()
    base = live_server.url
    other = world.other_plan.pk
    context = browser_as(chrome, clients["agent"], base)
    page = context.new_page()
    failures = []
    for url, status in [
        (f"/pips/{other}/", 404),  # another team's plan
        ("/pips/stats/", 403),  # HR's page
        ("/no-such-page/", 404),
    ]:
        response = page.goto(base + url)
        assert response is not None and response.status == status, url
        failures += [f"{url}: {v}" for v in violations_on(page)]
    context.close()
    assert not failures, "axe-core violations:\n" + "\n".join(failures)


def test_the_check_fails_on_a_page_with_a_violation(chrome, live_server, build_world, signing):
    """The check is not blind: the same home page, with one image without a text alternative
    and one text too faint to read put into it, is reported."""
    world = build_world("active")
    clients = world.clients()
    base = live_server.url
    context = browser_as(chrome, clients["supervisor"], base)
    page = context.new_page()
    page.goto(base + "/")
    assert violations_on(page) == []
    page.evaluate(
        """() => {
            const main = document.querySelector('main');
            const img = document.createElement('img');
            img.src = '/static/img/none.png';
            main.prepend(img);
            const faint = document.createElement('p');
            faint.textContent = 'Faint text';
            faint.style.color = '#bbbbbb';
            faint.style.background = '#ffffff';
            main.prepend(faint);
        }"""
    )
    found = violations_on(page)
    context.close()
    assert any(re.match(r"image-alt ", v) for v in found), found
    assert any(re.match(r"color-contrast ", v) for v in found), found
