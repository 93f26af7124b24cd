"""Every URL of the project, requested by every role on GET and POST, against the expected
table in permission_matrix.py: anonymous users are sent to the login page, an outsider gets 404
for an object that is not theirs, a role that may read but not change gets 403. A URL added
without a row in the table fails here."""

from __future__ import annotations

import pytest

from tests.security.conftest import ROLES
from tests.security.permission_matrix import EXPECTED, Row
from tests.security.urlwalk import all_routes, outcome, request_and_undo, url_for

pytestmark = pytest.mark.django_db

ROUTES = all_routes()
METHODS = ("GET", "POST")


def test_every_url_has_a_row_and_every_row_a_url():
    found = {route.name for route in ROUTES}
    missing = sorted(found - set(EXPECTED))
    stale = sorted(set(EXPECTED) - found)
    assert not missing, f"URLs without a row in tests/security/permission_matrix.py: {missing}"
    assert not stale, f"Rows for URLs that no longer exist: {stale}"


def test_the_walk_finds_the_pages_it_must():
    names = {route.name for route in ROUTES}
    assert {"pips:detail", "pips:pdf", "pips:sign", "login", "password_reset"} <= names
    assert not any(name.startswith("admin:") for name in names)


def _row_text(name: str, row: Row, actual: dict[str, list[str]]) -> str:
    def cells(values: list[str]) -> str:
        return " ".join(f"{v:<5}" for v in values).rstrip()

    return (
        f'    "{name}": Row(\n'
        f'        "{row.state}",\n'
        f'        get="{cells(actual["GET"])}",\n'
        f'        post="{cells(actual["POST"])}",\n'
        + (f"        kwargs={row.kwargs!r},\n" if row.kwargs else "")
        + "    ),"
    )


@pytest.mark.parametrize("route", ROUTES, ids=[route.name for route in ROUTES])
def test_permission_matrix(route, build_world, signing):
    row = EXPECTED.get(route.name)
    if row is None:
        pytest.fail(f"{route.name} ({route.pattern}) has no row in permission_matrix.py")
    world = build_world(row.state)
    clients = world.clients()
    url = url_for(route, world.values(), row.kwargs)
    actual = {
        method: [outcome(request_and_undo(clients[role], method, url)) for role in ROLES]
        for method in METHODS
    }
    expected = {method: row.cells(method) for method in METHODS}
    if actual != expected:
        lines = [f"{route.name} {url}: role by role (expected → got)"]
        for method in METHODS:
            for role, want, got in zip(ROLES, expected[method], actual[method], strict=False):
                mark = "" if want == got else "   <-- differs"
                lines.append(f"  {method:<4} {role:<17} {want:>5} → {got:<5}{mark}")
        lines.append("As a row:\n" + _row_text(route.name, row, actual))
        pytest.fail("\n".join(lines))
