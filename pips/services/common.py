"""What every service shares: the audit write, the row lock, the checks that refuse a step."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext

from pips import audit_chain, notifications
from pips.audit import AuditAction
from pips.inputs import NO_META, RequestMeta
from pips.models import (
    AuditEvent,
    Pip,
    PipVersion,
)
from pips.notifications.tasks import notify_event
from pipsystem.celery import enqueue


class TransitionError(ValidationError):
    """The plan is not in a state that allows this step. The message says why, plainly."""


def write_audit(
    *,
    pip: Pip | None,
    actor,
    action: AuditAction,
    meta: RequestMeta | None = None,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    changes: dict | None = None,
    version: PipVersion | None = None,
) -> AuditEvent:
    meta = meta or NO_META
    event = audit_chain.append(
        AuditEvent(
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
    )
    if notifications.wants_delivery(action):
        # Only once the step is committed: a rolled-back step tells nobody anything.
        # A broker outage is logged, not raised: the sweep delivers what was missed.
        transaction.on_commit(lambda: enqueue(notify_event, event.pk))
    return event


def lock(pip: Pip) -> Pip:
    """Reload the plan under a row lock: concurrent steps on one plan run one after another."""
    return Pip.objects.select_for_update().get(pk=pip.pk)


def require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def require_state(pip: Pip, allowed: Iterable[str], doing: str) -> None:
    if pip.status not in allowed:
        raise TransitionError(
            gettext("You cannot %(doing)s a plan that is %(status)s.")
            % {"doing": doing, "status": pip.get_status_display().lower()}
        )


def transition(
    pip: Pip,
    *,
    actor,
    to: str,
    action: str,
    meta: RequestMeta | None,
    comment: str = "",
    changes: dict | None = None,
    **fields,
) -> AuditEvent:
    before = pip.status
    pip.status = to
    for name, value in fields.items():
        setattr(pip, name, value)
    pip.save(update_fields=["status", "updated_at", *fields])
    return write_audit(
        pip=pip,
        actor=actor,
        action=action,
        meta=meta,
        from_status=before,
        to_status=to,
        comment=comment,
        changes=changes,
        version=pip.current_version,
    )
