"""A 10,000-person roster previews and loads in seconds, in a number of queries that does not
grow with the file (PostgreSQL, as in production)."""

from __future__ import annotations

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from pips.models import Agent
from pips.roster.parsing import RosterMapping
from pips.services.roster import RosterFile, roster_preview
from tests.roster.conftest import MAPPING, csv_bytes, person, supervisor


def roster(size: int, *, teams: int = 20, per_supervisor: int = 25) -> list[list[str]]:
    supervisors = max(size // per_supervisor, 1)
    rows = [
        supervisor(f"S{n:05d}", f"Lead Person{n}", team=f"Team {n % teams:02d}")
        for n in range(supervisors)
    ]
    for n in range(size - supervisors):
        lead = n % supervisors
        rows.append(
            person(
                f"E{n:06d}",
                f"Agent Number{n}",
                team=f"Team {lead % teams:02d}",
                manager=f"S{lead:05d}",
                site=("Manila", "Austin", "Montreal")[n % 3],
                language=("en", "es", "fr-CA")[n % 3],
            )
        )
    return rows


def _preview_queries(size: int) -> int:
    file = RosterFile(data=csv_bytes(roster(size)), filename="roster.csv")
    with CaptureQueriesContext(connection) as queries:
        plan = roster_preview(table=file.table(), mapping=RosterMapping.parse(MAPPING))
    assert plan.ok, plan.errors.items[:3]
    return len(queries)


def test_preview_queries_do_not_grow_with_the_roster(postgres, harper, load):
    assert _preview_queries(200) == _preview_queries(2000)
    load(roster(2000), harper)
    assert _preview_queries(200) == _preview_queries(2000)


def test_ten_thousand_people_preview_and_load_in_seconds(postgres, harper, load, capsys):
    rows = roster(10_000)
    data = csv_bytes(rows)
    mapping = RosterMapping.parse(MAPPING)
    started = time.perf_counter()
    plan = roster_preview(table=RosterFile(data=data).table(), mapping=mapping)
    preview_s = time.perf_counter() - started
    assert plan.ok and plan.summary()["new"] == 10_000

    started = time.perf_counter()
    record = load(rows, harper, data=data)
    load_s = time.perf_counter() - started
    assert record.status == "loaded" and record.created == 10_000
    assert Agent.objects.count() == 10_000

    # The same file again: every row compared, nothing written.
    started = time.perf_counter()
    again = load(rows, harper, data=data)
    again_s = time.perf_counter() - started
    assert again.unchanged == 10_000 and again.updated == 0
    with capsys.disabled():
        print(
            f"\n10,000-person roster: preview {preview_s:.2f} s, first load {load_s:.2f} s, "
            f"same file again {again_s:.2f} s"
        )
    # "In seconds" on a shared two-core machine: generous bounds, the figures are printed.
    assert preview_s < 10 and load_s < 20 and again_s < 15
