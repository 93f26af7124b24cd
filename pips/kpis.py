"""What plans ask of the KPI data. Plans ask metrics for an employee's numbers; metrics never
asks about plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Sum

from metrics.models import Sample

BASELINE_DAYS = 30


@dataclass(frozen=True)
class Baseline:
    value: float | None
    start: dt.date
    end: dt.date
    source: str


def window_value(employee_id: str, kpi_id: int, start: dt.date, end: dt.date) -> float | None:
    """The weighted mean of one KPI for one employee over [start, end]."""
    totals = Sample.objects.filter(
        employee_id=employee_id, kpi_id=kpi_id, date__gte=start, date__lte=end
    ).aggregate(weighted=Sum(F("value") * F("weight")), weight=Sum("weight"))
    if not totals["weight"]:
        return None
    return totals["weighted"] / totals["weight"]


def baseline_for(employee_id: str, kpi_id: int, today: dt.date) -> Baseline:
    end = today - dt.timedelta(days=1)
    start = end - dt.timedelta(days=BASELINE_DAYS - 1)
    value = window_value(employee_id, kpi_id, start, end)
    source = f"KPI data, {start:%d %b %Y} – {end:%d %b %Y}" if value is not None else ""
    return Baseline(value=value, start=start, end=end, source=source)
