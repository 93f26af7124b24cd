from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pips import roles, selectors
from pips.models import Status


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user_roles = roles.roles_of(request.user)
    plans = list(selectors.home_plans(request.user))
    context = {
        "plans": plans,
        "is_hr": roles.HR in user_roles or roles.ADMIN in user_roles,
        "is_supervisor": roles.SUPERVISOR in user_roles,
        "is_agent": roles.AGENT in user_roles,
        "queue": [p for p in plans if p.status == Status.PENDING_HR],
        "to_sign": [
            p for p in plans if p.status == Status.ISSUED and p.agent.user_id == request.user.pk
        ],
    }
    return render(request, "pips/home.html", context)
