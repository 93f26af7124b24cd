"""Page benchmark: every page the four roles use, against a bare login-required view behind the
same middleware, in the same run, on the scale data (`manage.py seed_scale`).

Run from the repository root, on a database built by seed_scale:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale_bench .venv/bin/python bench/pages.py

Requests go through Django's test client in this process (the whole middleware stack, the
session read and saved, the template rendered; no network). Each round requests every page
once and, right after each page, the bare view as the same user, so a slow moment of the machine
hits both alike. It prints, per page, the median and 95th percentile, the ratio of the page's
p95 to the bare view's p95, and the number of queries the page ran.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import machine  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/scale_bench"


def setup() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def pages(prefix: str = "scale") -> list[tuple[str, str, str]]:
    """(label, username, URL) for every page of each role, on the scale data of a prefix."""
    from django.contrib.auth.models import User
    from django.urls import NoReverseMatch, reverse

    from pips.models import Pip, Status

    hr = User.objects.get(username=f"{prefix}-hr-1")
    analyst = User.objects.filter(groups__name="analyst").order_by("pk").first()
    ours = Pip.objects.filter(supervisor__username__startswith=f"{prefix}-sup-")
    # The first plan is the busiest (seed_scale gives it thousands of views).
    busiest = ours.order_by("pk").values_list("pk", flat=True).first()
    plan = (
        ours.filter(status=Status.ACTIVE, checkins__isnull=False)
        .exclude(pk=busiest)
        .order_by("pk")
        .select_related("agent__user", "supervisor")
        .first()
    )
    sup = plan.supervisor
    pending = ours.filter(status=Status.PENDING_HR).order_by("pk").first()
    agent = plan.agent.user.username
    checkin = plan.checkins.order_by("pk").first()
    urls = [
        ("supervisor home", sup.username, reverse("pips:home")),
        ("supervisor: plan page", sup.username, reverse("pips:detail", args=[plan.pk])),
        ("supervisor: new plan", sup.username, reverse("pips:new")),
        ("supervisor: check-in", sup.username, reverse("pips:checkin", args=[plan.pk, checkin.pk]))
        if checkin
        else None,
        ("supervisor: notifications", sup.username, reverse("pips:notifications")),
        ("HR home / approval queue", hr.username, reverse("pips:home")),
        ("HR home, filtered (active)", hr.username, reverse("pips:home") + "?status=active"),
        ("HR stats", hr.username, reverse("pips:stats")),
        ("HR: plan page", hr.username, reverse("pips:detail", args=[plan.pk])),
        ("HR: plan page, 5,000 views", hr.username, reverse("pips:detail", args=[busiest])),
        ("HR: audit trail, 5,000 views", hr.username, reverse("pips:audit", args=[busiest])),
        ("HR: review a draft", hr.username, reverse("pips:hr_review", args=[pending.pk]))
        if pending
        else None,
        ("HR: templates", hr.username, reverse("pips:templates")),
        ("HR: notifications (6,000)", hr.username, reverse("pips:notifications")),
        ("agent home", agent, reverse("pips:home")),
        ("agent: plan page", agent, reverse("pips:detail", args=[plan.pk])),
    ]
    if analyst is not None:
        urls += [
            ("analyst: KPI upload", analyst.username, reverse("metrics:upload")),
            ("analyst: KPI loads", analyst.username, reverse("metrics:loads")),
        ]
    for label, user, name, query in (
        ("HR: plan list", hr.username, "pips:plans", ""),
        ("HR: plan list, search", hr.username, "pips:plans", "?q=Rivera"),
        ("HR: plan list, filtered, sorted", hr.username, "pips:plans", "?state=active&sort=-end"),
        ("supervisor: plan list", sup.username, "pips:plans", ""),
    ):
        with contextlib.suppress(NoReverseMatch):
            urls.append((label, user, reverse(name) + query))
    return [u for u in urls if u is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default="", help="only pages whose label contains this")
    args = parser.parse_args()
    setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    targets = [p for p in pages() if args.only.lower() in p[0].lower()]
    clients: dict[str, Client] = {}
    for _, username, _ in targets:
        if username not in clients:
            client = Client()
            client.force_login(User.objects.get(username=username))
            clients[username] = client
    print(f"Python {sys.version.split()[0]}; {machine.describe()}")
    print(f"{len(targets)} pages, {args.rounds} rounds after {args.warmup} warm-up")

    def timed(client: Client, url: str) -> float:
        started = time.perf_counter()
        response = client.get(url, secure=True)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
        return elapsed

    queries = {}
    for label, username, url in targets:
        with CaptureQueriesContext(connection) as captured:
            clients[username].get(url, secure=True)
        queries[label] = len(captured.captured_queries)
    times: dict[str, list[float]] = {label: [] for label, _, _ in targets}
    bare: list[float] = []
    for round_ in range(args.warmup + args.rounds):
        for label, username, url in targets:
            page_ms = timed(clients[username], url)
            bare_ms = timed(clients[username], "/bench/bare/")
            if round_ >= args.warmup:
                times[label].append(page_ms)
                bare.append(bare_ms)
    bare_p50, bare_p95 = statistics.median(bare), percentile(bare, 0.95)
    print()
    print("| page | p50 ms | p95 ms | p95 ÷ bare p95 | queries |")
    print("|---|---:|---:|---:|---:|")
    print(f"| bare login-required view | {bare_p50:.1f} | {bare_p95:.1f} | 1.0 | 2 |")
    worst = 0.0
    for label, values in times.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        ratio = p95 / bare_p95
        worst = max(worst, ratio)
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {ratio:.1f}× | {queries[label]} |")
    print()
    print(f"worst ratio {worst:.1f}×: goal (≤ 3×) {'met' if worst <= 3 else 'MISSED'}")


if __name__ == "__main__":
    main()
