"""Run by test_sqlite_default.py in a fresh process on the embedded default (SQLite in a var
directory of its own, no DATABASE_URL): loads a 50,000-row file in a second process exactly as
the worker's task does, and meanwhile asks for pages as an analyst, timing each answer. Prints
one JSON line: the timings and the load's outcome."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipsystem.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from metrics.models import MetricLoad, MetricSource, Sample  # noqa: E402

ROWS = 50_000


def export(path: Path) -> None:
    start = dt.date(2026, 10, 1)
    with path.open("w") as out:
        out.write("Agent ID,Day,QA %,AHT,CSAT\n")
        for n in range(ROWS):
            day = (start + dt.timedelta(days=n % 30)).isoformat()
            out.write(f"E{n // 30:05d},{day},{80 + n % 20},5:{n % 60:02d},{70 + n % 30}\n")


def main() -> None:
    assert connection.vendor == "sqlite", connection.vendor
    call_command("migrate", verbosity=0)
    analyst = User.objects.create_user("quinn", password="x" * 16)
    analyst.groups.add(Group.objects.get_or_create(name="analyst")[0])
    source = MetricSource.objects.create(
        name="WFM",
        mapping={
            "layout": "wide",
            "employee_id": "Agent ID",
            "date": "Day",
            "kpis": {"qa_score": "QA %", "aht": "AHT", "csat": "CSAT"},
        },
    )
    uploads = Path(settings.MEDIA_ROOT) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    path = uploads / "month.csv"
    export(path)
    load = MetricLoad.objects.create(
        source=source, uploaded_by=analyst, filename="month.csv", rows_total=ROWS * 3
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(analyst)
    pages = ["/metrics/loads/", f"/metrics/loads/{load.pk}/status/", f"/metrics/loads/{load.pk}/"]
    for url in pages:  # a server that has been up a while: its code and templates are loaded
        assert client.get(url).status_code == 200
    # The worker's task, in a process of its own as in `make run`.
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from metrics import tasks; "
            f"print(tasks.load_file_task({load.pk}, 'uploads/month.csv'))",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    timings: list[tuple[str, int, float]] = []
    started = time.monotonic()
    while worker.poll() is None:
        for url in pages:
            before = time.monotonic()
            response = client.get(url)
            timings.append((url, response.status_code, time.monotonic() - before))
        time.sleep(0.05)
    output = worker.stdout.read().decode(errors="replace")
    load.refresh_from_db()
    print(
        json.dumps(
            {
                "timings": timings,
                "load_seconds": time.monotonic() - started,
                "status": load.status,
                "errors": load.errors,
                "samples": Sample.objects.count(),
                "weekly_totals_match": weekly_totals_match(),
                "journal": connection.cursor().execute("PRAGMA journal_mode").fetchone()[0],
                "worker": output[-2000:],
            }
        )
    )


def weekly_totals_match() -> bool:
    """The loader's weekly totals on SQLite equal the samples' sums, week by week."""
    from metrics.models import WeeklyTotal
    from metrics.queries import week_start

    expected: dict = {}
    for e, k, d, v, w in Sample.objects.values_list(
        "employee_id", "kpi_id", "date", "value", "weight"
    ):
        key = (e, k, week_start(d))
        s, t, n = expected.get(key, (0.0, 0.0, 0))
        expected[key] = (s + v * w, t + w, n + 1)
    found = {
        (e, k, week): (s, t, n)
        for e, k, week, s, t, n in WeeklyTotal.objects.values_list(
            "employee_id", "kpi_id", "week", "weighted_sum", "weight_sum", "sample_count"
        )
    }
    return (
        bool(found)
        and found.keys() == expected.keys()
        and all(
            abs(found[key][0] - expected[key][0]) <= 1e-9 * abs(expected[key][0])
            and abs(found[key][1] - expected[key][1]) <= 1e-9 * abs(expected[key][1])
            and found[key][2] == expected[key][2]
            for key in expected
        )
    )


if __name__ == "__main__":
    main()
