"""When people move or leave: HR moves a plan to another supervisor, on the record; a plan
whose employee left ends "employment ended". The roster import calls both for transfers and
departures (`pips.services.roster`)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pips import roles, rules
from pips.audit import AuditAction
from pips.inputs import RequestMeta
from pips.models import OPEN_STATUSES, Pip, Status
from pips.services.common import lock, require, require_state, transition, write_audit

EMPLOYMENT_ENDED = "Employment ended"


def pip_reassign(
    *, actor, pip: Pip, supervisor, reason: str, meta: RequestMeta | None = None
) -> Pip:
    """Move an open plan to another supervisor (a transfer, or the supervisor left). The old
    supervisor loses access unless they still lead the agent; the content already issued
    keeps the name it was issued with."""
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for moving the plan."})
    with transaction.atomic():
        pip = lock(pip)
        require(rules.may_manage_roster(actor), "Only HR can move a plan to another supervisor.")
        require_state(pip, OPEN_STATUSES, "move")
        User = get_user_model()
        supervisor = User.objects.get(pk=supervisor.pk)
        if not (supervisor.is_active and roles.is_supervisor(supervisor)):
            raise ValidationError(
                {
                    "supervisor": f"{supervisor.get_full_name() or supervisor} is not an active "
                    "supervisor."
                }
            )
        if supervisor.pk == pip.supervisor_id:
            raise ValidationError({"supervisor": "The plan is with this supervisor already."})
        before = pip.supervisor
        pip.supervisor = supervisor
        pip.save(update_fields=["supervisor", "updated_at"])
        write_audit(
            pip=pip,
            actor=actor,
            action=AuditAction.REASSIGNED,
            meta=meta,
            comment=reason.strip(),
            changes={
                "supervisor": [
                    before.get_full_name() or before.username,
                    supervisor.get_full_name() or supervisor.username,
                ],
                "supervisor_id": [before.pk, supervisor.pk],
            },
            version=pip.current_version,
        )
    return pip


def pip_end_employment(
    *, actor, pip: Pip, reason: str = "", meta: RequestMeta | None = None
) -> Pip:
    """The employee left: the open plan ends, "employment ended", its schedule is cancelled,
    and nothing further is asked of anyone."""
    with transaction.atomic():
        pip = lock(pip)
        require(rules.may_manage_roster(actor), "Only HR can end a plan when employment ends.")
        require_state(pip, OPEN_STATUSES, "end")
        now = timezone.now()
        pip.schedule.filter(done_at__isnull=True, cancelled_at__isnull=True).update(
            cancelled_at=now
        )
        text = f"{EMPLOYMENT_ENDED}: {reason.strip()}" if reason.strip() else EMPLOYMENT_ENDED
        transition(
            pip,
            actor=actor,
            to=Status.CANCELLED,
            action=AuditAction.EMPLOYMENT_ENDED,
            meta=meta,
            comment=text,
            cancel_reason=text,
            closed_at=now,
        )
    return pip
