from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from metrics.models import MetricSource


def upload_dir() -> Path:
    """Where the uploads storage keeps KPI files with the default, local storage."""
    return Path(settings.MEDIA_ROOT) / "uploads"


LONG = {
    "layout": "long",
    "employee_id": "Agent ID",
    "date": "Date",
    "kpi": "Metric",
    "value": "Value",
    "weight": "Contacts",
}
WIDE = {
    "layout": "wide",
    "employee_id": "Agent ID",
    "date": "Day",
    "kpis": {"qa_score": "QA %", "aht": "AHT", "csat": "CSAT"},
}


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def wfm(db) -> MetricSource:
    return MetricSource.objects.create(name="WFM", mapping=LONG)


@pytest.fixture
def qa_tool(db) -> MetricSource:
    return MetricSource.objects.create(name="QA tool", mapping=WIDE)


@pytest.fixture
def xlsx() -> Callable[..., bytes]:
    """An XLSX file from rows of Python values, as Excel would store them."""
    import openpyxl

    def build(*rows: list) -> bytes:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    return build
