"""A plan from draft to issue, and its end by cancellation: create, edit, submit, return,
approve, issue, cancel; and the record of who viewed or exported what."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext

from pips import languages, limits, rules
from pips.audit import AuditAction
from pips.content import (
    ActionData,
    PlanContent,
    content_from_version,
    content_hash,
    stored_action,
    stored_expectation,
    template_expectations,
    template_reasons,
)
from pips.dates import add_working_days
from pips.inputs import (
    RequestMeta,
    SignatureInput,
)
from pips.models import (
    OPEN_STATUSES,
    PLAN_TEXT_FIELDS,
    ActionItem,
    Agent,
    Cadence,
    DeadlineKind,
    Expectation,
    Pip,
    PipTemplate,
    PipVersion,
    Reason,
    SignerRole,
    Status,
    VersionState,
)
from pips.services.common import (
    TransitionError,
    lock,
    require,
    require_state,
    transition,
    write_audit,
)
from pips.services.signatures import signature_write
from pips.snapshots import baselines

#: The version's free-text sections and their limits (the database holds the same).
VERSION_TEXT_LIMITS = {
    "description": limits.LONG_TEXT,
    "monitoring_reports": limits.LONG_TEXT,
    "outcome_success": limits.LONG_TEXT,
    "outcome_failure": limits.LONG_TEXT,
    "change_summary": limits.MEDIUM_TEXT,
}


def _row_limits(model) -> dict[str, int]:
    """A row's text columns and their max_length, as the database holds them."""
    return {
        f.name: f.max_length
        for f in model._meta.get_fields()
        if getattr(f, "max_length", None)
        and f.get_internal_type() == "CharField"
        and f.name not in {"comparator", "deadline_kind", "status"}
    }


