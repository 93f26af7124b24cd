"""What a viewer may do next on a plan: the buttons the plan page shows, in their order. Whether
each is offered is the same predicate of `pips.rules` its service checks, so templates stay
simple and never offer a step that would be refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from pips import rules
from pips.models import Pip, PipVersion, Signature, SignerRole, VersionState


@dataclass(frozen=True)
class Action:
    label: str | Promise
    url: str
    style: str = "primary"


@dataclass(frozen=True)
class _Viewer:
    """What the buttons depend on, worked out once per page."""

    user: object
    pip: Pip
    signed: frozenset[str]
    amendment: PipVersion | None  # an amendment in progress, if any

    @property
    def hr_decides_amendment(self) -> bool:
        # Separation of duties: not on an amendment of one's own plan or one they wrote.
        return (
            self.amendment is not None
            and self.amendment.state == VersionState.PENDING_HR
            and rules.may_act_as_hr(self.user, self.pip, self.amendment)
        )


def _signed_roles(pip: Pip) -> frozenset[str]:
    """Who has signed (or, for the employee, refused) the version in force: one query."""
    return frozenset(
        Signature.objects.filter(version_id=pip.current_version_id).values_list("role", flat=True)
    )


def _amendment_in_progress(pip: Pip) -> PipVersion | None:
    """An amendment being written or waiting for HR (versions are prefetched on the plan
    page)."""
    latest = max(pip.versions.all(), key=lambda v: v.number, default=None)
    in_progress = (VersionState.DRAFT, VersionState.PENDING_HR)
    if latest is not None and latest.number > 1 and latest.state in in_progress:
        return latest
    return None


def _viewer(user, pip: Pip) -> _Viewer:
    # The signatures and the amendment are read only when they can change what is offered.
    concerned = (
        rules.may_record_meetings(user, pip)
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
BUTTONS: tuple[tuple[Offer, str | Promise, str, str], ...] = (
    (lambda v: rules.can_edit(v.user, v.pip), _("Edit draft"), "pips:edit", "primary"),
    (
        lambda v: rules.can_edit(v.user, v.pip),
        _("Preview as the agent sees it"),
        "pips:preview",
        "outline-secondary",
    ),
    (lambda v: rules.can_edit(v.user, v.pip), _("Submit to HR"), "pips:submit", "success"),
    (
        lambda v: rules.can_hr_decide(v.user, v.pip),
        _("Review for approval"),
        "pips:hr_review",
        "success",
    ),
    (lambda v: rules.can_issue(v.user, v.pip), _("Issue the plan"), "pips:issue", "success"),
    (
        lambda v: rules.can_sign(v.user, v.pip, SignerRole.MANAGER, v.signed),
        _("Sign as manager"),
        "pips:sign",
        "success",
    ),
    (
        lambda v: rules.can_sign(v.user, v.pip, SignerRole.AGENT, v.signed),
        _("Sign acknowledgment"),
        "pips:sign",
        "success",
    ),
    (
        lambda v: rules.can_sign(v.user, v.pip, SignerRole.HR, v.signed),
        _("Countersign as HR"),
        "pips:sign",
        "success",
    ),
    (
        lambda v: rules.can_record_refusal(v.user, v.pip, v.signed),
        _("Record a refusal to sign"),
        "pips:refusal",
        "outline-secondary",
    ),
    (
        lambda v: rules.can_record_checkin(v.user, v.pip),
        _("Record a check-in"),
        "pips:checkin_new",
        "primary",
    ),
    (lambda v: rules.can_see_reviews(v.user, v.pip), _("Reviews"), "pips:reviews", "primary"),
    (
        lambda v: rules.can_pause(v.user, v.pip),
        _("Pause for leave"),
        "pips:pause",
        "outline-secondary",
    ),
    (lambda v: rules.can_resume(v.user, v.pip), _("Resume after leave"), "pips:pause", "success"),
    (
        lambda v: rules.can_amend(v.user, v.pip) and v.amendment is None,
        _("Amend the plan"),
        "pips:amend",
        "outline-primary",
    ),
    (
        lambda v: v.hr_decides_amendment,
        _("Review the amendment"),
        "pips:amendment",
        "success",
    ),
    (
        lambda v: v.amendment is not None and not v.hr_decides_amendment,
        _("Amendment in progress"),
        "pips:amendment",
        "outline-primary",
    ),
    (
        lambda v: rules.can_decide_outcome(v.user, v.pip),
        _("Decide the outcome"),
        "pips:hr_decide",
        "danger",
    ),
    (
        lambda v: rules.can_reassign(v.user, v.pip),
        _("Reassign"),
        "pips:reassign",
        "outline-secondary",
    ),
    (
        lambda v: rules.can_cancel(v.user, v.pip),
        _("Cancel the plan"),
        "pips:cancel",
        "outline-danger",
    ),
    (lambda v: True, _("Print PDF"), "pips:pdf", "outline-secondary"),
    (lambda v: rules.is_hr(v.user), _("Audit trail"), "pips:audit", "outline-secondary"),
)


def available_actions(user, pip: Pip) -> list[Action]:
    viewer = _viewer(user, pip)
    return [
        Action(label=label, url=reverse(name, args=[pip.pk]), style=style)
        for offered, label, name, style in BUTTONS
        if offered(viewer)
    ]
