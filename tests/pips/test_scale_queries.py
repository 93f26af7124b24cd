"""Every page the four roles use runs the same number of queries on a small company and on one
several times larger (more agents per supervisor, more plans, more history, more
notifications), built by `seed_scale` as the benchmarks build theirs (bench/pages.py lists the
pages)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.pages import pages
from tests.conftest import make_user

SMALL = ["--teams", "2", "--agents", "24", "--plans", "12", "--views", "3"]
LARGE = ["--teams", "3", "--agents", "150", "--plans", "60", "--views", "12"]
COMMON = ["--skip-demo", "--sample-days", "20", "--hr", "2"]


def seed(prefix: str, size: list[str], busiest: int, notifications: int) -> None:
    call_command(
        "seed_scale",
        "--prefix",
        prefix,
        *size,
        *COMMON,
        "--big-plan-views",
        str(busiest),
        "--notifications",
        str(notifications),
        stdout=io.StringIO(),
    )


def query_counts(prefix: str) -> dict[str, int]:
    counts = {}
    clients: dict[str, Client] = {}
    for label, username, url in pages(prefix):
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        clients[username].get(url)  # the first request fills per-process caches
        with CaptureQueriesContext(connection) as captured:
            response = clients[username].get(url)
        assert response.status_code == 200, (label, url, response.status_code)
        counts[label] = len(captured.captured_queries)
    return counts


@pytest.mark.django_db
def test_pages_run_the_same_queries_at_two_sizes(postgres, settings):
    settings.ROOT_URLCONF = "bench.urls"
    make_user("dana", "Dana", "Whitfield", "analyst")
    seed("qa", SMALL, busiest=20, notifications=15)
    small = query_counts("qa")
    seed("qb", LARGE, busiest=400, notifications=300)
    large = query_counts("qb")
    assert set(small) == set(large)
    # Each role's home, the plan page, the lists and the HR pages are all there.
    assert {"supervisor home", "HR home / approval queue", "agent home", "HR stats"} <= set(small)
    assert small == large
