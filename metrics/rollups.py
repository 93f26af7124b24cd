"""The weekly totals (`WeeklyTotal`): each employee's KPI per ISO week, summed from the daily
samples, so that weekly series and "below standard" read one row per week instead of seven
samples. They are derived data, recomputed with set-based SQL (never row by row in Python) in
the transaction that writes the samples:

- the loader (`metrics.loading`: files, the API, `import_metrics`) sums each batch of new
  samples only (a large file of days not loaded yet) by week into a temporary table
  (`sums_sql`), and collects the (employee, KPI, week) keys of the batches that upserted
  something; before it commits it merges the summed weeks into the totals once (`merge_sql`)
  and recomputes the collected weeks whole from the samples (`refresh_keys`);
- any other writer of samples (the demo and scale seeds, a correction made by hand) calls
  `rebuild` over the dates it wrote.

A week where a value may have been replaced or removed is recomputed whole from the samples,
never adjusted by a difference, so the old value leaves no trace in its total.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction

from metrics.models import Sample, WeeklyTotal

_COLUMNS = "employee_id, kpi_id, week, weighted_sum, weight_sum, sample_count"


def week_sql(column: str, vendor: str | None = None) -> str:
    """SQL for the Monday of the ISO week of a date column (`metrics.queries.week_start`)."""
    if (vendor or connection.vendor) == "postgresql":
        # Days since a Monday, modulo 7: integer arithmetic on the date, a third cheaper than
        # date_trunc('week', …), which goes through a timestamp with time zone.
        return f"({column} - mod(mod({column} - DATE '2000-01-03', 7) + 7, 7))"
    # SQLite: six days back, then forward to the first Monday on or after.
    return f"date({column}, '-6 days', 'weekday 1')"


def _week_end_sql(column: str, vendor: str) -> str:
    return f"{column} + 7" if vendor == "postgresql" else f"date({column}, '+7 days')"


def refresh_keys(cursor: Any, keys: str) -> None:
    """Recompute the totals of the weeks in `keys`: a table name, or a parenthesised SELECT,
    of distinct (employee_id, kpi_id, week) rows, `week` a Monday. A week that no longer has
    samples loses its total. Runs on `cursor`, inside the caller's transaction."""
    vendor = cursor.db.vendor
    totals = cursor.db.ops.quote_name(WeeklyTotal._meta.db_table)
    samples = cursor.db.ops.quote_name(Sample._meta.db_table)
    cursor.execute(
        f"DELETE FROM {totals} WHERE (employee_id, kpi_id, week) IN"
        f" (SELECT employee_id, kpi_id, week FROM {keys} AS k)"
    )
    cursor.execute(
        f"INSERT INTO {totals} ({_COLUMNS})"
        " SELECT s.employee_id, s.kpi_id, k.week, SUM(s.value * s.weight), SUM(s.weight),"
        f" COUNT(*) FROM {keys} AS k JOIN {samples} AS s"
        " ON s.employee_id = k.employee_id AND s.kpi_id = k.kpi_id"
        f" AND s.date >= k.week AND s.date < {_week_end_sql('k.week', vendor)}"
        " GROUP BY s.employee_id, s.kpi_id, k.week"
        # In key order, like the loader's upserts: concurrent loads lock in the same order.
        " ORDER BY s.employee_id, s.kpi_id, k.week"
    )


def sums_table_sql(name: str) -> str:
    """SQL creating the temporary table that `sums_sql` fills and `merge_sql` reads
    (PostgreSQL): no index, no WAL, dropped at commit."""
    return (
        f'CREATE TEMP TABLE {name} (employee_id text COLLATE "C", kpi_id bigint, week date,'
        " weighted_sum double precision, weight_sum double precision, sample_count bigint)"
        " ON COMMIT DROP"
    )


def sums_sql(stage: str, sums: str) -> str:
    """SQL that adds to `sums` (a `sums_table_sql` table) the weekly sums of `stage`
    (employee_id, kpi_id, date, value, weight: a batch whose rows were all new samples), one
    row per week of the batch (PostgreSQL)."""
    week = week_sql("date", "postgresql")
    return (
        f"INSERT INTO {sums} SELECT employee_id, kpi_id, {week}, SUM(value * weight),"
        f" SUM(weight), COUNT(*) FROM {stage} GROUP BY 1, 2, 3"
    )


def merge_sql(sums: str, *, upsert: bool, skip: str | None = None) -> str:
    """SQL that adds the sums collected in `sums` to their weeks' totals (PostgreSQL), one row
    per week however many batches it spans, leaving out the weeks of `skip` (a table of keys
    that `refresh_keys` recomputes instead). Without `upsert` a plain INSERT, for weeks that
    have no total yet: it fails with a unique violation if one has."""
    totals = connection.ops.quote_name(WeeklyTotal._meta.db_table)
    unless = (
        f" WHERE NOT EXISTS (SELECT FROM {skip} AS k WHERE k.employee_id = s.employee_id"
        " AND k.kpi_id = s.kpi_id AND k.week = s.week)"
        if skip
        else ""
    )
    sql = (
        f"INSERT INTO {totals} ({_COLUMNS})"
        " SELECT employee_id, kpi_id, week, SUM(weighted_sum), SUM(weight_sum),"
        f" SUM(sample_count) FROM {sums} AS s{unless}"
        # In key order, like the loader's upserts: concurrent loads lock in the same order.
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    if not upsert:
        return sql
    return (
        f"{sql} ON CONFLICT (employee_id, kpi_id, week) DO UPDATE SET"
        f" weighted_sum = {totals}.weighted_sum + EXCLUDED.weighted_sum,"
        f" weight_sum = {totals}.weight_sum + EXCLUDED.weight_sum,"
        f" sample_count = {totals}.sample_count + EXCLUDED.sample_count"
    )


def rebuild(start: date | None = None, end: date | None = None) -> int:
    """Recompute every weekly total of the weeks from `start`'s to `end`'s (both included;
    None: without limit) from the samples, for a writer other than the loader. Returns the
    number of weekly totals written."""
    first = start - timedelta(days=start.weekday()) if start else None
    after = end - timedelta(days=end.weekday()) + timedelta(weeks=1) if end else None
    totals = connection.ops.quote_name(WeeklyTotal._meta.db_table)
    samples = connection.ops.quote_name(Sample._meta.db_table)
    week = week_sql("date")

    in_weeks, in_dates, params = ["TRUE"], ["TRUE"], []
    if first is not None:
        in_weeks.append("week >= %s")
        in_dates.append("date >= %s")
        params.append(first)
    if after is not None:
        in_weeks.append("week < %s")
        in_dates.append("date < %s")
        params.append(after)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {totals} WHERE {' AND '.join(in_weeks)}", params)
        cursor.execute(
            f"INSERT INTO {totals} ({_COLUMNS})"
            f" SELECT employee_id, kpi_id, {week}, SUM(value * weight), SUM(weight), COUNT(*)"
            f" FROM {samples} WHERE {' AND '.join(in_dates)}"
            f" GROUP BY employee_id, kpi_id, {week}",
            params,
        )
        return cursor.rowcount
