"""Query strings a browser would never send: a page number too large for any database integer,
junk, a negative one, and NUL bytes in a search or filter of the admin. Each gets a page (or a
400 that says what was wrong), never a 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.security.permission_matrix import EXPECTED
from tests.security.urlwalk import all_routes, request_and_undo, url_for

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
PAGE_VALUES = (HUGE, "-" + HUGE, "junk", "0", "-1", "1e400", "9" * 400, "%00", "1%002")
READERS = ("agent", "supervisor", "hr", "admin", "analyst")
ROLE_INDEX = {
    role: i
    for i, role in enumerate(
        ("anon", "agent", "other_agent", "supervisor", "other_supervisor", "hr", "admin", "analyst")
    )
}


def _pages_with_a_get(state: str) -> list:
    routes = []
    for route in all_routes():
        row = EXPECTED.get(route.name)
        if row is None or row.state != state:
            continue
        readers = [r for r in READERS if row.cells("GET")[ROLE_INDEX[r]] == "200"]
        if readers:
            routes.append((route, readers))
    return routes


def test_page_numbers_no_database_integer_holds_get_a_page_not_a_500(build_world, signing):
    world = build_world("active")
    clients = world.clients()
    checked = 0
    for route, readers in _pages_with_a_get("active"):
        if route.name in {"pips:pdf", "pips:version_pdf", "metrics:api_schema"}:
            continue  # documents, not lists
        url = url_for(route, world.values(), EXPECTED[route.name].kwargs)
        for role in readers:
            for value in PAGE_VALUES:
                response = request_and_undo(clients[role], "GET", f"{url}?page={value}")
                assert response.status_code in (200, 302, 400, 404), (
                    f"{route.name} as {role} with page={value}: {response.status_code}"
                )
                checked += 1
    assert checked > 100


def test_the_hr_home_list_with_a_huge_page_number_says_there_is_nothing_there(build_world, signing):
    world = build_world("active")
    client = world.clients()["hr"]
    response = client.get(f"/?page={HUGE}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "No plans match." in body
    assert "Page 100000" in body and "page=99999" in body  # and the way back


@pytest.fixture
def superuser_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _changelists() -> list[str]:
    return sorted(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for model in admin.site._registry
    )


def test_a_nul_byte_in_an_admin_search_or_filter_is_refused_with_a_400(superuser_client):
    checked = 0
    for name in _changelists():
        url = reverse(name)
        for query in ("q=ab%00cd", "status=%00", "action=x%00", "o=%00", "p=%00", "%00=1"):
            response = superuser_client.get(f"{url}?{query}")
            assert response.status_code in (200, 302, 400), f"{url}?{query}"
            if "%00" in query.split("=")[-1] or query.startswith("%00"):
                assert response.status_code == 400, f"{url}?{query}"
                assert b"NUL" in response.content
            checked += 1
    assert checked >= 6 * 10


def test_a_nul_byte_anywhere_in_a_query_string_is_a_400_with_a_message(client, sam):
    client.force_login(sam)
    response = client.get("/?q=%00")
    assert response.status_code == 400
    assert b"NUL" in response.content
    # Without one, the same page is there.
    assert client.get("/?q=x").status_code == 200
