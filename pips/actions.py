"""What a viewer may do next on a plan: the buttons the plan page shows. Each is decided here,
from the viewer's relation to the plan and its state, so templates stay simple. A step whose
page is not installed (its URL name does not resolve) is left out."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from pips import roles
from pips import rules as domain_rules
from pips.models import RUNNING_STATUSES, Pip, Signature, SignerRole, Status, VersionState


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


def _signed_roles(pip: Pip) -> set[str]:
    """Who has signed (or, for the employee, refused) the version in force: one query."""
    return set(
        Signature.objects.filter(version_id=pip.current_version_id).values_list("role", flat=True)
    )


def _amendment_in_progress(pip: Pip):
    """The amendment being written or waiting for HR, if any (versions are prefetched on the
    plan page)."""
    latest = max(pip.versions.all(), key=lambda v: v.number, default=None)
    in_progress = (VersionState.DRAFT, VersionState.PENDING_HR)
    if latest is not None and latest.number > 1 and latest.state in in_progress:
        return latest
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
    signable = status in {Status.ISSUED} | RUNNING_STATUSES
    signed = _signed_roles(pip) if signable and (owner or hr or employee) else set()
    amendment_version = _amendment_in_progress(pip) if running and (owner or hr) else None
    amendment = amendment_version.state if amendment_version is not None else None
    # Separation of duties: no HR step on one's own plan, version, signature or review.
    hr_acts = hr and not domain_rules.hr_conflict(user, pip)
    hr_decides = (
        hr
        and amendment == VersionState.PENDING_HR
        and not domain_rules.hr_conflict(user, pip, amendment_version)
    )
    recorder = owner or (running and domain_rules.may_record_meetings(user, pip))
    paused = pip.paused_since is not None
    steps = [
        (owner and status == Status.DRAFT, "Edit draft", "pips:edit", "primary"),
        (
            owner and status == Status.DRAFT,
            "Preview as the agent sees it",
            "pips:preview",
            "outline-secondary",
        ),
        (owner and status == Status.DRAFT, "Submit to HR", "pips:submit", "success"),
        (
            hr_acts and status == Status.PENDING_HR,
            "Review for approval",
            "pips:hr_review",
            "success",
        ),
        (owner and status == Status.APPROVED, "Issue the plan", "pips:issue", "success"),
        # The signatures, in their order: manager (at issue, or on an amended version), then
        # the employee (or a witnessed refusal), then HR.
        (
            owner and signable and SignerRole.MANAGER not in signed,
            "Sign as manager",
            "pips:sign",
            "success",
        ),
        (
            employee
            and signable
            and SignerRole.MANAGER in signed
            and SignerRole.AGENT not in signed,
            "Sign acknowledgment",
            "pips:sign",
            "success",
        ),
        (
            hr_acts and signable and SignerRole.AGENT in signed and SignerRole.HR not in signed,
            "Countersign as HR",
            "pips:sign",
            "success",
        ),
        (
            owner and signable and SignerRole.MANAGER in signed and SignerRole.AGENT not in signed,
            "Record a refusal to sign",
            "pips:refusal",
            "outline-secondary",
        ),
        (recorder and running and not paused, "Record a check-in", "pips:checkin_new", "primary"),
        (recorder and running, "Reviews", "pips:reviews", "primary"),
        (
            (owner or hr)
            and not paused
            and status in {Status.ACTIVE, Status.MIDPOINT, Status.EXTENDED},
            "Pause for leave",
            "pips:pause",
            "outline-secondary",
        ),
        ((owner or hr) and paused and pip.is_open(), "Resume after leave", "pips:pause", "success"),
        (owner and running and not amendment, "Amend the plan", "pips:amend", "outline-primary"),
        (
            amendment is not None,
            "Review the amendment" if hr_decides else "Amendment in progress",
            "pips:amendment",
            "success" if hr_decides else "outline-primary",
        ),
        (hr_acts and status == Status.FINAL, "Decide the outcome", "pips:hr_decide", "danger"),
        (hr and pip.is_open(), "Reassign", "pips:reassign", "outline-secondary"),
        (hr and pip.is_open(), "Cancel the plan", "pips:cancel", "outline-danger"),
        (True, "Print PDF", "pips:pdf", "outline-secondary"),
        (hr, "Audit trail", "pips:audit", "outline-secondary"),
    ]
    actions = []
    for allowed, label, name, style in steps:
        url = _url(name, pip.pk) if allowed else None
        if url:
            actions.append(Action(label=label, url=url, style=style))
    return actions
