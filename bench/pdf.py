"""PDF benchmark: the signed print copy of a demo plan, rendered cold and warm, and served from
storage.

Run from the repository root:

    python bench/pdf.py

It uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/pip_bench_pdf), creates and
migrates that database if needed and loads the demo data (`seed_demo`, idempotent). Stored
copies, the signing certificate and everything else written go to a temporary directory, never
to var/. For the demo agent's plan (issued, waiting for the employee's signature) and the demo
plan with the most history, it prints, as medians of --runs:

* cold: the first render in a new process (template, WeasyPrint with its fonts and stylesheet
  loaded for the first time, signing), one fresh process per run;
* warm render: a render in a process that has rendered before, not served from storage,
  split into building the HTML, WeasyPrint and signing;
* stored copy: `seal.stored_copy` finding the copy already stored (the key query and the file
  check), and the whole download request (login session, access check, key, audit event,
  streaming the file) through Django's test client;
* the size of the signed PDF and its number of pages.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import machine  # noqa: E402 (bench/machine.py, beside this script)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pip_bench_pdf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per figure (median)")
    parser.add_argument(
        "--cold-runs", type=int, default=None, help="fresh processes (default --runs)"
    )
    parser.add_argument("--cold-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--plan",
        type=int,
        action="append",
        default=[],
        help="measure this plan (by id) of an existing database, e.g. one built by seed_scale,"
        " instead of the demo plans; the database is not seeded",
    )
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipsystem.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    scratch = Path(os.environ.setdefault("PIP_BENCH_DIR", tempfile.mkdtemp(prefix="pip-bench-")))
    os.environ.setdefault("PIPSYSTEM_VAR_DIR", str(scratch / "var"))
    os.environ.setdefault("MEDIA_ROOT", str(scratch / "media"))
    os.environ.setdefault("PIP_SIGNING_CERT", str(scratch / "signing" / "cert.pem"))
    os.environ.setdefault("PIP_SIGNING_KEY", str(scratch / "signing" / "key.pem"))

    if args.cold_child is not None:
        print(json.dumps(cold_child(args.cold_child)))
        return

    ensure_database(os.environ["DATABASE_URL"])
    setup_django(prepare=not args.plan)
    plans = given_plans(args.plan) if args.plan else demo_plans()
    cold_runs = args.cold_runs if args.cold_runs is not None else args.runs
    print(f"PDF benchmark: {args.runs} runs per figure, {cold_runs} fresh processes for cold")
    print(machine.describe())
    for label, pip in plans:
        print()
        print(f"## {label}: {pip.reference}, {pip.get_status_display().lower()}")
        cold = [run_cold_child(pip.pk) for _ in range(cold_runs)]
        report("cold render (new process, first copy)", [(c["wall"], c["cpu"]) for c in cold])
        measure_warm(pip, args.runs)
        measure_stored(pip, args.runs)
    print()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


# --- set-up ------------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(parts._replace(path="/postgres").geturl())
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    admin.close()


def setup_django(*, prepare: bool) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no per-query logging, as in production
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    if prepare:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0)
        call_command("create_signing_cert", "--if-missing", verbosity=0)


def given_plans(pks: list[int]) -> list[tuple[str, object]]:
    from django.core.management import call_command
    from django.db.models import Count, Q

    from pips.models import Pip

    call_command("create_signing_cert", "--if-missing", verbosity=0)
    plans = Pip.objects.with_related().annotate(
        n_access=Count("events", filter=Q(events__action__in=["viewed", "downloaded"])),
        n_events=Count("events"),
    )
    return [
        (
            f"Plan {p.pk} ({p.n_events:,} audit events, {p.n_access:,} views and downloads)",
            p,
        )
        for p in (plans.get(pk=pk) for pk in pks)
    ]


def demo_plans() -> list[tuple[str, object]]:
    from django.db.models import Count

    from pips.models import Pip

    agent_plan = Pip.objects.with_related().get(agent__user__username="agent")
    richest = (
        Pip.objects.with_related()
        .annotate(n=Count("events"))
        .exclude(pk=agent_plan.pk)
        .order_by("-n", "pk")
        .first()
    )
    return [("Demo agent's plan", agent_plan), ("Demo plan with the most history", richest)]


# --- measurements ------------------------------------------------------------------------------


def _fresh(pip_pk: int):
    from pips.models import Pip
    from pips.selectors import version_with_sections

    pip = Pip.objects.with_related().get(pk=pip_pk)
    return pip, version_with_sections(pip.current_version_id)


def cold_child(pip_pk: int) -> dict[str, float]:
    """In a new process: one render of the copy, timed from the first call."""
    setup_django(prepare=False)
    from pips.printing import seal

    pip, version = _fresh(pip_pk)
    (wall, cpu), data = timed(seal.signed_pdf, pip=pip, version=version)
    return {"wall": wall, "cpu": cpu, "bytes": len(data)}


def run_cold_child(pip_pk: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--cold-child", str(pip_pk)],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
        timeout=300,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure_warm(pip, runs: int) -> None:
    import io

    from django.template.loader import render_to_string
    from pypdf import PdfReader

    from pips.content import content_hash
    from pips.printing import render, seal
    from pipsystem import pdfsign
    from pipsystem.pdfrender import render_pdf

    pip, version = _fresh(pip.pk)
    digest = content_hash(version)
    data = seal.signed_pdf(pip=pip, version=version)  # warms the process up
    full, html_times, weasy, signing = [], [], [], []
    for _ in range(runs):
        pip, version = _fresh(pip.pk)
        full.append(timed(seal.signed_pdf, pip=pip, version=version, current_hash=digest)[0])

    def html_and_charts():
        context = render.print_context(pip=pip, version=version, current_hash=digest)
        return render_to_string(render.PRINT_TEMPLATE, context), render.chart_resources(
            context["charts"]
        )

    for _ in range(runs):
        took, (html, charts) = timed(html_and_charts)
        html_times.append(took)
        took, document = timed(
            render_pdf,
            html,
            stylesheets=render.PRINT_STYLESHEETS,
            resources=charts,
            timeout_seconds=60,
        )
        weasy.append(took)
        signing.append(timed(pdfsign.sign_pdf, document, reason="benchmark")[0])
    report("warm render (same process, not stored)", full)
    report("  of which the HTML (queries and template)", html_times)
    report("  of which WeasyPrint", weasy)
    report("  of which the PAdES signature", signing)
    pages = len(PdfReader(io.BytesIO(data)).pages)
    print(f"  size of the signed PDF: {len(data) / 1024:,.0f} KiB, {pages} pages")


def measure_stored(pip, runs: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.files.storage import default_storage
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse

    from pips.printing import seal

    pip, _ = _fresh(pip.pk)
    copy = seal.stored_copy(pip=pip, version=pip.current_version)  # stored now if it was not
    lookups = []

    def lookup():
        found = seal.stored_copy(pip=pip, version=pip.current_version)
        with default_storage.open(found.name, "rb") as handle:
            handle.read()
        return found

    for _ in range(runs):
        pip, _ = _fresh(pip.pk)
        took, found = timed(lookup)
        lookups.append(took)
        assert not found.rendered and found.name == copy.name
    report("stored copy: key, lookup and read", lookups)

    client = Client()
    client.force_login(get_user_model().objects.get(username="hr"))
    url = reverse("pips:pdf", args=[pip.pk])
    requests = []

    def download():
        response = client.get(url)
        return response.status_code, b"".join(response.streaming_content)

    # Each download is an audit event of the plan, which its next copy lists: rolled back, so
    # that running the benchmark does not make the plan it measures longer.
    with transaction.atomic():
        for _ in range(runs):
            took, (status, body) = timed(download)
            requests.append(took)
            assert status == 200 and body.startswith(b"%PDF-")
        transaction.set_rollback(True)
    report("stored copy: whole download request", requests)


def timed(fn, *args, **kwargs):
    """((wall seconds, CPU seconds of the whole process), result). The CPU time counts every
    thread (WeasyPrint renders in a worker thread) and is what the figure would be on a quiet
    machine; the wall time also has the waiting when other processes hold the CPUs."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def report(label: str, samples: list[tuple[float, float]]) -> None:
    wall = [w for w, _ in samples]
    cpu = [c for _, c in samples]
    print(
        f"  {label}: median {statistics.median(wall) * 1000:,.0f} ms wall "
        f"(min {min(wall) * 1000:,.0f}, max {max(wall) * 1000:,.0f}), "
        f"median {statistics.median(cpu) * 1000:,.0f} ms CPU, n={len(samples)}"
    )


if __name__ == "__main__":
    main()
