"""Every write that matters to a plan. Each function is keyword-only, runs in one transaction,
locks the plan it changes, refuses what the actor's role or the plan's state does not allow,
writes one audit event and saves with update_fields. No view, form or task sets a status."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from pips import languages, notifications, roles, tasks
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
from pips.kpis import baseline_for
from pips.languages import CONSENT_TEXT  # noqa: F401  (the statement pages show)
from pips.models import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    ActionItem,
    ActionSession,
    ActionStatus,
    Agent,
    AuditEvent,
    Cadence,
    CheckIn,
    CheckInActionUpdate,
    DeadlineKind,
    Expectation,
    Outcome,
    Pip,
    PipTemplate,
    PipVersion,
    Reason,
    Review,
    ReviewItem,
    ScheduleItem,
    Signature,
    SignerRole,
    Status,
    VersionState,
)


class TransitionError(ValidationError):
    """The plan is not in a state that allows this step. The message says why, plainly."""


@dataclass(frozen=True)
class RequestMeta:
    """Who is asking from where: recorded on audit events and signatures."""

    ip_address: str | None = None
    user_agent: str = ""


@dataclass
class SignatureInput:
    typed_name: str
    consent: bool
    image: str = ""
    agrees: bool | None = None
    comments: str = ""
    # The language the consent statement was shown in; empty: the language active now.
    language: str = ""


@dataclass
class ReviewItemInput:
    expectation_id: int
    confirmed: bool
    evidence: str = ""
    adjustment: str = ""


@dataclass
class CheckInInput:
    held_on: dt.date
    scheduled_for: dt.date | None = None
    attendees: str = ""
    notes: str = ""
    coaching_done: str = ""
    next_steps: str = ""
    snapshot_note: str = ""
    action_statuses: dict[int, str] = field(default_factory=dict)
    # The sessions of recurring support held since the last check-in, by action item.
    sessions_held: dict[int, list[dt.date]] = field(default_factory=dict)


NO_META = RequestMeta()


# --- helpers -----------------------------------------------------------------------------------


def _audit(
    *,
    pip: Pip | None,
    actor,
    action: str,
    meta: RequestMeta | None = None,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    changes: dict | None = None,
    version: PipVersion | None = None,
) -> AuditEvent:
    meta = meta or NO_META
    event = AuditEvent.objects.create(
        pip=pip,
        version=version,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        comment=comment,
        changes=changes or {},
        ip_address=meta.ip_address,
        user_agent=(meta.user_agent or "")[:400],
    )
    if notifications.wants_delivery(action):
        # Only once the step is committed: a rolled-back step tells nobody anything.
        # A broker outage is logged, not raised: the sweep delivers what was missed.
        transaction.on_commit(lambda: tasks.enqueue(tasks.notify_event, event.pk))
    return event


def _lock(pip: Pip) -> Pip:
    """Reload the plan under a row lock: concurrent steps on one plan run one after another."""
    return Pip.objects.select_for_update().get(pk=pip.pk)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _require_state(pip: Pip, allowed: Iterable[str], doing: str) -> None:
    if pip.status not in allowed:
        raise TransitionError(
            f"You cannot {doing} a plan that is {pip.get_status_display().lower()}."
        )


def _is_owner(actor, pip: Pip) -> bool:
    """The plan's supervisor, or the agent's current supervisor."""
    return roles.is_supervisor(actor) and actor.pk in (pip.supervisor_id, pip.agent.supervisor_id)


def _transition(
    pip: Pip, *, actor, to: str, action: str, meta: RequestMeta | None, comment: str = "", **fields
) -> AuditEvent:
    before = pip.status
    pip.status = to
    for name, value in fields.items():
        setattr(pip, name, value)
    pip.save(update_fields=["status", "updated_at", *fields])
    return _audit(
        pip=pip,
        actor=actor,
        action=action,
        meta=meta,
        from_status=before,
        to_status=to,
        comment=comment,
        version=pip.current_version,
    )


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    result = start
    while days > 0:
        result += dt.timedelta(days=1)
        if result.weekday() < 5:
            days -= 1
    return result


def full_name_matches(typed: str, user) -> bool:
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())

    expected = norm(user.get_full_name())
    return bool(expected) and norm(typed) == expected


# --- authoring ---------------------------------------------------------------------------------


def validate_content(content: PlanContent, *, amendment: bool = False) -> None:
    """The rules every version must meet before it is saved. Raises one ValidationError with
    every problem keyed by field, so a form can show each beside its input. An amendment (an
    extension, say) need not add a midpoint review that the first version did not have."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if content.language and languages.normalise(content.language) != content.language:
        add("language", "Choose one of the languages offered.")
    days = (content.period_end - content.period_start).days
    if days <= 0:
        add("period_end", "The review period must end after it starts.")
    elif not settings.PIP_MIN_PERIOD_DAYS <= days <= settings.PIP_MAX_PERIOD_DAYS:
        add(
            "period_end",
            f"The review period must be {settings.PIP_MIN_PERIOD_DAYS} to "
            f"{settings.PIP_MAX_PERIOD_DAYS} days long; this one is {days}.",
        )
    if not content.period_start <= content.final_review_date <= content.period_end:
        add("final_review_date", "The final review must fall inside the review period.")
    if content.midpoint_date is None:
        if days > 30 and not amendment:
            add("midpoint_date", "A period over 30 days needs a midpoint review date.")
    elif not content.period_start < content.midpoint_date < content.period_end:
        add("midpoint_date", "The midpoint review must fall inside the review period.")
    if content.checkin_cadence not in Cadence.values:
        add("checkin_cadence", "Choose weekly or every two weeks.")
    if not 0 <= content.checkin_weekday <= 6:
        add("checkin_weekday", "Choose a weekday.")
    if not content.expectations:
        add("expectations", "Add at least one expectation.")
    if not content.actions:
        add("actions", "Add at least one action item.")
    if not content.reasons and not content.description.strip():
        add("reasons", "Give at least one reason for the plan.")
    from metrics.models import Kpi

    kpis = Kpi.objects.in_bulk([e.kpi_id for e in content.expectations if e.kpi_id])
    for index, row in enumerate(content.expectations):
        key = f"expectations-{index}"
        if not row.area.strip():
            add(key, "Name the performance area.")
        if row.kpi_id is None:
            if not row.standard_text.strip():
                add(key, f"{row.area or 'This row'}: describe the expected standard.")
            continue
        kpi = kpis.get(row.kpi_id)
        if kpi is None:
            add(key, "Unknown KPI.")
            continue
        if row.target is None or row.comparator not in ("gte", "lte"):
            add(key, f"{row.area}: give the comparator and the target.")
            continue
        if not kpi.in_range(row.target) or (kpi.unit == "seconds" and row.target <= 0):
            bounds = (
                "a positive duration"
                if kpi.unit == "seconds"
                else f"between {kpi.format_value(kpi.min_value)} and "
                f"{kpi.format_value(kpi.max_value)}"
            )
            add(key, f"{row.area}: the target must be {bounds}.")
            continue
        current = row.baseline_value
        if current is not None:
            met = current >= row.target if row.comparator == "gte" else current <= row.target
            if met:
                add(
                    key,
                    f"{row.area}: the current value {kpi.format_value(current)} already meets "
                    f"the target {kpi.format_value(row.target)}.",
                )
    for index, row in enumerate(content.actions):
        key = f"actions-{index}"
        if not row.action.strip() or not row.responsible.strip():
            add(key, "Each action item needs the action and who is responsible.")
        if row.deadline_kind not in DeadlineKind.values:
            add(key, "Choose a kind of deadline.")
        elif row.deadline_kind == DeadlineKind.DATE:
            if row.deadline_date is None:
                add(key, f"{row.action}: give the deadline date.")
            elif not content.period_start <= row.deadline_date <= content.period_end:
                add(key, f"{row.action}: the deadline must fall inside the review period.")
        elif row.deadline_kind == DeadlineKind.RECURRING and any(
            d not in range(7) for d in row.recurrence_weekdays
        ):
            add(key, f"{row.action}: unknown weekday in the recurrence.")
    if errors:
        raise ValidationError(errors)


