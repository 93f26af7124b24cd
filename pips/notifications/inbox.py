"""The in-app notification list: each user's own notifications, and marking them read.

Notifications are written by `emails.notify` (audit-event handlers) and by the reminder sweep;
this module only reads a user's list and marks it read. A notification belongs to one
user, and no one else can see or mark it.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from pips.models import Notification


def notifications_for(user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_for_user(user, pk: int) -> Notification:
    """The access helper for notifications: 404 for one that is not the user's."""
    return get_object_or_404(Notification, pk=pk, user=user)


def notification_mark_read(*, user, notification: Notification | None = None) -> int:
    """Mark one of the user's notifications read, or all of them. Returns how many changed;
    marking again changes nothing."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification is not None:
        unread = unread.filter(pk=notification.pk)
    return unread.update(read_at=timezone.now())
