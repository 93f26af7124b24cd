"""What a viewer may do next on a plan: the buttons the plan page shows, in their order. Whether
each is offered is the same predicate of `pips.rules` its service checks, so templates stay
simple and never offer a step that would be refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from pips import rules
from pips.models import Pip, Signature, SignerRole, VersionState


@dataclass(frozen=True)
class Action:
    label: str
    url: str
    style: str = "primary"


@dataclass(frozen=True)
class _Viewer:
    """What the buttons depend on, worked out once per page."""

    user: object
    pip: Pip
    signed: frozenset[str]
    amendment: str | None  # the state of an amendment in progress, if any

    @property
    def hr_decides_amendment(self) -> bool:
        return rules.is_hr(self.user) and self.amendment == VersionState.PENDING_HR


def _signed_roles(pip: Pip) -> frozenset[str]:
    """Who has signed (or, for the employee, refused) the version in force: one query."""
    return frozenset(
        Signature.objects.filter(version_id=pip.current_version_id).values_list("role", flat=True)
    )


def _amendment_in_progress(pip: Pip) -> str | None:
    """The state of an amendment being written or waiting for HR (versions are prefetched on
    the plan page)."""
    latest = max(pip.versions.all(), key=lambda v: v.number, default=None)
    in_progress = (VersionState.DRAFT, VersionState.PENDING_HR)
    if latest is not None and latest.number > 1 and latest.state in in_progress:
        return latest.state
    return None


def _viewer(user, pip: Pip) -> _Viewer:
    # The signatures and the amendment are read only when they can change what is offered.
    concerned = (
        rules.is_plan_supervisor(user, pip)
        or rules.is_hr(user)
        or rules.is_plan_employee(user, pip)
    )
    signed = _signed_roles(pip) if concerned and pip.status in rules.SIGNABLE else frozenset()
    managing = rules.is_plan_supervisor(user, pip) or rules.is_hr(user)
    amendment = _amendment_in_progress(pip) if managing and pip.status in rules.AMENDABLE else None
    return _Viewer(user=user, pip=pip, signed=signed, amendment=amendment)


Offer = Callable[[_Viewer], bool]

# (offered when, label, URL name, style), in the page's order. The signatures come in their
# order: manager, then the employee (or a witnessed refusal), then HR.
BUTTONS: tuple[tuple[Offer, str, str, str], ...] = (
    (lambda v: rules.can_edit(v.user, v.pip), "Edit draft", "pips:edit", "primary"),
    (
        lambda v: rules.can_edit(v.user, v.pip),
        "Preview as the agent sees it",
        "pips:preview",
        "outline-secondary",
    ),
    (lambda v: rules.can_edit(v.user, v.pip), "Submit to HR", "pips:submit", "success"),
    (
        lambda v: rules.can_hr_decide(v.user, v.pip),
        "Review for approval",
        "pips:hr_review",
        "success",
    ),
    (lambda v: rules.can_issue(v.user, v.pip), "Issue the plan", "pips:issue", "success"),
    (
        lambda v: rules.can_sign(v.user, v.pip, SignerRole.MANAGER, v.signed),
        "Sign as manager",
        "pips:sign",
        "success",
    ),
    (
        lambda v: rules.can_sign(v.user, v.pip, SignerRole.AGENT, v.signed),
        "Sign acknowledgment",
        "pips:sign",
        "success",
    ),
    (
        lambda v: rules.can_sign(v.user, v.pip, SignerRole.HR, v.signed),
        "Countersign as HR",
        "pips:sign",
        "success",
    ),
    (
        lambda v: rules.can_record_refusal(v.user, v.pip, v.signed),
        "Record a refusal to sign",
        "pips:refusal",
        "outline-secondary",
    ),
    (
        lambda v: rules.can_record_checkin(v.user, v.pip),
        "Record a check-in",
        "pips:checkin_new",
        "primary",
    ),
    (lambda v: rules.can_record_checkin(v.user, v.pip), "Reviews", "pips:reviews", "primary"),
    (
        lambda v: rules.can_amend(v.user, v.pip) and v.amendment is None,
        "Amend the plan",
        "pips:amend",
        "outline-primary",
    ),
    (
        lambda v: v.hr_decides_amendment,
        "Review the amendment",
        "pips:amendment",
        "success",
    ),
    (
        lambda v: v.amendment is not None and not v.hr_decides_amendment,
        "Amendment in progress",
        "pips:amendment",
        "outline-primary",
    ),
    (
        lambda v: rules.can_decide_outcome(v.user, v.pip),
        "Decide the outcome",
        "pips:hr_decide",
        "danger",
    ),
    (lambda v: rules.can_cancel(v.user, v.pip), "Cancel the plan", "pips:cancel", "outline-danger"),
    (lambda v: True, "Print PDF", "pips:pdf", "outline-secondary"),
    (lambda v: rules.is_hr(v.user), "Audit trail", "pips:audit", "outline-secondary"),
)


def available_actions(user, pip: Pip) -> list[Action]:
    viewer = _viewer(user, pip)
    return [
        Action(label=label, url=reverse(name, args=[pip.pk]), style=style)
        for offered, label, name, style in BUTTONS
        if offered(viewer)
    ]
