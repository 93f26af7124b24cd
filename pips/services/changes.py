"""The changes real plans go through: a pause for documented leave (the dates ahead move by the
days paused), a transfer to another supervisor, the employee leaving the company, and a delegate
who covers for a supervisor over a date range."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from pips import limits, roles, rules
from pips.audit import AuditAction
from pips.inputs import RequestMeta
from pips.models import (
    OPEN_STATUSES,
    Delegation,
    Pip,
    PipPause,
    Reminder,
    Status,
)
from pips.services.common import (
    TransitionError,
    lock,
    require,
    require_state,
    transition,
    write_audit,
)
from pips.services.schedule import schedule_write
from pipsystem import l10n

#: A plan can be paused while it runs, between its meetings.
PAUSABLE_STATUSES = frozenset({Status.ACTIVE, Status.MIDPOINT, Status.EXTENDED})
#: The longest cover a supervisor can give in one go.
MAX_DELEGATION_DAYS = 92


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


# --- Leave ----------------------------------------------------------------------------------------


def pip_pause(
    *,
    actor,
    pip: Pip,
    kind: str,
    note: str,
    start_on: dt.date,
    meta: RequestMeta | None = None,
) -> PipPause:
    """Pause a running plan for documented leave from `start_on`: its meetings still ahead are
    called off and nothing is reminded until it resumes."""
    errors = {}
    if kind not in PipPause.Kind.values:
        errors["kind"] = gettext("Choose the kind of leave.")
    if not note.strip():
        errors["note"] = gettext("Say what documents the leave (a doctor's note on file, say).")
    if start_on > timezone.localdate():
        errors["start_on"] = gettext("A pause starts today or on a day already past.")
    if errors:
        raise ValidationError(errors)
    limits.check({"note": (note.strip(), limits.MEDIUM_TEXT)})
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.may_pause(actor, pip), gettext("Only HR or the plan's supervisor pauses a plan.")
        )
        require_state(pip, PAUSABLE_STATUSES, gettext("pause"))
        if pip.paused_since is not None:
            raise TransitionError(
                gettext("This plan is already paused since %(date)s.")
                % {"date": l10n.date(pip.paused_since, long=True)}
            )
        version = pip.current_version
        if not version.period_start <= start_on:
            raise ValidationError(
                {
                    "start_on": gettext("A pause starts inside the plan, from %(date)s.")
                    % {"date": l10n.date(version.period_start, long=True)}
                }
            )
        last = pip.pauses.order_by("-end_on").first()
        if last is not None and last.end_on and start_on < last.end_on:
            raise ValidationError(
                {
                    "start_on": gettext("The last pause ended on %(date)s; start after it.")
                    % {"date": l10n.date(last.end_on, long=True)}
                }
            )
        pause = PipPause.objects.create(
            pip=pip, kind=kind, note=note.strip(), start_on=start_on, paused_by=actor
        )
        pip.schedule.filter(done_at__isnull=True, cancelled_at__isnull=True).update(
            cancelled_at=timezone.now()
        )
        pip.paused_since = start_on
        pip.save(update_fields=["paused_since", "updated_at"])
        write_audit(
            pip=pip,
            actor=actor,
            action=AuditAction.PAUSED,
            meta=meta,
            version=version,
            comment=note.strip(),
            changes={"kind": kind, "start_on": start_on.isoformat()},
        )
    return pause


def pip_resume(*, actor, pip: Pip, resume_on: dt.date, meta: RequestMeta | None = None) -> PipPause:
    """End the pause: the review period, the check-ins and the reviews still ahead move by the
    days paused, and the schedule (and with it the reminders) starts again."""
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.may_pause(actor, pip), gettext("Only HR or the plan's supervisor resumes a plan.")
        )
        pause = pip.pauses.filter(end_on__isnull=True).order_by("-start_on").first()
        if pip.paused_since is None or pause is None:
            raise TransitionError(gettext("This plan is not paused."))
        if resume_on > timezone.localdate():
            raise ValidationError(
                {
                    "resume_on": gettext(
                        "Resume the plan on the day the employee is back, not before."
                    )
                }
            )
        if resume_on <= pause.start_on:
            raise ValidationError(
                {
                    "resume_on": gettext("The plan resumes after the pause began (%(date)s).")
                    % {"date": l10n.date(pause.start_on, long=True)}
                }
            )
        days = (resume_on - pause.start_on).days
        pause.end_on = resume_on
        pause.resumed_by = actor
        pause.save(update_fields=["end_on", "resumed_by"])
        pip.paused_since = None
        pip.paused_days += days
        pip.save(update_fields=["paused_since", "paused_days", "updated_at"])
        schedule_write(pip=pip)
        write_audit(
            pip=pip,
            actor=actor,
            action=AuditAction.RESUMED,
            meta=meta,
            version=pip.current_version,
            comment=f"Paused {days} day{'s' if days != 1 else ''}; the dates ahead move by "
            "as much.",
            changes={"days": days, "resume_on": resume_on.isoformat()},
        )
    return pause


# --- Transfer and leaving -------------------------------------------------------------------------


def pip_reassign(
    *, actor, pip: Pip, supervisor, reason: str, meta: RequestMeta | None = None
) -> Pip:
    """HR (or the roster import, with no actor) hands the plan to another supervisor: they
    become the agent's supervisor and the plan's holder, with its access, reminders and the
    manager's signature on its next versions. The previous holder loses access."""
    errors = {}
    if not reason.strip():
        errors["reason"] = gettext("Say why the plan changes hands.")
    if supervisor is None or not supervisor.is_active or not roles.is_supervisor(supervisor):
        errors["supervisor"] = gettext("Choose an active supervisor.")
    if errors:
        raise ValidationError(errors)
    limits.check({"reason": (reason.strip(), limits.MEDIUM_TEXT)})
    with transaction.atomic():
        pip = lock(pip)
        if actor is not None:
            require(rules.may_manage_roster(actor), gettext("Only HR reassigns a plan."))
        require_state(pip, OPEN_STATUSES, gettext("reassign"))
        agent = pip.agent
        if supervisor.pk == pip.supervisor_id:
            raise ValidationError(
                {"supervisor": gettext("The plan is already held by this supervisor.")}
            )
        if supervisor.pk == agent.user_id:
            raise ValidationError({"supervisor": gettext("The agent cannot hold their own plan.")})
        previous = pip.supervisor
        pip.supervisor = supervisor
        pip.save(update_fields=["supervisor", "updated_at"])
        agent.supervisor = supervisor
        agent.save(update_fields=["supervisor"])
        # Reminders not yet sent to the previous holder are dropped: the sweep records them
        # again for the new one.
        Reminder.objects.filter(pip=pip, recipient=previous, sent_at__isnull=True).delete()
        write_audit(
            pip=pip,
            actor=actor,
            action=AuditAction.REASSIGNED,
            meta=meta,
            version=pip.current_version,
            comment=reason.strip(),
            changes={
                "from": _name(previous),
                "to": _name(supervisor),
                "from_id": previous.pk,
                "to_id": supervisor.pk,
            },
        )
    return pip


