"""The predicates of the plan domain, in one place: who may edit, sign, record and decide, and
in which states. Services refuse a step with them (a role that does not fit is a 403, a state
that does not fit a clear error); actions, views and templates show or hide a step with the same
ones, so a page never offers a step the service would refuse.

Two kinds: the state sets (`SIGNABLE`, `REVIEW_OPENABLE`…), which the services check apart from
the role to say plainly why a step is refused, and the `can_*` predicates (role and state
together), which pages ask."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Collection

from django.utils import timezone
from django.utils.translation import gettext as _

from pips import roles
from pips.models import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    Agent,
    Delegation,
    Pip,
    PipVersion,
    Review,
    Signature,
    SignerRole,
    Status,
)

# --- states ------------------------------------------------------------------------------------

EDITABLE = frozenset({Status.DRAFT})
HR_DECIDES = frozenset({Status.PENDING_HR})
ISSUABLE = frozenset({Status.APPROVED})
# The version in force can be signed from issue on, and again after each amendment.
SIGNABLE = frozenset({Status.ISSUED} | RUNNING_STATUSES)
# Check-ins are recorded, and amendments written, while the plan runs.
RECORDABLE = frozenset(RUNNING_STATUSES)
AMENDABLE = frozenset(RUNNING_STATUSES)
# The midpoint review opens on an active plan; the final one also after the midpoint or an
# extension.
MIDPOINT_OPENABLE = frozenset({Status.ACTIVE})
FINAL_OPENABLE = frozenset({Status.ACTIVE, Status.MIDPOINT, Status.EXTENDED})
REVIEW_OPENABLE = MIDPOINT_OPENABLE | FINAL_OPENABLE
# An open review is recorded while the plan is in the state its opening left it in.
REVIEW_RECORDABLE = {Review.Kind.MIDPOINT: Status.ACTIVE, Review.Kind.FINAL: Status.FINAL}
OUTCOME_DECIDABLE = frozenset({Status.FINAL})
CANCELLABLE = frozenset(OPEN_STATUSES)
REASSIGNABLE = frozenset(OPEN_STATUSES)
# A plan is paused for leave while it runs after its acknowledgment.
PAUSABLE = frozenset({Status.ACTIVE, Status.MIDPOINT, Status.EXTENDED})

# The order of signatures on a version: the manager (at issue, or on an amended version), then
# the employee (or a witnessed refusal), then HR.
SIGNS_AFTER: dict[str, str | None] = {
    SignerRole.MANAGER: None,
    SignerRole.AGENT: SignerRole.MANAGER,
    SignerRole.HR: SignerRole.AGENT,
}


# --- who ---------------------------------------------------------------------------------------


def is_plan_supervisor(user, pip: Pip) -> bool:
    """The plan's supervisor, or the agent's current supervisor."""
    return roles.is_supervisor(user) and user.pk in (pip.supervisor_id, pip.agent.supervisor_id)


def is_agent_supervisor(user, agent: Agent) -> bool:
    """The agent's supervisor: who may draft a plan for them."""
    return roles.is_supervisor(user) and agent.supervisor_id == user.pk


def is_plan_employee(user, pip: Pip) -> bool:
    """The agent the plan is for."""
    return user.is_authenticated and pip.agent.user_id == user.pk


def is_hr(user) -> bool:
    return roles.is_hr(user)


def manages_plan(user, pip: Pip) -> bool:
    """The plan's supervisor or HR: who see drafts of amendments and work on them, preview
    a plan and open a review by hand."""
    return is_plan_supervisor(user, pip) or is_hr(user)


def is_delegate(user, pip: Pip, day: dt.date | None = None) -> bool:
    """A supervisor the plan's holder named to cover their plans on `day` (today)."""
    if not user.is_authenticated or not roles.is_supervisor(user):
        return False
    return (
        Delegation.objects.active_on(day or timezone.localdate())
        .filter(supervisor_id=pip.supervisor_id, delegate=user)
        .exists()
    )


