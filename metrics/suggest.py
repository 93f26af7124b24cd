"""Suggested column mappings: which column of a new file probably holds what, from its header
and its first values. The mapping page fills these in and the analyst confirms them; nothing
is loaded from a suggestion that was not confirmed.

The spellings are those of NICE, Genesys, Verint and Calabrio exports and of the spreadsheets
QA and WFM teams keep by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from metrics.parsing import _DECIMAL_COMMA, _EMPLOYEE_ID, _SERIAL, parse_date

FIELDS: dict[str, tuple[str, ...]] = {
    "employee_id": (
        "employee id",
        "agent id",
        "emp id",
        "employee number",
        "employee no",
        "staff id",
        "user id",
        "agent login",
        "login id",
        "acd id",
        "agent",
        "employee",
        "id",
    ),
    "date": ("date", "day", "report date", "business date", "interval date", "work date"),
    "kpi": ("kpi", "metric", "measure", "indicator", "kpi name", "metric name"),
    "value": ("value", "score", "result", "kpi value", "metric value"),
}
# Spellings of each catalog KPI (besides its code and name).
KPIS: dict[str, tuple[str, ...]] = {
    "qa_score": ("qa", "qa score", "quality", "quality score", "evaluation score", "qa %"),
    "aht": ("aht", "avg handle time", "average handle time", "handle time", "avg aht"),
    "csat": ("csat", "customer satisfaction", "satisfaction", "csat score", "csat %"),
    "adherence": ("adherence", "schedule adherence", "adherence %", "attendance"),
    "fcr": ("fcr", "first contact resolution", "first call resolution", "fcr %"),
    "wrapup": ("wrap up", "wrapup", "wrap up notes", "acw notes", "notes completeness"),
}
# What each KPI's mean is weighted by: calls for AHT, surveys for CSAT, evaluations for QA.
WEIGHTS: dict[str, tuple[str, ...]] = {
    "aht": ("calls handled", "handled", "contacts handled", "calls", "contacts"),
    "csat": ("surveys returned", "surveys", "survey count", "responses", "survey responses"),
    "qa_score": ("evaluations", "evals", "evaluation count", "qa evaluations"),
    "fcr": ("calls handled", "handled", "contacts handled", "calls", "contacts"),
}


def normal(text: str) -> str:
    """A header as words: 'Avg. Handle Time (s)' -> 'avg handle time s'."""
    return " ".join(re.sub(r"[^0-9a-z%]+", " ", text.casefold()).split())


def _score(header: str, spellings: Iterable[str]) -> int:
    name = normal(header)
    best = 0
    for spelling in spellings:
        wanted = normal(spelling)
        if name == wanted:
            best = max(best, 3)
        elif re.search(rf"(^| ){re.escape(wanted)}( |$)", name):
            best = max(best, 2 if name.startswith(wanted) else 1)
    return best


def _dates(samples: Sequence[str]) -> bool:
    filled = [s for s in samples if s.strip()]
    if not filled:
        return False
    for text in filled:
        try:
            parse_date(text)
        except ValueError:
            if not _SERIAL.fullmatch(text):
                return False
    return True


def _numbers(samples: Sequence[str]) -> bool:
    filled = [s.strip().rstrip("%").strip() for s in samples if s.strip()]
    return bool(filled) and all(re.fullmatch(r"[-+]?[\d.,:]+", s) for s in filled)


def suggest(columns: Sequence[str], samples: Sequence[Sequence[str]], kpis: Iterable[Any]) -> dict:
    """Initial values for the mapping form (its field names) from a file's header and its
    first rows (`samples[i]` are the values under `columns[i]`)."""
    taken: set[int] = set()
    initial: dict[str, str] = {}

    def pick(spellings: Iterable[str], check=None) -> str:
        spellings = list(spellings)
        ranked = sorted(
            (
                (-_score(name, spellings), i)
                for i, name in enumerate(columns)
                if i not in taken and name.strip()
            ),
        )
        for negative, i in ranked:
            if negative == 0:
                break
            if check is None or check(samples[i]):
                taken.add(i)
                return columns[i]
        return ""

    initial["date"] = pick(FIELDS["date"], _dates)
    initial["employee_id"] = pick(
        FIELDS["employee_id"],
        lambda values: all(_EMPLOYEE_ID.fullmatch(v.strip()) for v in values if v.strip()),
    )
    kpi_column = pick(FIELDS["kpi"])
    value_column = pick(FIELDS["value"], _numbers) if kpi_column else ""
    if kpi_column and value_column:
        initial.update(layout="long", kpi=kpi_column, value=value_column)
    else:
        if kpi_column:
            taken.discard(columns.index(kpi_column))
        initial["layout"] = "wide"
        for kpi in kpis:
            spellings = (kpi.code, kpi.name, *KPIS.get(kpi.code, ()))
            column = pick(spellings, _numbers)
            if column:
                initial[f"kpi_{kpi.code}"] = column
        for kpi in kpis:
            if initial.get(f"kpi_{kpi.code}") and kpi.code in WEIGHTS:
                column = pick(WEIGHTS[kpi.code], _numbers)
                if column:
                    initial[f"weight_{kpi.code}"] = column
    value_columns = [
        columns.index(c)
        for key, c in initial.items()
        if c and (key.startswith("kpi_") or key == "value")
    ]
    values = [v for i in value_columns for v in samples[i]]
    if values and any(_DECIMAL_COMMA.fullmatch(v) for v in values):
        initial["decimal"] = ","
    if initial["date"]:
        dates = samples[columns.index(initial["date"])]
        if any(_SERIAL.fullmatch(v) for v in dates):
            initial["date_format"] = "excel"
    return {key: value for key, value in initial.items() if value}