def pip_end_employment(
    *, actor, pip: Pip, ended_on: dt.date, meta: RequestMeta | None = None
) -> Pip:
    """The employee left the company: the plan ends with the reason "employment ended", its
    meetings and reminders are called off, and the agent's record is marked inactive. Called by
    HR (or an administrator loading the roster), or by the roster import with no actor."""
    if ended_on > timezone.localdate() + dt.timedelta(days=366):
        raise ValidationError({"ended_on": gettext("Give the last day of employment.")})
    with transaction.atomic():
        pip = lock(pip)
        if actor is not None:
            require(
                rules.may_manage_roster(actor),
                gettext("Only HR records that the employment ended."),
            )
        require_state(pip, OPEN_STATUSES, gettext("end"))
        now = timezone.now()
        pip.schedule.filter(done_at__isnull=True, cancelled_at__isnull=True).update(
            cancelled_at=now
        )
        pip.pauses.filter(end_on__isnull=True).update(end_on=max(ended_on, timezone.localdate()))
        agent = pip.agent
        if agent.is_active:
            agent.is_active = False
            agent.save(update_fields=["is_active"])
        transition(
            pip,
            actor=actor,
            to=Status.ENDED,
            action=AuditAction.EMPLOYMENT_ENDED,
            meta=meta,
            comment=f"Employment ended on {ended_on:%d %b %Y}.",
            changes={"ended_on": ended_on.isoformat()},
            cancel_reason="Employment ended",
            closed_at=now,
            paused_since=None,
        )
    return pip


# --- Cover ----------------------------------------------------------------------------------------


def delegation_add(
    *,
    actor,
    delegate,
    start_on: dt.date,
    end_on: dt.date,
    meta: RequestMeta | None = None,
) -> Delegation:
    """A supervisor names a delegate for their plans from `start_on` to `end_on` (both days
    included): on those days the delegate sees them and may record check-ins and reviews,
    recorded as the delegate's, on behalf of the supervisor."""
    require(roles.is_supervisor(actor), gettext("Only a supervisor names a delegate."))
    errors = {}
    if delegate is None or not delegate.is_active or not roles.is_supervisor(delegate):
        errors["delegate"] = gettext("Choose another active supervisor.")
    elif delegate.pk == actor.pk:
        errors["delegate"] = gettext("Choose someone other than yourself.")
    if end_on < start_on:
        errors["end_on"] = gettext("The cover must end on or after the day it starts.")
    elif (end_on - start_on).days >= MAX_DELEGATION_DAYS:
        errors["end_on"] = gettext("Name a delegate for at most %(days)s days at a time.") % {
            "days": MAX_DELEGATION_DAYS
        }
    if start_on < timezone.localdate():
        errors["start_on"] = gettext("The cover starts today or later.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        delegation = Delegation.objects.create(
            supervisor=actor, delegate=delegate, start_on=start_on, end_on=end_on
        )
        write_audit(
            pip=None,
            actor=actor,
            action=AuditAction.DELEGATED,
            meta=meta,
            comment=f"{_name(delegate)} covers from {start_on:%d %b %Y} to {end_on:%d %b %Y}.",
            changes={
                "delegate": _name(delegate),
                "delegate_id": delegate.pk,
                "start_on": start_on.isoformat(),
                "end_on": end_on.isoformat(),
            },
        )
    return delegation


def delegation_end(*, actor, delegation: Delegation, meta: RequestMeta | None = None) -> Delegation:
    """End a cover now (the supervisor who gave it, or the delegate)."""
    with transaction.atomic():
        delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
        require(
            actor.pk in (delegation.supervisor_id, delegation.delegate_id),
            gettext("Only the supervisor or the delegate ends a cover."),
        )
        if delegation.revoked_at is not None:
            return delegation
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at"])
        write_audit(
            pip=None,
            actor=actor,
            action=AuditAction.DELEGATION_ENDED,
            meta=meta,
            changes={"delegation": delegation.pk},
        )
    return delegation
