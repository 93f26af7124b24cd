"""What a viewer may do next on a plan: the buttons the plan page shows. Each is decided here,
from the viewer's relation to the plan and its state, so templates stay simple. A step whose
page is not installed (its URL name does not resolve) is left out."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from pips import roles
from pips.models import RUNNING_STATUSES, Pip, Status


@dataclass(frozen=True)
class Action:
    label: str
    url: str
    style: str = "primary"


def _url(name: str, pk: int) -> str | None:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


def available_actions(user, pip: Pip) -> list[Action]:
    user_roles = roles.roles_of(user)
    owner = roles.SUPERVISOR in user_roles and user.pk in (
        pip.supervisor_id,
        pip.agent.supervisor_id,
    )
    hr = roles.HR in user_roles
    employee = pip.agent.user_id == user.pk
    status = pip.status
    running = status in RUNNING_STATUSES
    rules = [
        (owner and status == Status.DRAFT, "Edit draft", "pips:edit", "primary"),
        (
            owner and status == Status.DRAFT,
            "Preview as the agent sees it",
            "pips:preview",
            "outline-secondary",
        ),
        (owner and status == Status.DRAFT, "Submit to HR", "pips:submit", "success"),
        (hr and status == Status.PENDING_HR, "Review for approval", "pips:hr_review", "success"),
        (owner and status == Status.APPROVED, "Issue the plan", "pips:issue", "success"),
        (
            employee and status in {Status.ISSUED} | RUNNING_STATUSES,
            "Sign acknowledgment",
            "pips:sign",
            "success",
        ),
        (
            hr and status in {Status.ISSUED} | RUNNING_STATUSES,
            "Countersign as HR",
            "pips:sign",
            "success",
        ),
        (
            owner and status in {Status.ISSUED} | RUNNING_STATUSES,
            "Record a refusal to sign",
            "pips:refusal",
            "outline-secondary",
        ),
        (owner and running, "Record a check-in", "pips:checkin_new", "primary"),
        (owner and running, "Reviews", "pips:reviews", "primary"),
        (owner and running, "Amend the plan", "pips:amend", "outline-primary"),
        (hr and status == Status.FINAL, "Decide the outcome", "pips:hr_decide", "danger"),
        (hr and pip.is_open(), "Cancel the plan", "pips:cancel", "outline-danger"),
        (True, "Print PDF", "pips:pdf", "outline-secondary"),
        (hr, "Audit trail", "pips:audit", "outline-secondary"),
    ]
    actions = []
    for allowed, label, name, style in rules:
        url = _url(name, pip.pk) if allowed else None
        if url:
            actions.append(Action(label=label, url=url, style=style))
    return actions
