"""Changes after issue: a new version written as a draft, approved by HR, signed again."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pips import roles, rules
from pips.content import (
    content_from_version,
)
from pips.inputs import (
    RequestMeta,
)
from pips.models import (
    RUNNING_STATUSES,
    Pip,
    PipVersion,
    Status,
    VersionState,
)
from pips.services.common import (
    TransitionError,
    lock,
    require,
    require_state,
    write_audit,
)
from pips.services.plans import apply_content, freeze_version, validate_content, write_rows
from pips.services.schedule import schedule_write


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
        pip = lock(pip)
        require(rules.is_plan_supervisor(actor, pip), "Only the plan's supervisor can amend it.")
        require_state(pip, RUNNING_STATUSES, "amend")
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
        apply_content(version, content)
        version.save()
        write_rows(version, content)
        write_audit(
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
        pip = lock(pip)
        require(
            rules.is_plan_supervisor(actor, pip),
            "Only the plan's supervisor can submit an amendment.",
        )
        version = _pending_amendment(pip, VersionState.DRAFT)
        validate_content(content_from_version(version), amendment=True)
        version.state = VersionState.PENDING_HR
        version.save(update_fields=["state"])
        write_audit(pip=pip, actor=actor, action="amendment_submitted", meta=meta, version=version)
    return version


def amendment_decide(
    *, actor, pip: Pip, approve: bool, comment: str = "", meta: RequestMeta | None = None
) -> PipVersion:
    """HR approves an amendment (it comes into force and must be signed again) or returns it."""
    if not approve and not comment.strip():
        raise ValidationError({"comment": "Say what needs to change before returning it."})
    with transaction.atomic():
        pip = lock(pip)
        require(roles.is_hr(actor), "Only HR decides on amendments.")
        require(actor.pk != pip.supervisor_id, "HR cannot decide on an amendment they wrote.")
        require_state(pip, RUNNING_STATUSES, "amend")
        version = _pending_amendment(pip, VersionState.PENDING_HR)
        if not approve:
            version.state = VersionState.DRAFT
            version.save(update_fields=["state"])
            write_audit(
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
        freeze_version(version, issued_on=timezone.localdate())
        pip.current_version = version
        fields = ["current_version", "updated_at"]
        if previous.period_end != version.period_end:
            pip.extension_count += 1
            fields.append("extension_count")
        pip.save(update_fields=fields)
        write_audit(
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