def may_record_meetings(user, pip: Pip) -> bool:
    """Check-ins and reviews: the plan's supervisor, or their delegate on a day of cover."""
    return is_plan_supervisor(user, pip) or is_delegate(user, pip)


def sees_whole_plan(user, pip: Pip) -> bool:
    """The supervisor, their delegate and HR read a plan whole, drafts included; its employee
    reads what was issued to them and the history meant for them (pips.audit.AUDIENCE)."""
    return bool(roles.roles_of(user) & {roles.HR, roles.ADMIN}) or may_record_meetings(user, pip)


def may_pause(user, pip: Pip) -> bool:
    """HR, or the plan's supervisor, pauses a plan for leave and resumes it."""
    return roles.is_hr(user) or is_plan_supervisor(user, pip)


def hr_conflict(
    user,
    pip: Pip,
    version: PipVersion | None = None,
    *,
    signed_as_manager: bool | None = None,
    recorded_review: bool | None = None,
) -> str:
    """Why this HR user may not act as HR on the plan (empty when they may): separation of
    duties. Nobody approves, countersigns or decides on their own work: the plan they hold,
    the version they wrote, the version they signed as manager, a review they recorded. A list
    page passes what it has loaded already (`signed_as_manager`, `recorded_review`)."""
    if user.pk in (pip.supervisor_id, pip.agent.supervisor_id):
        return _("You hold this plan as its supervisor; another HR representative acts as HR.")
    version = version or pip.current_version
    if version is not None:
        if version.created_by_id == user.pk:
            return _("You wrote this version of the plan; another HR representative acts as HR.")
        if signed_as_manager is None:
            signed_as_manager = Signature.objects.filter(
                version=version, role=SignerRole.MANAGER, signer=user
            ).exists()
        if signed_as_manager:
            return _("You signed this plan as manager; another HR representative acts as HR.")
    if recorded_review is None:
        recorded_review = pip.reviews.filter(completed_by=user).exists()
    if recorded_review:
        return _("You recorded a review of this plan; another HR representative acts as HR.")
    return ""


def may_act_as_hr(user, pip: Pip, version: PipVersion | None = None) -> bool:
    """HR, and none of the plan's (or the version's) own work is theirs."""
    return roles.is_hr(user) and not hr_conflict(user, pip, version)


def full_name_matches(typed: str, user) -> bool:
    """A typed signature name is exactly the account's full name, letter case included, as the
    sign pages say; only spacing and Unicode forms, which paper does not show, are aside."""

    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).split())

    expected = norm(user.get_full_name())
    return bool(expected) and norm(typed) == expected


def typed_name_message(user) -> str:
    """What a sign page says when the typed name is not the account's: the name it holds."""
    return _("Type your full name exactly as your account holds it: “%(name)s”.") % {
        "name": user.get_full_name()
    }


# --- who, in which state -----------------------------------------------------------------------


def can_edit(user, pip: Pip) -> bool:
    """Edit, preview and submit a draft."""
    return is_plan_supervisor(user, pip) and pip.status in EDITABLE


def can_hr_decide(user, pip: Pip) -> bool:
    """Approve or return a plan waiting for HR (not one's own: separation of duties)."""
    return pip.status in HR_DECIDES and may_act_as_hr(user, pip)


def can_issue(user, pip: Pip) -> bool:
    return is_plan_supervisor(user, pip) and pip.status in ISSUABLE


def may_sign_as(user, pip: Pip, role: str, version: PipVersion | None = None) -> bool:
    """Whether the user holds the role a signature is given in, on this plan (HR countersigns
    only what is not their own work)."""
    if role == SignerRole.AGENT:
        return is_plan_employee(user, pip)
    if role == SignerRole.MANAGER:
        return is_plan_supervisor(user, pip)
    if role == SignerRole.HR:
        return may_act_as_hr(user, pip, version)
    return False