def validate_content(content: PlanContent, *, amendment: bool = False) -> None:
    """The rules every version must meet before it is saved. Raises one ValidationError with
    every problem keyed by field, so a form can show each beside its input. An amendment (an
    extension, say) need not add a midpoint review that the first version did not have."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    # Text is never cut short: what is over its limit is refused at its field.
    for name, limit in VERSION_TEXT_LIMITS.items():
        text = getattr(content, name) or ""
        if len(text) > limit:
            add(name, limits.too_long_message(limit, len(text)))
    for prefix, rows, model in (
        ("reasons", content.reasons, Reason),
        ("expectations", content.expectations, Expectation),
        ("actions", content.actions, ActionItem),
    ):
        for index, row in enumerate(rows):
            for name, limit in _row_limits(model).items():
                text = getattr(row, name, "") or ""
                if isinstance(text, str) and len(text) > limit:
                    label = model._meta.get_field(name).verbose_name
                    add(
                        f"{prefix}-{index}",
                        gettext("%(field)s: %(problem)s")
                        % {
                            "field": capfirst(label),
                            "problem": limits.too_long_message(limit, len(text)),
                        },
                    )

    if content.language and languages.normalise(content.language) != content.language:
        add("language", gettext("Choose one of the languages offered."))
    days = (content.period_end - content.period_start).days
    if days <= 0:
        add("period_end", gettext("The review period must end after it starts."))
    elif not settings.PIP_MIN_PERIOD_DAYS <= days <= settings.PIP_MAX_PERIOD_DAYS:
        add(
            "period_end",
            gettext("The review period must be %(min)s to %(max)s days long; this one is %(days)s.")
            % {
                "min": settings.PIP_MIN_PERIOD_DAYS,
                "max": settings.PIP_MAX_PERIOD_DAYS,
                "days": days,
            },
        )
    if not content.period_start <= content.final_review_date <= content.period_end:
        add("final_review_date", gettext("The final review must fall inside the review period."))
    if content.midpoint_date is None:
        if days > 30 and not amendment:
            add("midpoint_date", gettext("A period over 30 days needs a midpoint review date."))
    elif not content.period_start < content.midpoint_date < content.period_end:
        add("midpoint_date", gettext("The midpoint review must fall inside the review period."))
    if content.checkin_cadence not in Cadence.values:
        add("checkin_cadence", gettext("Choose weekly or every two weeks."))
    if not 0 <= content.checkin_weekday <= 6:
        add("checkin_weekday", gettext("Choose a weekday."))
    if not content.expectations:
        add("expectations", gettext("Add at least one expectation."))
    if not content.actions:
        add("actions", gettext("Add at least one action item."))
    if not content.reasons and not content.description.strip():
        add("reasons", gettext("Give at least one reason for the plan."))
    from metrics.models import Kpi

    kpis = Kpi.objects.in_bulk([e.kpi_id for e in content.expectations if e.kpi_id])
    for index, row in enumerate(content.expectations):
        key = f"expectations-{index}"
        if not row.area.strip():
            add(key, gettext("Name the performance area."))
        if row.kpi_id is None:
            if not row.standard_text.strip():
                add(
                    key,
                    gettext("%(area)s: describe the expected standard.")
                    % {"area": row.area or gettext("This row")},
                )
            continue
        kpi = kpis.get(row.kpi_id)
        if kpi is None:
            add(key, gettext("Unknown KPI."))
            continue
        if row.target is None or row.comparator not in ("gte", "lte"):
            add(key, gettext("%(area)s: give the comparator and the target.") % {"area": row.area})
            continue
        if not kpi.in_range(row.target) or (kpi.unit == "seconds" and row.target <= 0):
            if kpi.unit == "seconds":
                problem = gettext("%(area)s: the target must be a positive duration.")
            else:
                problem = gettext("%(area)s: the target must be between %(min)s and %(max)s.")
            add(
                key,
                problem
                % {
                    "area": row.area,
                    "min": kpi.format_value(kpi.min_value),
                    "max": kpi.format_value(kpi.max_value),
                },
            )
            continue
        current = row.baseline_value
        if current is not None:
            met = current >= row.target if row.comparator == "gte" else current <= row.target
            if met:
                add(
                    key,
                    gettext(
                        "%(area)s: the current value %(current)s already meets the target "
                        "%(target)s."
                    )
                    % {
                        "area": row.area,
                        "current": kpi.format_value(current),
                        "target": kpi.format_value(row.target),
                    },
                )
    for index, row in enumerate(content.actions):
        key = f"actions-{index}"
        if not row.action.strip() or not row.responsible.strip():
            add(key, gettext("Each action item needs the action and who is responsible."))
        if row.deadline_kind not in DeadlineKind.values:
            add(key, gettext("Choose a kind of deadline."))
        elif row.deadline_kind == DeadlineKind.DATE:
            if row.deadline_date is None:
                add(key, gettext("%(action)s: give the deadline date.") % {"action": row.action})
            elif not content.period_start <= row.deadline_date <= content.period_end:
                add(
                    key,
                    gettext("%(action)s: the deadline must fall inside the review period.")
                    % {"action": row.action},
                )
        elif row.deadline_kind == DeadlineKind.RECURRING and any(
            d not in range(7) for d in row.recurrence_weekdays
        ):
            add(
                key,
                gettext("%(action)s: unknown weekday in the recurrence.") % {"action": row.action},
            )
        elif (
            row.deadline_kind == DeadlineKind.RECURRING
            and not row.recurrence_weekdays
            and not row.deadline_text.strip()
        ):
            # "Weekly" with no fixed day is a recurrence; one that says nothing of when is not.
            add(
                key,
                gettext(
                    "%(action)s: say when it recurs: tick at least one weekday, or write how "
                    "often in “Deadline as printed” (Weekly, say)."
                )
                % {"action": row.action},
            )
    if errors:
        raise ValidationError(errors)


def fill_baselines(*, agent: Agent, content: PlanContent, today: dt.date | None = None) -> None:
    """Fill each KPI-linked row's current performance from the agent's last 30 full days of
    data (one query for every row)."""
    found = baselines(
        agent.employee_id,
        [row.kpi_id for row in content.expectations if row.kpi_id is not None],
        today or timezone.localdate(),
    )
    for row in content.expectations:
        if row.kpi_id is None:
            row.baseline_value = row.baseline_from = row.baseline_to = None
            row.baseline_source = ""
            continue
        baseline = found[row.kpi_id]
        row.baseline_value = baseline.value
        row.baseline_from = baseline.start
        row.baseline_to = baseline.end
        row.baseline_source = baseline.source


def write_rows(version: PipVersion, content: PlanContent) -> None:
    version.reasons.all().delete()
    version.expectations.all().delete()
    version.actions.all().delete()
    Reason.objects.bulk_create(
        Reason(version=version, text=r.text.strip(), kpi_id=r.kpi_id, position=i)
        for i, r in enumerate(content.reasons)
    )
    Expectation.objects.bulk_create(
        Expectation(
            version=version,
            position=i,
            lineage=uuid.UUID(e.lineage) if e.lineage else uuid.uuid4(),
            **stored_expectation(e),
            baseline_value=e.baseline_value,
            baseline_from=e.baseline_from,
            baseline_to=e.baseline_to,
            baseline_source=e.baseline_source,
        )
        for i, e in enumerate(content.expectations)
    )
    ActionItem.objects.bulk_create(
        ActionItem(
            version=version,
            position=i,
            lineage=uuid.UUID(a.lineage) if a.lineage else uuid.uuid4(),
            **stored_action(a),
            deadline_date=a.deadline_date if a.deadline_kind == DeadlineKind.DATE else None,
        )
        for i, a in enumerate(content.actions)
    )


def apply_content(version: PipVersion, content: PlanContent) -> list[str]:
    """Copy the header and section fields onto the version; return the changed field names."""
    names = [
        *PLAN_TEXT_FIELDS,
        "period_start",
        "period_end",
        "final_review_date",
        "checkin_cadence",
        "checkin_weekday",
        "midpoint_date",
        "change_summary",
    ]
    if content.language:
        names.append("language")
    changed = []
    for name in names:
        value = getattr(content, name)
        if getattr(version, name) != value:
            setattr(version, name, value)
            changed.append(name)
    return changed


def content_from_template(template: PipTemplate, *, start: dt.date | None = None) -> PlanContent:
    """A new plan's content as the template has it, with dates from today."""
    start = start or timezone.localdate()
    end = start + dt.timedelta(days=template.period_days)
    return PlanContent(
        period_start=start,
        period_end=end,
        final_review_date=end,
        midpoint_date=start + dt.timedelta(days=template.period_days // 2)
        if template.period_days > 30
        else None,
        job_title=template.job_title,
        monitoring_reports=template.monitoring_reports,
        outcome_success=template.outcome_success,
        outcome_failure=template.outcome_failure,
        language=template.language,
        reasons=template_reasons(template),
        expectations=template_expectations(template),
        actions=[
            ActionData(
                **stored_action(a),
                deadline_date=start + dt.timedelta(days=a.within_days)
                if a.deadline_kind == DeadlineKind.DATE and a.within_days
                else None,
            )
            for a in template.actions.all()
        ],
    )


def pip_create(
    *,
    actor,
    agent: Agent,
    content: PlanContent,
    template: PipTemplate | None = None,
    meta: RequestMeta | None = None,
    today: dt.date | None = None,
) -> Pip:
    """Draft a plan for an agent the actor supervises."""
    require(
        rules.is_agent_supervisor(actor, agent),
        gettext("Only the agent's supervisor can draft a plan for them."),
    )
    fill_baselines(agent=agent, content=content, today=today)
    validate_content(content)
    with transaction.atomic():
        Agent.objects.select_for_update().get(pk=agent.pk)
        if Pip.objects.filter(agent=agent, status__in=OPEN_STATUSES).exists():
            raise ValidationError(
                {
                    "agent": gettext(
                        "%(name)s already has an open plan; finish or cancel it first."
                    )
                    % {"name": agent.full_name}
                }
            )
        pip = Pip.objects.create(agent=agent, supervisor=actor, template=template, created_by=actor)
        version = PipVersion(
            pip=pip,
            number=1,
            employee_name=agent.full_name,
            employee_id=agent.employee_id,
            department=agent.team.department or agent.team.name,
            supervisor_name=actor.get_full_name() or actor.get_username(),
            language=languages.language_of(actor),
            created_by=actor,
            period_start=content.period_start,
            period_end=content.period_end,
            final_review_date=content.final_review_date,
        )
        apply_content(version, content)
        version.save()
        write_rows(version, content)
        pip.current_version = version
        pip.save(update_fields=["current_version"])
        write_audit(
            pip=pip,
            actor=actor,
            action=AuditAction.CREATED,
            meta=meta,
            to_status=Status.DRAFT,
            version=version,
            changes={"template": template.name if template else None},
        )
    return pip


def _draft_version(pip: Pip) -> PipVersion:
    """The version that may be edited now: the first draft, or an amendment in progress."""
    version = pip.versions.order_by("-number").first()
    if version is None or version.state != VersionState.DRAFT:
        raise TransitionError(
            "This plan's content is frozen. After issue, changes are made by amendment."
        )
    return version


def pip_update_draft(
    *,
    actor,
    pip: Pip,
    content: PlanContent,
    meta: RequestMeta | None = None,
    today: dt.date | None = None,
) -> Pip:
    """Save changes to a draft (the first one, or an amendment). Refused once issued."""
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.is_plan_supervisor(actor, pip), gettext("Only the plan's supervisor can edit it.")
        )
        version = _draft_version(pip)
        if version.number == 1:
            require_state(pip, rules.EDITABLE, gettext("edit"))
        # Amendments keep the baselines frozen at the first issue; drafts refresh them.
        if version.number == 1:
            fill_baselines(agent=pip.agent, content=content, today=today)
        validate_content(content, amendment=version.number > 1)
        changed = apply_content(version, content)
        version.save()
        write_rows(version, content)
        write_audit(
            pip=pip,
            actor=actor,
            action=AuditAction.EDITED,
            meta=meta,
            version=version,
            changes={"fields": changed},
        )
    return pip


