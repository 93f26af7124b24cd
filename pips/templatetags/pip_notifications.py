"""The unread-notification count for the navbar badge: one COUNT query per page."""

from __future__ import annotations

from django import template

from pips.notifications import inbox

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return 0
    return inbox.unread_count(user)
