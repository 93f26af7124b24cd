"""The in-app notification list: a user sees their own notifications and marks them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from pips.notifications import inbox

PER_PAGE = 25


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    page = Paginator(inbox.notifications_for(request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "pips/notifications/list.html", {"page": page})


@require_POST
@login_required
def read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read; with `open`, go on to the page it points to."""
    notification = inbox.notification_for_user(request.user, pk)
    inbox.notification_mark_read(user=request.user, notification=notification)
    if request.POST.get("open") and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(notification.url)
    return redirect("pips:notifications")


@require_POST
@login_required
def read_all(request: HttpRequest) -> HttpResponse:
    changed = inbox.notification_mark_read(user=request.user)
    if changed:
        messages.success(
            request,
            ngettext(
                "%(count)s notification marked as read.",
                "%(count)s notifications marked as read.",
                changed,
            )
            % {"count": changed},
        )
    else:
        messages.info(request, _("There was nothing unread."))
    return redirect("pips:notifications")
