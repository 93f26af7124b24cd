"""Reminder sweep benchmark: pips.reminders.sweep over thousands of plans on PostgreSQL.

Run from the repository root:

    DJANGO_SETTINGS_MODULE=pipsystem.settings python bench/sweep.py

The database comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/pip_bench_sweep);
it is dropped, created and migrated on every run, so the name must contain "bench" (or pass
--force for a database of your own). The plans are
built with bulk_create, not through the services: 100 supervisors, 5 HR users, teams in four
time zones, and for each plan its version, QA and CSAT targets, its schedule (past meetings done
but for a few missed ones) and two weeks of QA and CSAT samples. A tenth of the plans more are
issued (half of them past the signing deadline) or waiting for HR.

The sweep runs at a Tuesday afternoon at which every Wednesday check-in's reminder is due in all
four zones (the day's peak: about a fifth of the plans, two e-mails each), then again five minutes
later (the steady state: everything already recorded). It is timed first over 1,000 plans and
then, with the reminders cleared, over 5,000, and its queries are counted each time: the count
must not grow with the plans. The sweep finds, records and claims; the claimed reminders are then
sent in chunks of 50, as the send tasks do, here one after another in this one process. E-mails
are rendered in full (text, HTML, invitation) and kept in memory (the locmem backend), so SMTP is
not part of the figure.

Each run also times a reference beside the sweep, on the same tables at the same moment: a plain
`SELECT count(*)` of the plans' open meetings joined to their plans, and of the reminders. The
machine's speed changes from minute to minute; the ratio to the reference does much less.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import resource
import sys
import time
import tracemalloc
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import machine  # noqa: E402 (bench/machine.py, beside this script)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pip_bench_sweep"
# Tuesday 10 March 2026, 14:05 UTC: Wednesday's 10:00 check-ins are a day away or less in
# UTC, New York, Berlin and Manila.
NOW = dt.datetime(2026, 3, 10, 14, 5, tzinfo=dt.UTC)
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Manila"]
MEETING_HOUR = 10


def recreate_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def setup_django() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


class Counter:
    """Counts the queries a block runs (works with DEBUG off)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def due_at(day: dt.date, zone: str) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(MEETING_HOUR), tzinfo=zoneinfo.ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def build(first: int, plans: int, rng: random.Random) -> None:
    """Plans first..first+plans-1 and everything they need, in bulk."""
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    from metrics.models import Kpi, Sample
    from pips.models import (
        Agent,
        Expectation,
        Pip,
        PipVersion,
        ScheduleItem,
        Status,
        Team,
        VersionState,
    )
    from pips.services import checkin_dates

    today = NOW.date()
    with transaction.atomic():
        teams = [
            Team.objects.get_or_create(name=f"Team {zone}", defaults={"timezone": zone})[0]
            for zone in ZONES
        ]
        groups = {g.name: g for g in Group.objects.all()}
        supervisors = list(User.objects.filter(username__startswith="bench-sup-"))
        if not supervisors:
            supervisors = User.objects.bulk_create(
                User(
                    username=f"bench-sup-{i}",
                    email=f"sup{i}@example.com",
                    first_name="Supervisor",
                    last_name=str(i),
                    password="!",
                )
                for i in range(100)
            )
            hr = User.objects.bulk_create(
                User(
                    username=f"bench-hr-{i}",
                    email=f"hr{i}@example.com",
                    first_name="HR",
                    last_name=str(i),
                    password="!",
                )
                for i in range(5)
            )
            member = User.groups.through
            member.objects.bulk_create(
                [member(user_id=u.pk, group_id=groups["supervisor"].pk) for u in supervisors]
                + [member(user_id=u.pk, group_id=groups["hr"].pk) for u in hr]
            )
        hr_users = list(User.objects.filter(username__startswith="bench-hr-"))
        total = plans + plans // 10
        numbers = range(first, first + total)
        agent_users = User.objects.bulk_create(
            User(
                username=f"bench-agent-{n}",
                email=f"agent{n}@example.com",
                first_name="Agent",
                last_name=str(n),
                password="!",
            )
            for n in numbers
        )
        agents = Agent.objects.bulk_create(
            Agent(
                employee_id=f"B{n:06d}",
                full_name=f"Agent {n}",
                team=teams[n % len(teams)],
                supervisor=supervisors[n % len(supervisors)],
                user=user,
            )
            for n, user in zip(numbers, agent_users, strict=True)
        )
        statuses = [Status.ACTIVE] * plans + [
            Status.ISSUED if i % 2 else Status.PENDING_HR for i in range(total - plans)
        ]
        pips = Pip.objects.bulk_create(
            Pip(
                agent=agent,
                supervisor=agent.supervisor,
                created_by=agent.supervisor,
                status=status,
                approved_by=hr_users[i % len(hr_users)] if status != Status.PENDING_HR else None,
                submitted_at=NOW - dt.timedelta(days=1 + i % 5),
                issued_at=NOW - dt.timedelta(days=2 + i % 6)
                if status != Status.PENDING_HR
                else None,
                ack_due_at=NOW - dt.timedelta(hours=rng.choice([-30, 5, 30]))
                if status == Status.ISSUED
                else None,
                activated_at=NOW - dt.timedelta(days=1) if status == Status.ACTIVE else None,
            )
            for i, (agent, status) in enumerate(zip(agents, statuses, strict=True))
        )
        versions = []
        for i, pip in enumerate(pips):
            days = 42 if i % 2 else 30
            start = today - dt.timedelta(days=i % 40) if i < plans else today + dt.timedelta(7)
            end = start + dt.timedelta(days=days)
            versions.append(
                PipVersion(
                    pip=pip,
                    number=1,
                    state=VersionState.ISSUED if i < plans else VersionState.PENDING_HR,
                    employee_name=pip.agent.full_name,
                    employee_id=pip.agent.employee_id,
                    department="Customer Care",
                    supervisor_name="Supervisor",
                    period_start=start,
                    period_end=end,
                    final_review_date=end,
                    midpoint_date=start + dt.timedelta(days=21) if days > 30 else None,
                    checkin_weekday=i % 5,
                    content_sha256="0" * 64,
                    created_by=pip.supervisor,
                )
            )
        versions = PipVersion.objects.bulk_create(versions)
        for pip, version in zip(pips, versions, strict=True):
            pip.current_version = version
        Pip.objects.bulk_update(pips, ["current_version"], batch_size=2000)
        kpis = {k.code: k for k in Kpi.objects.filter(code__in=["qa_score", "csat"])}
        Expectation.objects.bulk_create(
            Expectation(
                version=version,
                area=kpi.name,
                kpi=kpi,
                comparator="gte",
                target=85.0 if code == "qa_score" else 80.0,
                position=position,
            )
            for version in versions
            for position, (code, kpi) in enumerate(kpis.items())
        )
        items = []
        for i, (pip, version) in enumerate(zip(pips, versions, strict=True)):
            if i >= plans:
                continue
            zone = ZONES[(first + i) % len(ZONES)]
            dates = [("checkin", d) for d in checkin_dates(version)]
            if version.midpoint_date:
                dates.append(("midpoint", version.midpoint_date))
            dates.append(("final", version.final_review_date))
            for kind, day in dates:
                when = due_at(day, zone)
                done = when + dt.timedelta(hours=1) if when < NOW and rng.random() > 0.03 else None
                items.append(
                    ScheduleItem(
                        pip=pip, version=version, kind=kind, due_on=day, due_at=when, done_at=done
                    )
                )
        ScheduleItem.objects.bulk_create(items, batch_size=5000)
        samples = [
            Sample(
                employee_id=agent.employee_id,
                kpi=kpi,
                date=today - dt.timedelta(days=d),
                value=rng.uniform(60, 95),
                weight=rng.randint(5, 40),
            )
            for agent in agents
            for kpi in kpis.values()
            for d in range(1, 15)
        ]
        Sample.objects.bulk_create(samples, batch_size=10000)
    print(
        f"  built {plans:,} active plans (+{total - plans:,} issued or waiting for HR), "
        f"{len(items):,} schedule items, {len(samples):,} samples"
    )


