"""Celery tasks: thin and idempotent. Each takes ids (or nothing), loads the record and calls the
domain; running one twice, or after a worker died mid-way, does no harm.

Tasks are queued only after the transaction that calls for them commits, through `enqueue`,
which never lets a broker outage fail the request: the work is found again from the database by
the next sweep (due reminders and reviews, audit events not yet delivered).
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task

from pips import notifications, reminders

logger = logging.getLogger(__name__)

# Light tasks: short, safe to run again, so a message whose worker died is put back at once.
LIGHT = {"acks_late": True, "reject_on_worker_lost": True}


def enqueue(task, *args) -> bool:
    """Queue a task; if the broker cannot be reached, log it and carry on."""
    try:
        task.delay(*args)
    except Exception:
        # Nothing is lost: the sweep finds due work from the database, not from the queue.
        logger.exception("Could not queue %s%r; the next sweep will pick it up", task.name, args)
        return False
    return True


@shared_task(**LIGHT)
def notify_event(event_id: int) -> None:
    """Send what an audit event calls for (e-mails, in-app notifications), once."""
    notifications.deliver(event_id)


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
    """Open the midpoint or final review a schedule item calls for (idempotent)."""
    return reminders.open_due_review(schedule_item_id)