def signature_due(role: str, signed: Collection[str]) -> bool:
    """The role has not signed yet and the one before it has."""
    before = SIGNS_AFTER.get(role)
    return role not in signed and (before is None or before in signed)


def can_sign(user, pip: Pip, role: str, signed: Collection[str]) -> bool:
    """Sign the version in force as `role`, given the roles that have signed it."""
    return pip.status in SIGNABLE and signature_due(role, signed) and may_sign_as(user, pip, role)


def can_record_refusal(user, pip: Pip, signed: Collection[str]) -> bool:
    """Record the employee's refusal to sign, with a witness, once the manager has signed."""
    return (
        is_plan_supervisor(user, pip)
        and pip.status in SIGNABLE
        and signature_due(SignerRole.AGENT, signed)
    )


def can_see_reviews(user, pip: Pip) -> bool:
    """The plan's check-ins and reviews pages, to work on: its supervisor or their delegate."""
    return pip.status in RECORDABLE and may_record_meetings(user, pip)


def can_record_checkin(user, pip: Pip) -> bool:
    """A check-in: while the plan runs and is not paused for leave."""
    return pip.paused_since is None and can_see_reviews(user, pip)


def can_amend(user, pip: Pip) -> bool:
    """Start an amendment (one at a time: the caller checks none is in progress)."""
    return is_plan_supervisor(user, pip) and pip.status in AMENDABLE


def can_open_review(user, pip: Pip) -> bool:
    """The plan's supervisor, their delegate on a day of cover, or HR."""
    return pip.status in REVIEW_OPENABLE and (is_hr(user) or may_record_meetings(user, pip))


def review_recordable(pip: Pip, review: Review) -> bool:
    """The review is open and the plan in the state in which it is recorded."""
    return review.state == Review.State.OPEN and pip.status == REVIEW_RECORDABLE.get(review.kind)


def can_record_review(user, pip: Pip, review: Review) -> bool:
    return review_recordable(pip, review) and may_record_meetings(user, pip)


def can_decide_outcome(user, pip: Pip) -> bool:
    """HR decides the outcome a final review referred to them (not on their own plan)."""
    return pip.status in OUTCOME_DECIDABLE and may_act_as_hr(user, pip)


def can_pause(user, pip: Pip) -> bool:
    return pip.paused_since is None and pip.status in PAUSABLE and may_pause(user, pip)


def can_resume(user, pip: Pip) -> bool:
    return pip.paused_since is not None and pip.status in OPEN_STATUSES and may_pause(user, pip)


def can_reassign(user, pip: Pip) -> bool:
    return is_hr(user) and pip.status in REASSIGNABLE


def can_cancel(user, pip: Pip) -> bool:
    return is_hr(user) and pip.status in CANCELLABLE


# --- the roster: people moving and leaving, and invitations ---------------------------------


def may_manage_roster(user) -> bool:
    """HR and administrators load the roster, and move or end plans when people move or leave."""
    return bool(user and user.is_authenticated and (roles.is_hr(user) or user.is_superuser))


def may_invite(user, agent) -> bool:
    """HR and administrators invite anyone; a supervisor invites the people they lead."""
    return may_manage_roster(user) or (roles.is_supervisor(user) and agent.supervisor_id == user.pk)


# --- What needs someone now (the homes' "needs you now") ---------------------------------------

#: A check-in or review is "due" from the day before it, so it is on the list the day it is
#: prepared, and "overdue" from the day after it.
DUE_AHEAD = dt.timedelta(days=1)
#: An employee's disagreement stays on the supervisor's and HR's list this long after signing.
DISAGREEMENT_FRESH = dt.timedelta(days=14)


def is_step_due(due_on: dt.date | None, today: dt.date) -> bool:
    return due_on is not None and due_on <= today + DUE_AHEAD


def is_step_overdue(due_on: dt.date | None, today: dt.date) -> bool:
    return due_on is not None and due_on < today
