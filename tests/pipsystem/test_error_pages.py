"""The error pages (400, 403, 404, 500, CSRF failure) in the site's layout, each saying what
happened and with a way back; never Django's debug page when DEBUG is off."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.views import defaults

pytestmark = pytest.mark.django_db


def assert_in_layout(html: str) -> None:
    assert 'href="#main"' in html  # the skip link of base.html
    assert 'id="main"' in html
    assert '<a class="btn btn-primary" href="/">Go to your home page</a>' in html
    assert "Traceback" not in html and "technical" not in html.lower()


def test_404_is_in_the_layout_with_a_way_back(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert_in_layout(html)
    assert "There is nothing here for you" in html
    assert "Log in" in html  # not logged in: the other way back


def test_404_for_a_plan_of_another_team(client, alex, blake, make_plan, harper):
    plan = make_plan(blake, "active", hr=harper)
    client.force_login(alex.user)
    response = client.get(f"/pips/{plan.pk}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert_in_layout(html)
    assert blake.full_name not in html


def test_403_says_why_in_the_layout(client, alex):
    client.force_login(alex.user)
    response = client.get("/pips/stats/")
    assert response.status_code == 403
    html = response.content.decode()
    assert_in_layout(html)
    assert "You are not allowed to do this" in html
    assert "Only HR sees the figures across teams." in html
    assert "Alex Rivera" in html  # who is signed in, in the navbar and the explanation


def test_400_for_a_bad_host_is_in_the_layout(client):
    response = client.get("/", HTTP_HOST="not-ours.example")
    assert response.status_code == 400
    html = response.content.decode()
    assert_in_layout(html)
    assert "This request could not be understood" in html


def test_500_is_in_the_layout_without_a_request_context():
    # Django renders 500.html with an empty context (the failure may be in a context processor).
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert_in_layout(html)
    assert "Something went wrong on our side" in html


def test_500_from_a_failing_view(settings, alex, monkeypatch):
    from pips.views import home

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(home, "render", broken)
    client = Client(raise_request_exception=False)
    client.force_login(alex.user)
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_csrf_failure_explains_and_leads_back(alex):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alex.user)
    response = client.post("/notifications/read/")
    assert response.status_code == 403
    html = response.content.decode()
    assert_in_layout(html)
    assert "The form could not be sent safely" in html
    assert "Nothing was saved" in html