def pip_submit(*, actor, pip: Pip, meta: RequestMeta | None = None) -> Pip:
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.is_plan_supervisor(actor, pip),
            gettext("Only the plan's supervisor can submit it to HR."),
        )
        require_state(pip, rules.EDITABLE, gettext("submit"))
        version = pip.current_version
        validate_content(content_from_version(version))
        version.state = VersionState.PENDING_HR
        version.save(update_fields=["state"])
        transition(
            pip,
            actor=actor,
            to=Status.PENDING_HR,
            action=AuditAction.SUBMITTED,
            meta=meta,
            submitted_at=timezone.now(),
        )
    return pip


def pip_return(*, actor, pip: Pip, comment: str, meta: RequestMeta | None = None) -> Pip:
    """HR sends the draft back to the supervisor with comments."""
    if not comment.strip():
        raise ValidationError(
            {"comment": gettext("Say what needs to change before returning the plan.")}
        )
    limits.check({"comment": (comment.strip(), limits.MEDIUM_TEXT)})
    with transaction.atomic():
        pip = lock(pip)
        require(rules.is_hr(actor), gettext("Only HR can return a plan."))
        require_state(pip, rules.HR_DECIDES, gettext("return"))
        version = pip.current_version
        version.state = VersionState.DRAFT
        version.save(update_fields=["state"])
        transition(
            pip,
            actor=actor,
            to=Status.DRAFT,
            action=AuditAction.RETURNED,
            meta=meta,
            comment=comment.strip(),
            hr_comment=comment.strip(),
        )
    return pip


