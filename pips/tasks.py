"""Celery tasks: thin and idempotent. Each takes ids, loads the record and calls the domain."""

from __future__ import annotations

from celery import shared_task

from pips import notifications


@shared_task(acks_late=True, max_retries=3, default_retry_delay=60)
def notify_event(event_id: int) -> None:
    """Send what an audit event calls for (e-mails, in-app notifications), once."""
    notifications.deliver(event_id)