REFERENCE_SQL = (
    "SELECT (SELECT count(*) FROM pips_scheduleitem s JOIN pips_pip p ON p.id = s.pip_id"
    " WHERE s.done_at IS NULL AND s.cancelled_at IS NULL),"
    " (SELECT count(*) FROM pips_reminder)"
)


def reference() -> float:
    """Seconds of a plain count over the tables the sweep reads (see the module docstring)."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_SQL)
        cursor.fetchall()
    return time.perf_counter() - started


def reset_peak_rss() -> None:
    """Start this process's peak resident set size again from its current size (Linux), so
    that each run reports its own peak, not the data build's or an earlier run's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """Peak resident set size since `reset_peak_rss`, in MB (VmHWM; ru_maxrss elsewhere)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(label: str, send: bool = True, trace: bool = False) -> dict:
    """The sweep (find what is due, record and claim it: what the beat's task does), then the
    sending of what it claimed, chunk by chunk, as the send tasks do on one worker process.
    Python's own allocations are traced only with `trace` (tracemalloc slows the sweep down)."""
    from django.core import mail
    from django.db import connection

    from pips import reminders

    results = {}
    for run, now in (("peak", NOW), ("steady", NOW + dt.timedelta(minutes=5))):
        mail.outbox = []
        before = reference()
        counter = Counter()
        reset_peak_rss()
        start_rss = peak_rss_mb()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            report = reminders.sweep(now=now)
        seconds = time.perf_counter() - started
        rss = peak_rss_mb()
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        ref = (before + reference()) / 2
        print(
            f"  {label} {run:6}: reference count(*) {ref:5.2f} s;"
            f" sweep / reference {seconds / ref if ref else 0:.1f}x;"
            f" load average {os.getloadavg()[0]:.1f}"
        )
        print(
            f"  {label} {run:6}: peak RSS during the sweep {rss:.0f} MB (from {start_rss:.0f} MB)"
            + (f"; peak Python memory of the sweep {peak / 1e6:.1f} MB" if trace else "")
        )
        chunks = report.chunks() if send else []
        send_counter = Counter()
        started = time.perf_counter()
        with connection.execute_wrapper(send_counter):
            sent = sum(reminders.send_claimed(c, report.claimed_at).sent for c in chunks)
        sending = time.perf_counter() - started
        results[run] = (seconds, counter.count, report, sending, send_counter.count, len(chunks))
        per_chunk = send_counter.count / len(chunks) if chunks else 0
        print(
            f"  {label} {run:6}: sweep {seconds:5.2f} s, {counter.count:2d} queries; "
            f"{report.recorded:,} recorded, {len(report.reviews_to_open)} reviews to open; "
            f"sending {sent:,} e-mails in {len(chunks)} chunks: {sending:5.2f} s "
            f"({sent / sending if sending else 0:,.0f}/s), {per_chunk:.0f} queries a chunk"
        )
    return results


def clear_reminders() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE pips_reminder, pips_notification")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--plans", type=int, default=5000)
    parser.add_argument("--skip-sending", action="store_true", help="time the sweep alone")
    parser.add_argument("--force", action="store_true", help="allow a non-bench database")
    parser.add_argument(
        "--trace-memory", action="store_true", help="also trace Python's allocations (slower)"
    )
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="keep the plans an earlier run built; clear the reminders and measure again",
    )
    args = parser.parse_args()
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipsystem.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    if "bench" not in urlsplit(url).path and not args.force:
        sys.exit("refusing to drop a database whose name does not contain 'bench'")
    print(f"{platform.node()}: Python {platform.python_version()}; {machine.describe()}")
    if args.measure_only:
        setup_django()
        from pips.models import Pip

        clear_reminders()
        plans = Pip.objects.filter(status="active").count()
        result = measure(f"{plans:>5,} plans", send=not args.skip_sending, trace=args.trace_memory)
        goal = "met" if result["peak"][0] < 5 else "MISSED"
        print(f"goal: the sweep over {plans:,} plans under 5 s: {goal}")
        return
    started = time.perf_counter()
    recreate_database(url)
    setup_django()
    # A worker imports the URLconf once, at its first reverse(); so does the bench, untimed.
    from django.urls import reverse

    reverse("pips:home")
    rng = random.Random(6)
    build(0, args.small, rng)
    print(f"  set up in {time.perf_counter() - started:.1f} s")
    small = measure(f"{args.small:>5,} plans", send=not args.skip_sending, trace=args.trace_memory)
    clear_reminders()
    build(args.small + args.small // 10, args.plans - args.small, rng)
    large = measure(f"{args.plans:>5,} plans", send=not args.skip_sending, trace=args.trace_memory)
    constant = all(small[run][1] == large[run][1] for run in ("peak", "steady"))
    print(f"sweep queries constant: {'yes' if constant else 'NO'}")
    peak = large["peak"][0]
    print(f"goal: the sweep over {args.plans:,} plans under 5 s: {'met' if peak < 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