def pip_approve(*, actor, pip: Pip, comment: str = "", meta: RequestMeta | None = None) -> Pip:
    limits.check({"comment": (comment.strip(), limits.MEDIUM_TEXT)})
    with transaction.atomic():
        pip = lock(pip)
        require(rules.is_hr(actor), gettext("Only HR can approve a plan."))
        conflict = rules.hr_conflict(actor, pip)
        require(not conflict, conflict)
        require_state(pip, rules.HR_DECIDES, gettext("approve"))
        version = pip.current_version
        version.state = VersionState.APPROVED
        version.save(update_fields=["state"])
        transition(
            pip,
            actor=actor,
            to=Status.APPROVED,
            action=AuditAction.APPROVED,
            meta=meta,
            comment=comment.strip(),
            approved_at=timezone.now(),
            approved_by=actor,
            hr_comment="",
        )
    return pip


def freeze_version(version: PipVersion, *, issued_on: dt.date) -> None:
    version.state = VersionState.ISSUED
    version.issued_on = issued_on
    version.issued_at = timezone.now()
    version.save(update_fields=["state", "issued_on", "issued_at"])
    version.content_sha256 = content_hash(version)
    version.save(update_fields=["content_sha256"])


def pip_issue(
    *,
    actor,
    pip: Pip,
    meeting_held_on: dt.date,
    signature: SignatureInput,
    meta: RequestMeta | None = None,
) -> Pip:
    """The supervisor held the meeting: the content freezes, the manager signs, the agent can
    now read and sign the plan."""
    if meeting_held_on > timezone.localdate():
        raise ValidationError(
            {"meeting_held_on": gettext("The meeting date cannot be in the future.")}
        )
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.is_plan_supervisor(actor, pip),
            gettext("Only the plan's supervisor can issue it."),
        )
        require_state(pip, rules.ISSUABLE, gettext("issue"))
        version = pip.current_version
        freeze_version(version, issued_on=meeting_held_on)
        now = timezone.now()
        transition(
            pip,
            actor=actor,
            to=Status.ISSUED,
            action=AuditAction.ISSUED,
            meta=meta,
            issued_at=now,
            meeting_held_on=meeting_held_on,
            ack_due_at=add_working_days(now, settings.PIP_ACK_DEADLINE_WORKING_DAYS),
        )
        signature_write(
            actor=actor,
            pip=pip,
            version=version,
            role=SignerRole.MANAGER,
            data=signature,
            meta=meta,
        )
    return pip


