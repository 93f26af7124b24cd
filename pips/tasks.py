"""Celery tasks: thin and idempotent. Each takes ids (or nothing), loads the record and calls the
domain; running one twice, or after a worker died mid-way, does no harm.

Tasks are queued only after the transaction that calls for them commits, through `enqueue`,
which never lets a broker outage fail the request: the work is found again from the database by
the next sweep (due reminders and reviews, audit events not yet delivered). The task that
delivers an audit event's notifications is `pips.notifications.tasks.notify_event`.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.core.exceptions import PermissionDenied

from pips import reminders, services
from pips.models import ScheduleItem
from pips.notifications.tasks import notify_event
from pipsystem.celery import LIGHT, enqueue

logger = logging.getLogger(__name__)

__all__ = ["enqueue", "notify_event", "open_review", "send_reminders", "sweep_due"]


@shared_task(**LIGHT)
def sweep_due() -> dict:
    """The beat job: find and claim what is due, then queue the sending (in chunks), the
    reviews to open and the audit events whose notifications never went out."""
    report = reminders.sweep()
    claimed_at = report.claimed_at.isoformat()
    for chunk in report.chunks():
        enqueue(send_reminders, chunk, claimed_at)
    for item_id in report.reviews_to_open:
        enqueue(open_review, item_id)
    for event_id in report.events_to_deliver:
        enqueue(notify_event, event_id)
    return report.as_dict()


@shared_task(**LIGHT)
def send_reminders(reminder_ids: list[int], claimed_at: str) -> dict:
    """Send reminders a sweep claimed at `claimed_at` (ISO 8601), unless claimed again since."""
    return reminders.send_claimed(reminder_ids, dt.datetime.fromisoformat(claimed_at)).as_dict()


@shared_task(**LIGHT)
def open_review(schedule_item_id: int) -> bool:
    """Open the midpoint or final review a schedule item calls for. Safe to run again
    (review_open finds it open); a plan whose state no longer allows it is left alone. Returns
    whether it opened."""
    item = (
        ScheduleItem.objects.select_related("pip")
        .filter(pk=schedule_item_id, kind__in=reminders.REVIEW_KINDS, cancelled_at__isnull=True)
        .first()
    )
    if item is None:
        return False
    try:
        _, created = services.review_open(pip=item.pip, kind=item.kind)
    except (services.TransitionError, PermissionDenied) as error:
        logger.info("Review for schedule item %s not opened: %s", schedule_item_id, error)
        return False
    return created
