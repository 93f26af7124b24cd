"""What changed between two versions of a plan: section by section, row by row, field by field.

It compares the canonical content that signatures bind to (pips.content.canonical_content), so
whatever changes a version's hash shows up here, and nothing else does. Rows of the expectations
and of the action plan are matched by their lineage (kept across amendments), then by name, then
by similar names; the reasons, which have no lineage, by text. A row that moved is reported too,
because the order of rows is part of what was signed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pips.content import canonical_content
from pips.models import WEEKDAYS, Cadence, Comparator, DeadlineKind, PipVersion
from pipsystem import l10n

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
MOVED = "moved"

# The issue date differs between every two versions by construction; it is not an edit.
IGNORED_HEADER_FIELDS = frozenset({"issued_on"})

# (key, title, header fields shown in this section, rows compared in this section)
SECTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...], str | None], ...] = (
    (
        "header",
        gettext_lazy("Employee and review period"),
        (
            ("employee_name", gettext_lazy("Employee Name")),
            ("employee_id", gettext_lazy("Employee ID")),
            ("department", gettext_lazy("Department/Team")),
            ("job_title", gettext_lazy("Job Title")),
            ("supervisor_name", gettext_lazy("Supervisor/Manager")),
            ("period_start", gettext_lazy("Review period from")),
            ("period_end", gettext_lazy("Review period to")),
        ),
        None,
    ),
    (
        "reasons",
        gettext_lazy("1. Reason for Performance Improvement Plan"),
        (("description", gettext_lazy("Description of the issue(s)")),),
        "reasons",
    ),
    ("expectations", gettext_lazy("2. Performance Expectations"), (), "expectations"),
    ("actions", gettext_lazy("3. Improvement Action Plan"), (), "actions"),
    (
        "monitoring",
        gettext_lazy("4. Monitoring and Evaluation"),
        (
            ("monitoring_reports", gettext_lazy("Reports used")),
            ("checkin_cadence", gettext_lazy("Check-in cadence")),
            ("checkin_weekday", gettext_lazy("Check-in day")),
            ("midpoint_date", gettext_lazy("Mid-point review")),
            ("final_review_date", gettext_lazy("Final review")),
        ),
        None,
    ),
    (
        "outcomes",
        gettext_lazy("5. Expected Outcomes & Consequences"),
        (
            ("outcome_success", gettext_lazy("If improvement is achieved")),
            ("outcome_failure", gettext_lazy("If performance does not improve sufficiently")),
        ),
        None,
    ),
)

ROW_LABELS: dict[str, dict[str, str]] = {
    "reasons": {"text": gettext_lazy("Concern"), "kpi_id": "KPI"},
    "expectations": {
        "area": gettext_lazy("Performance Area"),
        "kpi_id": "KPI",
        "comparator": gettext_lazy("Comparison"),
        "target": gettext_lazy("Target"),
        "baseline_value": gettext_lazy("Current performance (from data)"),
        "baseline_from": gettext_lazy("Baseline from"),
        "baseline_to": gettext_lazy("Baseline to"),
        "baseline_source": gettext_lazy("Baseline source"),
        "current_text": gettext_lazy("Current performance (as written)"),
        "standard_text": gettext_lazy("Expected Standard"),
        "improvement_needed": gettext_lazy("Improvement Needed"),
    },
    "actions": {
        "action": gettext_lazy("Action Item"),
        "responsible": gettext_lazy("Responsible"),
        "deadline_kind": gettext_lazy("Kind of deadline"),
        "deadline_date": gettext_lazy("Deadline date"),
        "recurrence_weekdays": gettext_lazy("Recurs on"),
        "deadline_text": gettext_lazy("Deadline"),
        "records_sessions": gettext_lazy("Sessions recorded"),
    },
}
ROW_NAME_FIELD = {"reasons": "text", "expectations": "area", "actions": "action"}

DATE_FIELDS = frozenset(
    {
        "period_start",
        "period_end",
        "midpoint_date",
        "final_review_date",
        "issued_on",
        "baseline_from",
        "baseline_to",
        "deadline_date",
    }
)
KPI_VALUE_FIELDS = frozenset({"target", "baseline_value"})
WEEKDAY_NAMES = dict(WEEKDAYS)
EMPTY = (None, "", [])
# Long texts are shown with the words that changed marked, not only as before and after.
WORDS_MIN = 6
SIMILAR_NAMES = 0.6


@dataclass(frozen=True)
class Segment:
    """A run of words in a changed text: "equal", "delete" (only before) or "insert"."""

    op: str
    text: str


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    old: str
    new: str
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class RowChange:
    kind: str  # added, removed, changed or moved
    title: str
    fields: tuple[FieldChange, ...]
    old_position: int | None = None  # 1-based, as people count rows
    new_position: int | None = None
    moved: bool = False


@dataclass(frozen=True)
class SectionDiff:
    key: str
    title: str
    fields: tuple[FieldChange, ...] = ()
    rows: tuple[RowChange, ...] = ()
    unchanged_rows: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.rows)


@dataclass(frozen=True)
class VersionDiff:
    old_number: int
    new_number: int
    sections: tuple[SectionDiff, ...] = field(default_factory=tuple)

    @property
    def changed_sections(self) -> list[SectionDiff]:
        return [s for s in self.sections if s.changed]

    @property
    def has_changes(self) -> bool:
        return any(s.changed for s in self.sections)

    def count(self, *kinds: str) -> int:
        return sum(1 for s in self.sections for r in s.rows if r.kind in kinds)

    @property
    def added_rows(self) -> int:
        return self.count(ADDED)

    @property
    def removed_rows(self) -> int:
        return self.count(REMOVED)

    @property
    def changed_rows(self) -> int:
        return self.count(CHANGED, MOVED)


# --- entry points ------------------------------------------------------------------------------


def version_diff(old: PipVersion, new: PipVersion) -> VersionDiff:
    """The changes from `old` to `new`. Load both with selectors.version_with_sections, so the
    rows and their KPIs are prefetched and this runs no query of its own."""
    kpis = {}
    for version in (old, new):
        for row in [*version.reasons.all(), *version.expectations.all()]:
            if row.kpi_id is not None:
                kpis[row.kpi_id] = row.kpi
    return diff_content(
        canonical_content(old),
        canonical_content(new),
        old_lineages=_lineages(old),
        new_lineages=_lineages(new),
        kpis=kpis,
    )


def diff_content(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    old_lineages: Mapping[str, Sequence[str | None]] | None = None,
    new_lineages: Mapping[str, Sequence[str | None]] | None = None,
    kpis: Mapping[int, Any] | None = None,
) -> VersionDiff:
    """Compare two canonical contents (dicts shaped like pips.content.canonical_content)."""
    kpis = kpis or {}
    old_header, new_header = old.get("header", {}), new.get("header", {})
    sections = []
    shown: set[str] = set(IGNORED_HEADER_FIELDS)
    for key, title, header_fields, rows_key in SECTIONS:
        fields = []
        for name, label in header_fields:
            shown.add(name)
            change = _field_change(name, label, old_header.get(name), new_header.get(name), kpis)
            if change:
                fields.append(change)
        rows: tuple[RowChange, ...] = ()
        unchanged = 0
        if rows_key:
            rows, unchanged = _diff_rows(
                rows_key,
                list(old.get(rows_key, [])),
                list(new.get(rows_key, [])),
                list((old_lineages or {}).get(rows_key, [])),
                list((new_lineages or {}).get(rows_key, [])),
                kpis,
            )
        sections.append(SectionDiff(key, title, tuple(fields), rows, unchanged))
    # A header field this module does not know yet still shows, under its own name.
    others = []
    for name in sorted((set(old_header) | set(new_header)) - shown):
        label = name.replace("_", " ").capitalize()
        change = _field_change(name, label, old_header.get(name), new_header.get(name), kpis)
        if change:
            others.append(change)
    if others:
        sections.append(SectionDiff("other", _("Other"), tuple(others)))
    return VersionDiff(
        old_number=int(old.get("version") or 0),
        new_number=int(new.get("version") or 0),
        sections=tuple(sections),
    )


# --- rows --------------------------------------------------------------------------------------


def _lineages(version: PipVersion) -> dict[str, list[str | None]]:
    return {
        "reasons": [None for _ in version.reasons.all()],
        "expectations": [str(e.lineage) for e in version.expectations.all()],
        "actions": [str(a.lineage) for a in version.actions.all()],
    }


def _match_rows(
    name_field: str,
    old_rows: list[dict],
    new_rows: list[dict],
    old_keys: list[str | None],
    new_keys: list[str | None],
) -> dict[int, int]:
    """Pair new rows with old ones: {new index: old index}."""
    pairs: dict[int, int] = {}
    free_old = set(range(len(old_rows)))

    # 1. The same lineage: the same row, however much it was edited.
    by_key: dict[str, int] = {}
    for i, key in enumerate(old_keys[: len(old_rows)]):
        if key is not None:
            by_key.setdefault(key, i)
    for j, key in enumerate(new_keys[: len(new_rows)]):
        i = by_key.get(key) if key is not None else None
        if i is not None and i in free_old:
            pairs[j] = i
            free_old.discard(i)

    # 2. The same name, in order.
    def name(row: dict) -> str:
        return " ".join(str(row.get(name_field) or "").casefold().split())

    for j, row in enumerate(new_rows):
        if j in pairs:
            continue
        match = next((i for i in sorted(free_old) if name(old_rows[i]) == name(row)), None)
        if match is not None:
            pairs[j] = match
            free_old.discard(match)

    # 3. Similar names, best pairs first: a reworded row is a changed row, not a new one.
    candidates = []
    for j, row in enumerate(new_rows):
        if j in pairs:
            continue
        for i in free_old:
            ratio = difflib.SequenceMatcher(None, name(old_rows[i]), name(row)).ratio()
            if ratio >= SIMILAR_NAMES:
                candidates.append((-ratio, abs(i - j), j, i))
    for _ratio, _distance, j, i in sorted(candidates):
        if j not in pairs and i in free_old:
            pairs[j] = i
            free_old.discard(i)
    return pairs


def _stable(sequence: list[int]) -> set[int]:
    """Indexes (into `sequence`) of a longest increasing run: the rows that kept their order."""
    if not sequence:
        return set()
    tails: list[int] = []
    tails_at: list[int] = []
    parent = [-1] * len(sequence)
    for k, value in enumerate(sequence):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if tails[mid] < value:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(tails):
            tails.append(value)
            tails_at.append(k)
        else:
            tails[lo] = value
            tails_at[lo] = k
        parent[k] = tails_at[lo - 1] if lo else -1
    keep = set()
    k = tails_at[-1]
    while k != -1:
        keep.add(k)
        k = parent[k]
    return keep


def _diff_rows(
    kind: str,
    old_rows: list[dict],
    new_rows: list[dict],
    old_keys: list[str | None],
    new_keys: list[str | None],
    kpis: Mapping[int, Any],
) -> tuple[tuple[RowChange, ...], int]:
    labels = ROW_LABELS[kind]
    name_field = ROW_NAME_FIELD[kind]
    pairs = _match_rows(name_field, old_rows, new_rows, old_keys, new_keys)
    order = sorted(pairs)
    kept = _stable([pairs[j] for j in order])
    moved = {j for k, j in enumerate(order) if k not in kept}

    def title(row: dict) -> str:
        text = str(row.get(name_field) or "").strip()
        return text if len(text) <= 80 else text[:79] + "…"

    def all_fields(row: dict, *, old_side: bool) -> tuple[FieldChange, ...]:
        result = []
        for name in _row_field_names(labels, row):
            value = _display(name, row.get(name), row, kpis)
            if value == "—":
                continue
            shown = (value, "") if old_side else ("", value)
            result.append(FieldChange(name, labels.get(name, name), *shown))
        return tuple(result)

    changes: list[RowChange] = []
    unchanged = 0
    matched_old = set(pairs.values())
    removed = [i for i in range(len(old_rows)) if i not in matched_old]

    def flush_removed(before: int | None) -> None:
        while removed and (before is None or removed[0] < before):
            i = removed.pop(0)
            changes.append(
                RowChange(
                    REMOVED,
                    title(old_rows[i]),
                    all_fields(old_rows[i], old_side=True),
                    old_position=i + 1,
                )
            )

    for j, row in enumerate(new_rows):
        i = pairs.get(j)
        if i is None:
            changes.append(
                RowChange(ADDED, title(row), all_fields(row, old_side=False), new_position=j + 1)
            )
            continue
        flush_removed(i)
        before = old_rows[i]
        fields = []
        for name in _row_field_names(labels, before, row):
            change = _field_change(
                name,
                labels.get(name, name),
                before.get(name),
                row.get(name),
                kpis,
                old_row=before,
                new_row=row,
            )
            if change:
                fields.append(change)
        if fields or j in moved:
            changes.append(
                RowChange(
                    CHANGED if fields else MOVED,
                    title(row),
                    tuple(fields),
                    old_position=i + 1,
                    new_position=j + 1,
                    moved=j in moved,
                )
            )
        else:
            unchanged += 1
    flush_removed(None)
    return tuple(changes), unchanged


def _row_field_names(labels: Mapping[str, str], *rows: dict) -> list[str]:
    names = list(labels)
    for row in rows:
        names.extend(n for n in row if n not in names)
    return names


# --- values ------------------------------------------------------------------------------------


def _field_change(
    name: str,
    label: str,
    old: Any,
    new: Any,
    kpis: Mapping[int, Any],
    *,
    old_row: dict | None = None,
    new_row: dict | None = None,
) -> FieldChange | None:
    if _same(old, new):
        return None
    # An empty side is shown as such by the page, not as a value that was struck out.
    before = _display(name, old, old_row or {}, kpis) if old not in EMPTY else ""
    after = _display(name, new, new_row or {}, kpis) if new not in EMPTY else ""
    segments: tuple[Segment, ...] = ()
    if (
        isinstance(old, str)
        and isinstance(new, str)
        and old.strip()
        and new.strip()
        and name not in DATE_FIELDS | KPI_VALUE_FIELDS
        and max(len(old.split()), len(new.split())) >= WORDS_MIN
    ):
        segments = word_segments(old, new)
    return FieldChange(name, label, before, after, segments)


def _same(old: Any, new: Any) -> bool:
    if old in EMPTY and new in EMPTY:
        return True
    return old == new


def word_segments(old: str, new: str) -> tuple[Segment, ...]:
    """The words of `new` and of `old`, marked equal, deleted or inserted."""
    a = re.findall(r"\s+|[^\s]+", old)
    b = re.findall(r"\s+|[^\s]+", new)
    result: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            result.append(Segment("equal", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            result.append(Segment("delete", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            result.append(Segment("insert", "".join(b[j1:j2])))
    return tuple(result)


def _display(name: str, value: Any, row: Mapping[str, Any], kpis: Mapping[int, Any]) -> str:
    """A canonical value as people read it on the plan: dates, KPI names and units, weekdays."""
    if value in EMPTY:
        return "—"
    try:
        if name in DATE_FIELDS:
            return l10n.date(dt.date.fromisoformat(str(value)), long=True)
        if name == "kpi_id":
            kpi = kpis.get(int(value))
            return kpi.display_name if kpi is not None else f"KPI #{value}"
        if name in KPI_VALUE_FIELDS:
            kpi = kpis.get(int(row["kpi_id"])) if row.get("kpi_id") is not None else None
            number = float(value)
            return kpi.format_value(number) if kpi is not None else f"{number:g}"
        if name == "comparator":
            return Comparator(value).label
        if name == "checkin_cadence":
            return Cadence(value).label
        if name == "deadline_kind":
            return DeadlineKind(value).label
        if name == "checkin_weekday":
            return str(WEEKDAY_NAMES[int(value)])
        if name == "recurrence_weekdays":
            return str(_(" & ")).join(str(WEEKDAY_NAMES[int(d)]) for d in value)
    except (KeyError, TypeError, ValueError):
        pass
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)