def pip_cancel(*, actor, pip: Pip, reason: str, meta: RequestMeta | None = None) -> Pip:
    if not reason.strip():
        raise ValidationError({"reason": gettext("Give the reason for cancelling the plan.")})
    limits.check({"reason": (reason.strip(), limits.MEDIUM_TEXT)})
    with transaction.atomic():
        pip = lock(pip)
        require(rules.is_hr(actor), gettext("Only HR can cancel a plan."))
        require_state(pip, rules.CANCELLABLE, gettext("cancel"))
        pip.schedule.filter(done_at__isnull=True, cancelled_at__isnull=True).update(
            cancelled_at=timezone.now()
        )
        transition(
            pip,
            actor=actor,
            to=Status.CANCELLED,
            action=AuditAction.CANCELLED,
            meta=meta,
            comment=reason.strip(),
            cancel_reason=reason.strip(),
            closed_at=timezone.now(),
        )
    return pip


def pip_viewed(
    *,
    actor,
    pip: Pip,
    what: AuditAction = AuditAction.VIEWED,
    meta: RequestMeta | None = None,
    version: PipVersion | None = None,
) -> None:
    """Who looked at or downloaded a plan is part of its record, with the version they saw
    (the current one unless said otherwise: a copy of an earlier version, say)."""
    write_audit(
        pip=pip, actor=actor, action=what, meta=meta, version=version or pip.current_version
    )


def report_exported(*, actor, report: str, filters: dict, meta: RequestMeta | None = None) -> None:
    """An export of figures across plans (HR's consistency CSV) is on record, with its filters."""
    write_audit(
        pip=None,
        actor=actor,
        action=AuditAction.REPORT_EXPORTED,
        meta=meta,
        comment=report,
        changes={"filters": filters},
    )
