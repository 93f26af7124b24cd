"""CSRF on every form: a POST without the token is refused with 403 on every URL that accepts a
POST, for the role that may post there (so the refusal is the CSRF check's, not a permission
check's), and the same POST with the token gets through the check."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.permission_matrix import EXPECTED
from tests.security.urlwalk import all_routes, post_endpoints, request_and_undo, url_for

pytestmark = pytest.mark.django_db

POST_ENDPOINTS = post_endpoints()


def test_the_forms_are_all_there():
    names = {name for name, _ in POST_ENDPOINTS}
    assert {"login", "logout", "password_reset", "pips:sign", "pips:new", "pips:cancel"} <= names
    assert len(POST_ENDPOINTS) >= 30


def csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize(("name", "role"), POST_ENDPOINTS, ids=[n for n, _ in POST_ENDPOINTS])
def test_post_without_token_is_refused(name, role, build_world, signing):
    row = EXPECTED[name]
    world = build_world(row.state)
    clients = world.clients(enforce_csrf_checks=True)
    route = next(r for r in all_routes() if r.name == name)
    url = url_for(route, world.values(), row.kwargs)
    client = clients[role]
    response = request_and_undo(client, "POST", url)
    assert response.status_code == 403, f"{name}: {response.status_code}"
    assert b"CSRF verification failed" in response.content


def test_post_with_the_token_passes_the_check(alex, sam, harper, make_plan):
    plan = make_plan(alex, "active", hr=harper)
    client = csrf_client(harper)
    page = client.get(f"/pips/{plan.pk}/cancel/")
    assert page.status_code == 200
    token = page.context["csrf_token"]
    response = client.post(f"/pips/{plan.pk}/cancel/", {"csrfmiddlewaretoken": str(token)})
    # Through the check, the form asks for the reason.
    assert response.status_code == 200
    assert b"CSRF verification failed" not in response.content


def test_login_form_needs_the_token_too(sam):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "sam", "password": "whatever-it-is"})
    assert response.status_code == 403


def test_api_does_not_accept_the_session_cookie(sam, analyst):
    """The API authenticates each request itself; a browser's session cookie is not enough, so
    a page elsewhere cannot make a logged-in browser post to it."""
    for user in (sam, analyst):
        client = csrf_client(user)
        response = client.post("/metrics/api/samples/", {}, content_type="application/json")
        assert response.status_code == 401
