"""The task that delivers what an audit event calls for, queued by the services after the step
commits (and by the sweep for an event whose task was never queued)."""

from __future__ import annotations

from celery import shared_task

from pips.notifications.handlers import deliver
from pipsystem.celery import LIGHT


# The name is the one messages already queued carry.
@shared_task(name="pips.tasks.notify_event", **LIGHT)
def notify_event(event_id: int) -> None:
    """Send what an audit event calls for (e-mails, in-app notifications), once."""
    deliver(event_id)
