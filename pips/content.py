"""A plan version's content as plain data: what forms produce, what services write, and the
canonical serialisation that signatures bind to."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from pips.models import PipTemplate, PipVersion


@dataclass
class ReasonData:
    text: str
    kpi_id: int | None = None


@dataclass
class ExpectationData:
    area: str
    kpi_id: int | None = None
    comparator: str = ""
    target: float | None = None
    current_text: str = ""
    standard_text: str = ""
    improvement_needed: str = ""
    baseline_value: float | None = None
    baseline_from: dt.date | None = None
    baseline_to: dt.date | None = None
    baseline_source: str = ""
    lineage: str | None = None


@dataclass
class ActionData:
    action: str
    responsible: str
    deadline_kind: str
    deadline_date: dt.date | None = None
    recurrence_weekdays: list[int] = field(default_factory=list)
    deadline_text: str = ""
    records_sessions: bool = False
    lineage: str | None = None


@dataclass
class PlanContent:
    period_start: dt.date
    period_end: dt.date
    final_review_date: dt.date
    job_title: str = "Contact Center Agent"
    description: str = ""
    checkin_cadence: str = "weekly"
    checkin_weekday: int = 0
    monitoring_reports: str = ""
    midpoint_date: dt.date | None = None
    outcome_success: str = ""
    outcome_failure: str = ""
    change_summary: str = ""
    # The language the supervisor writes the plan's text in; empty: the supervisor's own.
    # Not part of the canonical content: it says how to read the words, it is not a word.
    language: str = ""
    reasons: list[ReasonData] = field(default_factory=list)
    expectations: list[ExpectationData] = field(default_factory=list)
    actions: list[ActionData] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


VERSION_FIELDS = (
    "employee_name",
    "employee_id",
    "department",
    "job_title",
    "supervisor_name",
    "issued_on",
    "period_start",
    "period_end",
    "description",
    "checkin_cadence",
    "checkin_weekday",
    "monitoring_reports",
    "midpoint_date",
    "final_review_date",
    "outcome_success",
    "outcome_failure",
)
REASON_FIELDS = ("text", "kpi_id")
EXPECTATION_FIELDS = (
    "area",
    "kpi_id",
    "comparator",
    "target",
    "baseline_value",
    "baseline_from",
    "baseline_to",
    "baseline_source",
    "current_text",
    "standard_text",
    "improvement_needed",
)
# The action's status changes as the plan runs; it is not part of what was signed.
ACTION_FIELDS = (
    "action",
    "responsible",
    "deadline_kind",
    "deadline_date",
    "recurrence_weekdays",
    "deadline_text",
    "records_sessions",
)


def content_from_version(version: PipVersion) -> PlanContent:
    """The editable content of a version, to copy into an amendment or prefill a form."""
    return PlanContent(
        period_start=version.period_start,
        period_end=version.period_end,
        final_review_date=version.final_review_date,
        job_title=version.job_title,
        description=version.description,
        checkin_cadence=version.checkin_cadence,
        checkin_weekday=version.checkin_weekday,
        monitoring_reports=version.monitoring_reports,
        midpoint_date=version.midpoint_date,
        outcome_success=version.outcome_success,
        outcome_failure=version.outcome_failure,
        language=version.language,
        reasons=[ReasonData(text=r.text, kpi_id=r.kpi_id) for r in version.reasons.all()],
        expectations=[
            ExpectationData(
                **{f: getattr(e, f) for f in EXPECTATION_FIELDS}, lineage=str(e.lineage)
            )
            for e in version.expectations.all()
        ],
        actions=[
            ActionData(**{f: getattr(a, f) for f in ACTION_FIELDS}, lineage=str(a.lineage))
            for a in version.actions.all()
        ],
    )


# The rows a template and a plan share: what a template holds is what a new plan starts with.
TEMPLATE_EXPECTATION_FIELDS = (
    "area",
    "kpi_id",
    "comparator",
    "target",
    "current_text",
    "standard_text",
    "improvement_needed",
)


def template_reasons(template: PipTemplate) -> list[ReasonData]:
    return [ReasonData(text=r.text, kpi_id=r.kpi_id) for r in template.reasons.all()]


def template_expectations(template: PipTemplate) -> list[ExpectationData]:
    return [
        ExpectationData(**{f: getattr(e, f) for f in TEMPLATE_EXPECTATION_FIELDS})
        for e in template.expectations.all()
    ]


def stored_expectation(e: ExpectationData) -> dict[str, Any]:
    """The fields a plan's and a template's expectation rows share, as they are stored: texts
    trimmed, and a comparator and target only for a KPI-linked row."""
    return {
        "area": e.area.strip(),
        "kpi_id": e.kpi_id,
        "comparator": e.comparator if e.kpi_id else "",
        "target": e.target if e.kpi_id else None,
        "current_text": e.current_text.strip(),
        "standard_text": e.standard_text.strip(),
        "improvement_needed": e.improvement_needed.strip(),
    }


class ActionRow(Protocol):
    """A plan's action (ActionData) or a template's (TemplateActionData)."""

    action: str
    responsible: str
    deadline_kind: str
    recurrence_weekdays: list[int]
    deadline_text: str
    records_sessions: bool


def stored_action(a: ActionRow) -> dict[str, Any]:
    """The fields a plan's and a template's action rows share, trimmed as they are stored
    (the deadline itself differs: a date on a plan, days from the start on a template)."""
    return {
        "action": a.action.strip(),
        "responsible": a.responsible.strip(),
        "deadline_kind": a.deadline_kind,
        "recurrence_weekdays": sorted(set(a.recurrence_weekdays)),
        "deadline_text": a.deadline_text.strip(),
        "records_sessions": a.records_sessions,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # A stable text form, so 85 and 85.0 hash alike.
        return repr(float(value))
    return value


def canonical_content(version: PipVersion) -> dict[str, Any]:
    """Every section of the version, in a stable form. Reads the rows through the version's
    related managers, so prefetching them keeps this to no extra queries."""
    return {
        "plan": version.pip_id,
        "version": version.number,
        "header": {f: _plain(getattr(version, f)) for f in VERSION_FIELDS},
        "reasons": [
            {f: _plain(getattr(r, f)) for f in REASON_FIELDS} for r in version.reasons.all()
        ],
        "expectations": [
            {f: _plain(getattr(e, f)) for f in EXPECTATION_FIELDS}
            for e in version.expectations.all()
        ],
        "actions": [
            {f: _plain(getattr(a, f)) for f in ACTION_FIELDS} for a in version.actions.all()
        ],
    }


def canonical_bytes(version: PipVersion) -> bytes:
    return json.dumps(
        canonical_content(version), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def content_hash(version: PipVersion) -> str:
    return hashlib.sha256(canonical_bytes(version)).hexdigest()


@dataclass
class TemplateActionData:
    action: str
    responsible: str
    deadline_kind: str
    deadline_text: str = ""
    recurrence_weekdays: list[int] = field(default_factory=list)
    within_days: int | None = None
    records_sessions: bool = False


@dataclass
class TemplateContent:
    name: str
    period_days: int
    description: str = ""
    job_title: str = "Contact Center Agent"
    # The language the template's text is written in (HR keeps one template per language).
    language: str = "en"
    monitoring_reports: str = ""
    outcome_success: str = ""
    outcome_failure: str = ""
    reasons: list[ReasonData] = field(default_factory=list)
    expectations: list[ExpectationData] = field(default_factory=list)
    actions: list[TemplateActionData] = field(default_factory=list)
