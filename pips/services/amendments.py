"""Changes after issue: a new version written as a draft, approved by HR, signed again."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from pips import limits, rules
from pips.audit import AuditAction
from pips.content import (
    content_from_version,
)
from pips.inputs import (
    RequestMeta,
)
from pips.models import (
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
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.is_plan_supervisor(actor, pip),
            gettext("Only the plan's supervisor can amend it."),
        )
        return create_amendment(
            actor=actor,
            pip=pip,
            change_summary=change_summary,
            meta=meta,
            new_end_date=new_end_date,
        )


def create_amendment(
    *,
    actor,
    pip: Pip,
    change_summary: str,
    meta: RequestMeta | None = None,
    new_end_date: dt.date | None = None,
) -> PipVersion:
    """The new version itself, for a caller that has checked who may start it and holds the
    plan's lock: the supervisor amending, or HR extending the plan at its final review. The
    draft is the plan's supervisor's to complete and submit."""
    if not change_summary.strip():
        raise ValidationError({"change_summary": gettext("Say why the plan is being amended.")})
    limits.check({"change_summary": (change_summary.strip(), limits.MEDIUM_TEXT)})
    with transaction.atomic():
        require_state(pip, rules.AMENDABLE, gettext("amend"))
        if pip.versions.exclude(
            state__in=[VersionState.ISSUED, VersionState.SUPERSEDED, VersionState.WITHDRAWN]
        ).exists():
            raise TransitionError(gettext("An amendment is already in progress."))
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
            # The plan's holder now: after a transfer, the new supervisor signs it as manager.
            supervisor_name=pip.supervisor.get_full_name() or pip.supervisor.get_username(),
            created_by=actor if rules.is_plan_supervisor(actor, pip) else pip.supervisor,
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
            action=AuditAction.AMENDMENT_STARTED,
            meta=meta,
            version=version,
            comment=change_summary.strip(),
        )
    return version


def _pending_amendment(pip: Pip, state: str) -> PipVersion:
    version = pip.versions.filter(state=state, number__gt=1).order_by("-number").first()
    if version is None:
        raise TransitionError(gettext("There is no amendment at that step."))
    return version


def amendment_submit(*, actor, pip: Pip, meta: RequestMeta | None = None) -> PipVersion:
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.is_plan_supervisor(actor, pip),
            gettext("Only the plan's supervisor can submit an amendment."),
        )
        version = _pending_amendment(pip, VersionState.DRAFT)
        validate_content(content_from_version(version), amendment=True)
        version.state = VersionState.PENDING_HR
        version.save(update_fields=["state"])
        write_audit(
            pip=pip, actor=actor, action=AuditAction.AMENDMENT_SUBMITTED, meta=meta, version=version
        )
    return version


def amendment_decide(
    *, actor, pip: Pip, approve: bool, comment: str = "", meta: RequestMeta | None = None
) -> PipVersion:
    """HR approves an amendment (it comes into force and must be signed again) or returns it."""
    if not approve and not comment.strip():
        raise ValidationError({"comment": gettext("Say what needs to change before returning it.")})
    limits.check({"comment": (comment.strip(), limits.MEDIUM_TEXT)})
    with transaction.atomic():
        pip = lock(pip)
        require(rules.is_hr(actor), gettext("Only HR decides on amendments."))
        require_state(pip, rules.AMENDABLE, gettext("amend"))
        version = _pending_amendment(pip, VersionState.PENDING_HR)
        conflict = rules.hr_conflict(actor, pip, version)
        require(not conflict, conflict)
        if not approve:
            version.state = VersionState.DRAFT
            version.save(update_fields=["state"])
            write_audit(
                pip=pip,
                actor=actor,
                action=AuditAction.AMENDMENT_RETURNED,
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
            action=AuditAction.AMENDMENT_APPROVED,
            meta=meta,
            version=version,
            comment=comment.strip(),
            changes={"from_version": previous.number, "to_version": version.number},
        )
        if pip.status != Status.FINAL:
            schedule_write(pip=pip)
    return version