def fill_baselines(*, agent: Agent, content: PlanContent, today: dt.date | None = None) -> None:
    """Fill each KPI-linked row's current performance from the agent's last 30 days of data."""
    today = today or timezone.localdate()
    for row in content.expectations:
        if row.kpi_id is None:
            row.baseline_value = row.baseline_from = row.baseline_to = None
            row.baseline_source = ""
            continue
        baseline = baseline_for(agent.employee_id, row.kpi_id, today)
        row.baseline_value = baseline.value
        row.baseline_from = baseline.start
        row.baseline_to = baseline.end
        row.baseline_source = baseline.source


def _write_rows(version: PipVersion, content: PlanContent) -> None:
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


def _apply_content(version: PipVersion, content: PlanContent) -> list[str]:
    """Copy the header and section fields onto the version; return the changed field names."""
    names = [
        "job_title",
        "description",
        "period_start",
        "period_end",
        "final_review_date",
        "checkin_cadence",
        "checkin_weekday",
        "monitoring_reports",
        "midpoint_date",
        "outcome_success",
        "outcome_failure",
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
    _require(
        roles.is_supervisor(actor) and agent.supervisor_id == actor.pk,
        "Only the agent's supervisor can draft a plan for them.",
    )
    fill_baselines(agent=agent, content=content, today=today)
    validate_content(content)
    with transaction.atomic():
        Agent.objects.select_for_update().get(pk=agent.pk)
        if Pip.objects.filter(agent=agent, status__in=OPEN_STATUSES).exists():
            raise ValidationError(
                {"agent": f"{agent.full_name} already has an open plan; finish or cancel it first."}
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
        _apply_content(version, content)
        version.save()
        _write_rows(version, content)
        pip.current_version = version
        pip.save(update_fields=["current_version"])
        _audit(
            pip=pip,
            actor=actor,
            action="created",
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
        pip = _lock(pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor can edit it.")
        version = _draft_version(pip)
        if version.number == 1:
            _require_state(pip, [Status.DRAFT], "edit")
        # Amendments keep the baselines frozen at the first issue; drafts refresh them.
        if version.number == 1:
            fill_baselines(agent=pip.agent, content=content, today=today)
        validate_content(content, amendment=version.number > 1)
        changed = _apply_content(version, content)
        version.save()
        _write_rows(version, content)
        _audit(
            pip=pip,
            actor=actor,
            action="edited",
            meta=meta,
            version=version,
            changes={"fields": changed},
        )
    return pip


def pip_submit(*, actor, pip: Pip, meta: RequestMeta | None = None) -> Pip:
    with transaction.atomic():
        pip = _lock(pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor can submit it to HR.")
        _require_state(pip, [Status.DRAFT], "submit")
        version = pip.current_version
        validate_content(content_from_version(version))
        version.state = VersionState.PENDING_HR
        version.save(update_fields=["state"])
        _transition(
            pip,
            actor=actor,
            to=Status.PENDING_HR,
            action="submitted",
            meta=meta,
            submitted_at=timezone.now(),
        )
    return pip


def pip_return(*, actor, pip: Pip, comment: str, meta: RequestMeta | None = None) -> Pip:
    """HR sends the draft back to the supervisor with comments."""
    if not comment.strip():
        raise ValidationError({"comment": "Say what needs to change before returning the plan."})
    with transaction.atomic():
        pip = _lock(pip)
        _require(roles.is_hr(actor), "Only HR can return a plan.")
        _require_state(pip, [Status.PENDING_HR], "return")
        version = pip.current_version
        version.state = VersionState.DRAFT
        version.save(update_fields=["state"])
        _transition(
            pip,
            actor=actor,
            to=Status.DRAFT,
            action="returned",
            meta=meta,
            comment=comment.strip(),
            hr_comment=comment.strip(),
        )
    return pip


def pip_approve(*, actor, pip: Pip, comment: str = "", meta: RequestMeta | None = None) -> Pip:
    with transaction.atomic():
        pip = _lock(pip)
        _require(roles.is_hr(actor), "Only HR can approve a plan.")
        _require(actor.pk != pip.supervisor_id, "HR cannot approve a plan they drafted.")
        _require_state(pip, [Status.PENDING_HR], "approve")
        version = pip.current_version
        version.state = VersionState.APPROVED
        version.save(update_fields=["state"])
        _transition(
            pip,
            actor=actor,
            to=Status.APPROVED,
            action="approved",
            meta=meta,
            comment=comment.strip(),
            approved_at=timezone.now(),
            approved_by=actor,
            hr_comment="",
        )
    return pip


def _freeze(version: PipVersion, *, issued_on: dt.date) -> None:
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
        raise ValidationError({"meeting_held_on": "The meeting date cannot be in the future."})
    with transaction.atomic():
        pip = _lock(pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor can issue it.")
        _require_state(pip, [Status.APPROVED], "issue")
        version = pip.current_version
        _freeze(version, issued_on=meeting_held_on)
        now = timezone.now()
        _transition(
            pip,
            actor=actor,
            to=Status.ISSUED,
            action="issued",
            meta=meta,
            issued_at=now,
            meeting_held_on=meeting_held_on,
            ack_due_at=add_working_days(now, settings.PIP_ACK_DEADLINE_WORKING_DAYS),
        )
        _signature_write(
            actor=actor,
            pip=pip,
            version=version,
            role=SignerRole.MANAGER,
            data=signature,
            meta=meta,
        )
    return pip


# --- signatures --------------------------------------------------------------------------------


def _signature_write(
    *, actor, pip: Pip, version: PipVersion, role: str, data: SignatureInput, meta
) -> Signature:
    errors = {}
    if not data.consent:
        errors["consent"] = "Tick the box to agree to sign electronically."
    if not full_name_matches(data.typed_name, actor):
        errors["typed_name"] = (
            f"Type your full name exactly as on your account: {actor.get_full_name()}."
        )
    if data.agrees is False and not data.comments.strip():
        errors["comments"] = "Say what you disagree with."
    if data.image and not data.image.startswith("data:image/png;base64,"):
        errors["image"] = "The drawn signature was not a PNG image."
    elif len(data.image) > 400_000:
        errors["image"] = "The drawn signature is too large."
    language = languages.normalise(data.language or languages.current_language())
    if language is None:
        errors["consent"] = "The consent statement was shown in a language we do not have."
    if errors:
        raise ValidationError(errors)
    if version.signatures.filter(role=role).exists():
        raise TransitionError(f"The {SignerRole(role).label.lower()} has already signed.")
    meta = meta or NO_META
    try:
        with transaction.atomic():
            sig = Signature.objects.create(
                version=version,
                role=role,
                signer=actor,
                typed_name=data.typed_name.strip(),
                image=data.image,
                consent_text=languages.consent_text(language),
                consent_language=language,
                agrees=data.agrees if role == SignerRole.AGENT else None,
                comments=data.comments.strip(),
                ip_address=meta.ip_address,
                user_agent=(meta.user_agent or "")[:400],
                content_sha256=version.content_sha256,
            )
    except IntegrityError:
        raise TransitionError("This signature has already been given.") from None
    _audit(
        pip=pip,
        actor=actor,
        action="signed",
        meta=meta,
        version=version,
        changes={
            "role": role,
            "agrees": sig.agrees,
            "sha256": version.content_sha256,
            "consent_language": language,
        },
        comment=sig.comments,
    )
    return sig


def _roles_signed(version: PipVersion) -> set[str]:
    return set(version.signatures.values_list("role", flat=True))


def _signable_version(pip: Pip, version: PipVersion) -> None:
    if version.pip_id != pip.pk:
        raise TransitionError("That version belongs to another plan.")
    if version.state != VersionState.ISSUED:
        raise TransitionError(
            f"Version {version.number} is {version.get_state_display().lower()}; "
            "only the version in force can be signed."
        )


def _maybe_activate(*, actor, pip: Pip, version: PipVersion, meta) -> None:
    if _roles_signed(version) >= {SignerRole.MANAGER, SignerRole.AGENT, SignerRole.HR}:
        if pip.status == Status.ISSUED:
            _transition(
                pip,
                actor=actor,
                to=Status.ACTIVE,
                action="activated",
                meta=meta,
                activated_at=timezone.now(),
            )
            schedule_write(pip=pip)
        else:
            _audit(
                pip=pip, actor=actor, action="amendment_acknowledged", meta=meta, version=version
            )


def signature_add(
    *,
    actor,
    pip: Pip,
    version: PipVersion,
    role: str,
    data: SignatureInput,
    meta: RequestMeta | None = None,
) -> Signature:
    """Sign a version as manager, employee or HR. The manager signs at issue, the employee
    acknowledges, HR countersigns; the plan becomes active when all three are present."""
    with transaction.atomic():
        pip = _lock(pip)
        version = PipVersion.objects.get(pk=version.pk)
        if role == SignerRole.AGENT:
            _require(pip.agent.user_id == actor.pk, "Only the employee can sign as employee.")
        elif role == SignerRole.MANAGER:
            _require(_is_owner(actor, pip), "Only the plan's supervisor signs as manager.")
        elif role == SignerRole.HR:
            _require(roles.is_hr(actor), "Only HR can countersign.")
        else:
            raise ValidationError({"role": "Unknown signer role."})
        _require_state(pip, {Status.ISSUED} | RUNNING_STATUSES, "sign")
        _signable_version(pip, version)
        signed = _roles_signed(version)
        if role == SignerRole.AGENT and SignerRole.MANAGER not in signed:
            raise TransitionError("The manager signs first, when the plan is issued.")
        if role == SignerRole.HR and SignerRole.AGENT not in signed:
            raise TransitionError("HR countersigns after the employee's acknowledgment.")
        sig = _signature_write(
            actor=actor, pip=pip, version=version, role=role, data=data, meta=meta
        )
        _maybe_activate(actor=actor, pip=pip, version=version, meta=meta)
    return sig


def refusal_record(
    *,
    actor,
    pip: Pip,
    witness,
    note: str,
    meta: RequestMeta | None = None,
) -> Signature:
    """The employee refused to sign: the supervisor records it with a witness, which completes
    the acknowledgment step."""
    if witness is None or witness.pk in (actor.pk, pip.agent.user_id):
        raise ValidationError({"witness": "The witness must be another person, not the employee."})
    if not note.strip():
        raise ValidationError({"note": "Describe what happened."})
    with transaction.atomic():
        pip = _lock(pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor records a refusal.")
        _require_state(pip, {Status.ISSUED} | RUNNING_STATUSES, "record a refusal on")
        version = pip.current_version
        _signable_version(pip, version)
        signed = _roles_signed(version)
        if SignerRole.AGENT in signed:
            raise TransitionError("The employee's acknowledgment is already recorded.")
        if SignerRole.MANAGER not in signed:
            raise TransitionError("The manager signs first, when the plan is issued.")
        meta = meta or NO_META
        employee_language = languages.language_of(pip.agent.user)
        try:
            with transaction.atomic():
                sig = Signature.objects.create(
                    version=version,
                    role=SignerRole.AGENT,
                    kind=Signature.Kind.REFUSED,
                    signer=actor,
                    typed_name=actor.get_full_name(),
                    # Nothing was signed: the statement the employee would have been shown.
                    consent_text=languages.consent_text(employee_language),
                    consent_language=employee_language,
                    comments=note.strip(),
                    witness=witness,
                    ip_address=meta.ip_address,
                    user_agent=(meta.user_agent or "")[:400],
                    content_sha256=version.content_sha256,
                )
        except IntegrityError:
            raise TransitionError("The employee's acknowledgment is already recorded.") from None
        _audit(
            pip=pip,
            actor=actor,
            action="refusal_recorded",
            meta=meta,
            version=version,
            comment=note.strip(),
            changes={"witness": witness.get_full_name()},
        )
    return sig


# --- amendments --------------------------------------------------------------------------------


def amendment_start(
    *,
    actor,
    pip: Pip,
    change_summary: str,
    meta: RequestMeta | None = None,
    new_end_date: dt.date | None = None,
) -> PipVersion:
    """A change after issue: a new version copied from the one in force, edited as a draft,
    approved by HR and signed again."""
    if not change_summary.strip():
        raise ValidationError({"change_summary": "Say why the plan is being amended."})
    with transaction.atomic():
        pip = _lock(pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor can amend it.")
        _require_state(pip, RUNNING_STATUSES, "amend")
        if pip.versions.exclude(
            state__in=[VersionState.ISSUED, VersionState.SUPERSEDED, VersionState.WITHDRAWN]
        ).exists():
            raise TransitionError("An amendment is already in progress.")
        current = pip.current_version
        content = content_from_version(current)
        content.change_summary = change_summary.strip()
        if new_end_date is not None:
            content.period_end = new_end_date
            content.final_review_date = new_end_date
        version = PipVersion(
            pip=pip,
            number=current.number + 1,
            employee_name=current.employee_name,
            employee_id=current.employee_id,
            department=current.department,
            supervisor_name=current.supervisor_name,
            created_by=actor,
            period_start=content.period_start,
            period_end=content.period_end,
            final_review_date=content.final_review_date,
        )
        _apply_content(version, content)
        version.save()
        _write_rows(version, content)
        _audit(
            pip=pip,
            actor=actor,
            action="amendment_started",
            meta=meta,
            version=version,
            comment=change_summary.strip(),
        )
    return version


def _pending_amendment(pip: Pip, state: str) -> PipVersion:
    version = pip.versions.filter(state=state, number__gt=1).order_by("-number").first()
    if version is None:
        raise TransitionError("There is no amendment at that step.")
    return version


def amendment_submit(*, actor, pip: Pip, meta: RequestMeta | None = None) -> PipVersion:
    with transaction.atomic():
        pip = _lock(pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor can submit an amendment.")
        version = _pending_amendment(pip, VersionState.DRAFT)
        validate_content(content_from_version(version), amendment=True)
        version.state = VersionState.PENDING_HR
        version.save(update_fields=["state"])
        _audit(pip=pip, actor=actor, action="amendment_submitted", meta=meta, version=version)
    return version


def amendment_decide(
    *, actor, pip: Pip, approve: bool, comment: str = "", meta: RequestMeta | None = None
) -> PipVersion:
    """HR approves an amendment (it comes into force and must be signed again) or returns it."""
    if not approve and not comment.strip():
        raise ValidationError({"comment": "Say what needs to change before returning it."})
    with transaction.atomic():
        pip = _lock(pip)
        _require(roles.is_hr(actor), "Only HR decides on amendments.")
        _require(actor.pk != pip.supervisor_id, "HR cannot decide on an amendment they wrote.")
        _require_state(pip, RUNNING_STATUSES, "amend")
        version = _pending_amendment(pip, VersionState.PENDING_HR)
        if not approve:
            version.state = VersionState.DRAFT
            version.save(update_fields=["state"])
            _audit(
                pip=pip,
                actor=actor,
                action="amendment_returned",
                meta=meta,
                version=version,
                comment=comment.strip(),
            )
            return version
        previous = pip.current_version
        previous.state = VersionState.SUPERSEDED
        previous.save(update_fields=["state"])
        _freeze(version, issued_on=timezone.localdate())
        pip.current_version = version
        fields = ["current_version", "updated_at"]
        if previous.period_end != version.period_end:
            pip.extension_count += 1
            fields.append("extension_count")
        pip.save(update_fields=fields)
        _audit(
            pip=pip,
            actor=actor,
            action="amendment_approved",
            meta=meta,
            version=version,
            comment=comment.strip(),
            changes={"from_version": previous.number, "to_version": version.number},
        )
        if pip.status != Status.FINAL:
            schedule_write(pip=pip)
    return version


# --- schedule ----------------------------------------------------------------------------------


def checkin_dates(version: PipVersion) -> list[dt.date]:
    """Each check-in from the cadence and weekday, after the start and before the final review."""
    step = 14 if version.checkin_cadence == Cadence.BIWEEKLY else 7
    day = version.period_start + dt.timedelta(days=1)
    day += dt.timedelta(days=(version.checkin_weekday - day.weekday()) % 7)
    dates = []
    while day < version.final_review_date:
        if day != version.midpoint_date:
            dates.append(day)
        day += dt.timedelta(days=step)
    return dates


def _due_at(day: dt.date, tz_name: str) -> dt.datetime:
    tz = zoneinfo.ZoneInfo(tz_name or "UTC")
    local = dt.datetime.combine(day, dt.time(settings.PIP_MEETING_HOUR), tzinfo=tz)
    return local.astimezone(dt.UTC)


def schedule_write(*, pip: Pip) -> list[ScheduleItem]:
    """Write the plan's dated steps for the version in force. Steps of an earlier version that
    have not happened are cancelled; the call is safe to repeat."""
    version = pip.current_version
    wanted: list[tuple[str, dt.date]] = [
        (ScheduleItem.Kind.CHECKIN, d) for d in checkin_dates(version)
    ]
    if version.midpoint_date:
        wanted.append((ScheduleItem.Kind.MIDPOINT, version.midpoint_date))
    wanted.append((ScheduleItem.Kind.FINAL, version.final_review_date))
    now = timezone.now()
    keep = set(wanted)
    stale = [
        item.pk
        for item in pip.schedule.filter(done_at__isnull=True, cancelled_at__isnull=True)
        if (item.kind, item.due_on) not in keep
    ]
    if stale:
        ScheduleItem.objects.filter(pk__in=stale).update(cancelled_at=now)
    tz_name = pip.agent.team.timezone
    ScheduleItem.objects.bulk_create(
        [
            ScheduleItem(
                pip=pip, version=version, kind=kind, due_on=day, due_at=_due_at(day, tz_name)
            )
            for kind, day in wanted
        ],
        ignore_conflicts=True,
    )
    # A step that an earlier version cancelled and this one has again comes back (the insert
    # above skipped it: the row exists).
    revived = [
        item.pk
        for item in pip.schedule.filter(done_at__isnull=True, cancelled_at__isnull=False)
        if (item.kind, item.due_on) in keep
    ]
    if revived:
        ScheduleItem.objects.filter(pk__in=revived).update(cancelled_at=None, version=version)
    return list(pip.schedule.filter(cancelled_at__isnull=True))


# --- check-ins and reviews ---------------------------------------------------------------------


def checkin_record(
    *,
    actor,
    pip: Pip,
    data: CheckInInput,
    snapshot: list[dict],
    meta: RequestMeta | None = None,
) -> CheckIn:
    """Record a check-in held with the agent: the KPI snapshot, each action's status and the
    support sessions actually given."""
    if data.held_on > timezone.localdate():
        raise ValidationError({"held_on": "A check-in cannot be recorded before it is held."})
    with transaction.atomic():
        pip = _lock(pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor records check-ins.")
        _require_state(pip, RUNNING_STATUSES, "record a check-in on")
        version = pip.current_version
        items = {a.pk: a for a in version.actions.all()}
        unknown = (set(data.action_statuses) | set(data.sessions_held)) - set(items)
        if unknown:
            raise ValidationError({"actions": "Unknown action item."})
        if any(s not in ActionStatus.values for s in data.action_statuses.values()):
            raise ValidationError({"actions": "Unknown action status."})
        _check_sessions(version, items, data)
        try:
            with transaction.atomic():
                checkin = CheckIn.objects.create(
                    pip=pip,
                    version=version,
                    scheduled_for=data.scheduled_for,
                    held_on=data.held_on,
                    attendees=data.attendees.strip(),
                    notes=data.notes.strip(),
                    coaching_done=data.coaching_done.strip(),
                    next_steps=data.next_steps.strip(),
                    snapshot_note=data.snapshot_note.strip(),
                    kpi_snapshot=snapshot,
                    recorded_by=actor,
                )
        except IntegrityError:
            raise ValidationError(
                {"scheduled_for": "That scheduled check-in has already been recorded."}
            ) from None
        CheckInActionUpdate.objects.bulk_create(
            CheckInActionUpdate(checkin=checkin, action_item_id=pk, status=status)
            for pk, status in data.action_statuses.items()
        )
        for pk, status in data.action_statuses.items():
            if items[pk].status != status:
                items[pk].status = status
                items[pk].save(update_fields=["status"])
        ActionSession.objects.bulk_create(
            ActionSession(action_item_id=pk, checkin=checkin, held_on=day, recorded_by=actor)
            for pk, days in data.sessions_held.items()
            for day in sorted(set(days))
        )
        _complete_schedule(pip, ScheduleItem.Kind.CHECKIN, data.scheduled_for)
        _audit(
            pip=pip,
            actor=actor,
            action="checkin_recorded",
            meta=meta,
            version=version,
            changes={"held_on": data.held_on.isoformat(), "checkin": checkin.pk},
        )
    return checkin


def _check_sessions(version: PipVersion, items: dict[int, ActionItem], data: CheckInInput) -> None:
    """Sessions are recorded for support that records them, inside the plan, not after the
    check-in, and once per day."""
    for pk, days in data.sessions_held.items():
        item = items[pk]
        if not item.records_sessions:
            raise ValidationError({"sessions": f"{item.action}: no sessions are recorded for it."})
        for day in days:
            if not version.period_start <= day <= data.held_on:
                raise ValidationError(
                    {
                        "sessions": f"{item.action}: a session on {day:%d %b %Y} must fall "
                        "between the start of the plan and the day of the check-in."
                    }
                )
    wanted = {(pk, day) for pk, days in data.sessions_held.items() for day in days}
    if wanted:
        existing = ActionSession.objects.filter(
            action_item_id__in={pk for pk, _ in wanted},
            held_on__in={day for _, day in wanted},
        ).values_list("action_item_id", "held_on")
        for pk, day in existing:
            if (pk, day) in wanted:
                raise ValidationError(
                    {
                        "sessions": f"{items[pk].action}: the session on {day:%d %b %Y} is "
                        "already recorded."
                    }
                )


def checkin_missed(
    *, actor, pip: Pip, scheduled_for: dt.date, reason: str, meta: RequestMeta | None = None
) -> CheckIn:
    if not reason.strip():
        raise ValidationError({"missed_reason": "Say why the check-in did not happen."})
    with transaction.atomic():
        pip = _lock(pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor records check-ins.")
        _require_state(pip, RUNNING_STATUSES, "record a check-in on")
        try:
            with transaction.atomic():
                checkin = CheckIn.objects.create(
                    pip=pip,
                    version=pip.current_version,
                    scheduled_for=scheduled_for,
                    held_on=scheduled_for,
                    state=CheckIn.State.MISSED,
                    missed_reason=reason.strip(),
                    recorded_by=actor,
                )
        except IntegrityError:
            raise ValidationError(
                {"scheduled_for": "That scheduled check-in has already been recorded."}
            ) from None
        _complete_schedule(pip, ScheduleItem.Kind.CHECKIN, scheduled_for)
        _audit(
            pip=pip,
            actor=actor,
            action="checkin_missed",
            meta=meta,
            version=pip.current_version,
            comment=reason.strip(),
            changes={"scheduled_for": scheduled_for.isoformat()},
        )
    return checkin


def checkin_agent_comment(
    *, actor, checkin: CheckIn, comment: str, meta: RequestMeta | None = None
) -> CheckIn:
    if not comment.strip():
        raise ValidationError({"agent_comment": "Write your comment."})
    with transaction.atomic():
        pip = _lock(checkin.pip)
        _require(pip.agent.user_id == actor.pk, "Only the employee can comment here.")
        checkin = CheckIn.objects.select_for_update().get(pk=checkin.pk)
        if checkin.agent_comment:
            raise TransitionError("You have already commented on this check-in.")
        checkin.agent_comment = comment.strip()
        checkin.save(update_fields=["agent_comment"])
        _audit(
            pip=pip,
            actor=actor,
            action="checkin_commented",
            meta=meta,
            comment=comment.strip(),
            changes={"checkin": checkin.pk},
        )
    return checkin


def _complete_schedule(pip: Pip, kind: str, due_on: dt.date | None) -> None:
    if due_on is not None:
        pip.schedule.filter(kind=kind, due_on=due_on, done_at__isnull=True).update(
            done_at=timezone.now()
        )


def review_open(
    *, pip: Pip, kind: str, actor=None, meta: RequestMeta | None = None
) -> tuple[Review, bool]:
    """Open the midpoint or final review for the version in force. Safe to call again: the
    second call finds the review already open and changes nothing."""
    with transaction.atomic():
        pip = _lock(pip)
        if actor is not None:
            _require(
                _is_owner(actor, pip) or roles.is_hr(actor),
                "Only the plan's supervisor or HR opens a review.",
            )
        version = pip.current_version
        existing = Review.objects.filter(pip=pip, kind=kind, version=version).first()
        if existing is not None:
            return existing, False
        if kind == Review.Kind.MIDPOINT:
            _require_state(pip, [Status.ACTIVE], "open the midpoint review of")
            if not version.midpoint_date:
                raise TransitionError("This plan has no midpoint review.")
            due = version.midpoint_date
        elif kind == Review.Kind.FINAL:
            _require_state(
                pip, [Status.ACTIVE, Status.MIDPOINT, Status.EXTENDED], "open the final review of"
            )
            if (
                version.midpoint_date
                and not pip.reviews.filter(
                    kind=Review.Kind.MIDPOINT, state=Review.State.DONE
                ).exists()
            ):
                raise TransitionError("Complete the midpoint review first.")
            due = version.final_review_date
        else:
            raise ValidationError({"kind": "Unknown review."})
        # The schedule opens a review on its day; by hand, it can be opened from that day on.
        if actor is not None and due > timezone.localdate():
            raise TransitionError(
                f"This review is due on {due:%d %b %Y}; it can be opened from that day."
            )
        review = Review.objects.create(pip=pip, version=version, kind=kind, due_on=due)
        if kind == Review.Kind.FINAL:
            _transition(pip, actor=actor, to=Status.FINAL, action="final_review_opened", meta=meta)
        else:
            _audit(
                pip=pip, actor=actor, action="midpoint_review_opened", meta=meta, version=version
            )
    return review, True


def _review_items(review: Review, items: list[ReviewItemInput], suggestions: dict) -> None:
    expectations = {e.pk: e for e in review.version.expectations.all()}
    given = {i.expectation_id for i in items}
    if given != set(expectations):
        raise ValidationError({"items": "Judge every expectation of the plan, and only those."})
    ReviewItem.objects.bulk_create(
        ReviewItem(
            review=review,
            expectation_id=i.expectation_id,
            current_value=suggestions.get(i.expectation_id, (None, None))[0],
            suggested=suggestions.get(i.expectation_id, (None, None))[1],
            confirmed=i.confirmed,
            evidence=i.evidence.strip(),
            adjustment=i.adjustment.strip(),
        )
        for i in items
    )


def midpoint_record(
    *,
    actor,
    review: Review,
    items: list[ReviewItemInput],
    summary: str,
    suggestions: dict[int, tuple[float | None, bool | None]],
    meta: RequestMeta | None = None,
) -> Review:
    with transaction.atomic():
        pip = _lock(review.pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor records the midpoint review.")
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.kind != Review.Kind.MIDPOINT or review.state != Review.State.OPEN:
            raise TransitionError("This midpoint review is not open.")
        _require_state(pip, [Status.ACTIVE], "record the midpoint review of")
        _review_items(review, items, suggestions)
        review.state = Review.State.DONE
        review.summary = summary.strip()
        review.held_on = timezone.localdate()
        review.completed_by = actor
        review.completed_at = timezone.now()
        review.save(update_fields=["state", "summary", "held_on", "completed_by", "completed_at"])
        _complete_schedule(pip, ScheduleItem.Kind.MIDPOINT, pip.current_version.midpoint_date)
        _transition(
            pip,
            actor=actor,
            to=Status.MIDPOINT,
            action="midpoint_recorded",
            meta=meta,
            comment=summary.strip(),
        )
    return review


def final_record(
    *,
    actor,
    review: Review,
    items: list[ReviewItemInput],
    outcome: str,
    summary: str,
    suggestions: dict[int, tuple[float | None, bool | None]],
    new_end_date: dt.date | None = None,
    meta: RequestMeta | None = None,
) -> Review:
    """The final review: each expectation met or not, then the outcome. Successful closes the
    plan; extended starts an amendment with the new end date; unsuccessful goes to HR."""
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Choose an outcome."})
    with transaction.atomic():
        pip = _lock(review.pip)
        _require(_is_owner(actor, pip), "Only the plan's supervisor records the final review.")
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.kind != Review.Kind.FINAL or review.state != Review.State.OPEN:
            raise TransitionError("This final review is not open.")
        _require_state(pip, [Status.FINAL], "record the final review of")
        if outcome == Outcome.EXTENDED:
            if pip.extension_count >= settings.PIP_MAX_EXTENSIONS:
                raise ValidationError({"outcome": "This plan has already been extended."})
            version = pip.current_version
            limit = version.period_start + dt.timedelta(days=settings.PIP_MAX_PERIOD_DAYS)
            if new_end_date is None or not version.period_end < new_end_date <= limit:
                raise ValidationError(
                    {
                        "new_end_date": f"Give a new end date after {version.period_end:%d %b %Y} "
                        f"and no later than {limit:%d %b %Y}."
                    }
                )
        _review_items(review, items, suggestions)
        review.state = Review.State.DONE
        review.outcome = outcome
        review.summary = summary.strip()
        review.supervisor_comments = summary.strip()
        review.new_end_date = new_end_date if outcome == Outcome.EXTENDED else None
        review.held_on = timezone.localdate()
        review.completed_by = actor
        review.completed_at = timezone.now()
        review.save(
            update_fields=[
                "state",
                "outcome",
                "summary",
                "supervisor_comments",
                "new_end_date",
                "held_on",
                "completed_by",
                "completed_at",
            ]
        )
        _complete_schedule(pip, ScheduleItem.Kind.FINAL, review.due_on)
        if outcome == Outcome.SUCCESSFUL:
            _transition(
                pip,
                actor=actor,
                to=Status.CLOSED_SUCCESSFUL,
                action="closed",
                meta=meta,
                comment=summary.strip(),
                outcome=outcome,
                closed_at=timezone.now(),
            )
        elif outcome == Outcome.EXTENDED:
            _transition(
                pip,
                actor=actor,
                to=Status.EXTENDED,
                action="extended",
                meta=meta,
                comment=summary.strip(),
            )
        else:
            _audit(
                pip=pip,
                actor=actor,
                action="referred_to_hr",
                meta=meta,
                version=pip.current_version,
                comment=summary.strip(),
            )
        if outcome == Outcome.EXTENDED:
            amendment_start(
                actor=actor,
                pip=pip,
                meta=meta,
                new_end_date=new_end_date,
                change_summary=f"Extended to {new_end_date:%d %b %Y} at the final review. "
                f"{summary.strip()}",
            )
    return review


def pip_decide_unsuccessful(
    *, actor, pip: Pip, decision: str, consequence: str, meta: RequestMeta | None = None
) -> Pip:
    """HR records the decision and the consequence of an unsuccessful plan, and signs it off."""
    errors = {}
    if not decision.strip():
        errors["decision"] = "Record HR's decision."
    if not consequence.strip():
        errors["consequence"] = "Record the consequence."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pip = _lock(pip)
        _require(roles.is_hr(actor), "Only HR decides on an unsuccessful plan.")
        _require_state(pip, [Status.FINAL], "decide on")
        review = pip.reviews.filter(
            kind=Review.Kind.FINAL, state=Review.State.DONE, version=pip.current_version
        ).first()
        if review is None or review.outcome != Outcome.UNSUCCESSFUL:
            raise TransitionError("The final review has not found the plan unsuccessful.")
        review.hr_comments = decision.strip()
        review.save(update_fields=["hr_comments"])
        _transition(
            pip,
            actor=actor,
            to=Status.CLOSED_UNSUCCESSFUL,
            action="closed",
            meta=meta,
            comment=decision.strip(),
            outcome=Outcome.UNSUCCESSFUL,
            hr_decision=decision.strip(),
            consequence=consequence.strip(),
            closed_at=timezone.now(),
        )
    return pip


def pip_cancel(*, actor, pip: Pip, reason: str, meta: RequestMeta | None = None) -> Pip:
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for cancelling the plan."})
    with transaction.atomic():
        pip = _lock(pip)
        _require(roles.is_hr(actor), "Only HR can cancel a plan.")
        _require_state(pip, OPEN_STATUSES, "cancel")
        pip.schedule.filter(done_at__isnull=True, cancelled_at__isnull=True).update(
            cancelled_at=timezone.now()
        )
        _transition(
            pip,
            actor=actor,
            to=Status.CANCELLED,
            action="cancelled",
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
    what: str = "viewed",
    meta: RequestMeta | None = None,
    version: PipVersion | None = None,
) -> None:
    """Who looked at or downloaded a plan is part of its record, with the version they saw
    (the current one unless said otherwise: a copy of an earlier version, say)."""
    _audit(pip=pip, actor=actor, action=what, meta=meta, version=version or pip.current_version)


def report_exported(*, actor, report: str, filters: dict, meta: RequestMeta | None = None) -> None:
    """An export of figures across plans (HR's consistency CSV) is on record, with its filters."""
    _audit(
        pip=None,
        actor=actor,
        action="report_exported",
        meta=meta,
        comment=report,
        changes={"filters": filters},
    )
