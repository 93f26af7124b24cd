"""Every URL pattern of the project, found by walking the resolver, and requests against them
as each role of the security world."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.conftest import ROLES
from tests.security.permission_matrix import EXPECTED

# Not ours to test here: Django's admin has its own permission system (staff only), and static
# files are public by design.
SKIPPED_NAMESPACES = {"admin"}
SKIPPED_PREFIXES = ("admin/", "static/", "media/", "__debug__/")

DEFAULT_KWARGS = {
    "pk": "plan",
    "number": "version",
    "checkin_id": "checkin",
    "review_id": "review",
    "uidb64": "uid",
    "token": "token",
}


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    pattern: str
    kwargs: tuple[str, ...]


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            if ns in SKIPPED_NAMESPACES or route.startswith(SKIPPED_PREFIXES):
                continue
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, route, full_ns)
        elif isinstance(entry, URLPattern):
            if route.lstrip("^").startswith(SKIPPED_PREFIXES):
                continue
            name = entry.name or f"<unnamed {route}>"
            full = f"{namespace}:{name}" if namespace else name
            yield Route(full, route, tuple(entry.pattern.regex.groupindex))


def all_routes() -> list[Route]:
    """Every URL pattern outside the admin and static files, by name."""
    routes: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        # Two patterns under one name (a view with and without a suffix, a DRF format suffix)
        # are requested through the first.
        routes.setdefault(route.name, route)
    return sorted(routes.values(), key=lambda r: r.name)


def url_for(route: Route, values: dict[str, object], overrides: dict[str, str]) -> str:
    kwargs = {}
    for key in route.kwargs:
        source = overrides.get(key) or DEFAULT_KWARGS.get(key)
        if source is None:
            raise AssertionError(
                f"{route.name}: no value for the URL argument {key!r}; name one in the row's "
                "`kwargs` of the expected table."
            )
        kwargs[key] = values.get(source, source)
    return reverse(route.name, kwargs=kwargs)


def outcome(response) -> str:
    """A response as the expected table writes it: `login` for a redirect to the login page,
    otherwise the status code."""
    if response.status_code in (301, 302, 303):
        location = response.get("Location", "")
        if location.startswith(reverse(settings.LOGIN_URL)):
            return "login"
    return str(response.status_code)


def request_and_undo(client: Client, method: str, url: str, data: dict | None = None):
    """One request whose writes are rolled back, so the next request sees the same world."""
    with transaction.atomic():
        response = client.get(url) if method == "GET" else client.post(url, data or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        transaction.set_rollback(True)
    return response


REFUSED = {"login", "401", "403", "404", "405"}


def post_endpoints() -> list[tuple[str, str]]:
    """(URL name, the first role the table lets POST there), for every URL accepting a POST."""
    endpoints = []
    for route in all_routes():
        row = EXPECTED.get(route.name)
        if row is None:
            continue  # test_permission_matrix fails for it
        allowed = [
            r for r, cell in zip(ROLES, row.cells("POST"), strict=True) if cell not in REFUSED
        ]
        if route.name == "logout":
            allowed = ["agent"]  # its success is the redirect to the login page
        if allowed:
            endpoints.append((route.name, allowed[0]))
    return endpoints
