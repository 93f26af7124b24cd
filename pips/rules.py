"""The predicates of the plan domain, in one place: who may edit, sign, record and decide, and
in which states. Services refuse a step with them (a role that does not fit is a 403, a state
that does not fit a clear error); actions, views and templates show or hide a step with the same
ones, so a page never offers a step the service would refuse.

Two kinds: the state sets (`SIGNABLE`, `REVIEW_OPENABLE`…), which the services check apart from
the role to say plainly why a step is refused, and the `can_*` predicates (role and state
together), which pages ask."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from pips import roles
from pips.models import OPEN_STATUSES, RUNNING_STATUSES, Agent, Pip, Review, SignerRole, Status

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


def is_other_hr(user, pip: Pip) -> bool:
    """HR, and not the plan's supervisor: HR does not approve what they drafted themselves."""
    return roles.is_hr(user) and user.pk != pip.supervisor_id


def manages_plan(user, pip: Pip) -> bool:
    """The plan's supervisor or HR: who see drafts of amendments and work on them, preview
    a plan and open a review by hand."""
    return is_plan_supervisor(user, pip) or is_hr(user)


def sees_drafts(user, pip: Pip) -> bool:
    """Which versions a user may print: drafts (of the plan, of an amendment) are the
    supervisor's, HR's and administrators', not the employee's."""
    return bool(roles.roles_of(user) & {roles.HR, roles.ADMIN}) or is_plan_supervisor(user, pip)


def full_name_matches(typed: str, user) -> bool:
    """A typed signature name matches the account's full name (case, spacing and Unicode
    forms aside)."""

    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())

    expected = norm(user.get_full_name())
    return bool(expected) and norm(typed) == expected


# --- who, in which state -----------------------------------------------------------------------


def can_edit(user, pip: Pip) -> bool:
    """Edit, preview and submit a draft."""
    return is_plan_supervisor(user, pip) and pip.status in EDITABLE


def can_hr_decide(user, pip: Pip) -> bool:
    """Approve or return a plan waiting for HR."""
    return is_hr(user) and pip.status in HR_DECIDES


def can_issue(user, pip: Pip) -> bool:
    return is_plan_supervisor(user, pip) and pip.status in ISSUABLE


def may_sign_as(user, pip: Pip, role: str) -> bool:
    """Whether the user holds the role a signature is given in, on this plan."""
    if role == SignerRole.AGENT:
        return is_plan_employee(user, pip)
    if role == SignerRole.MANAGER:
        return is_plan_supervisor(user, pip)
    if role == SignerRole.HR:
        return is_hr(user)
    return False


def signature_due(role: str, signed: Collection[str]) -> bool:
    """The role has not signed yet and the one before it has."""
    before = SIGNS_AFTER.get(role)
    return role not in signed and (before is None or before in signed)


def can_sign(user, pip: Pip, role: str, signed: Collection[str]) -> bool:
    """Sign the version in force as `role`, given the roles that have signed it."""
    return pip.status in SIGNABLE and may_sign_as(user, pip, role) and signature_due(role, signed)


def can_record_refusal(user, pip: Pip, signed: Collection[str]) -> bool:
    """Record the employee's refusal to sign, with a witness, once the manager has signed."""
    return (
        is_plan_supervisor(user, pip)
        and pip.status in SIGNABLE
        and signature_due(SignerRole.AGENT, signed)
    )


def can_record_checkin(user, pip: Pip) -> bool:
    return is_plan_supervisor(user, pip) and pip.status in RECORDABLE


def can_amend(user, pip: Pip) -> bool:
    """Start an amendment (one at a time: the caller checks none is in progress)."""
    return is_plan_supervisor(user, pip) and pip.status in AMENDABLE


def can_open_review(user, pip: Pip) -> bool:
    return manages_plan(user, pip) and pip.status in REVIEW_OPENABLE


def review_recordable(pip: Pip, review: Review) -> bool:
    """The review is open and the plan in the state in which it is recorded."""
    return review.state == Review.State.OPEN and pip.status == REVIEW_RECORDABLE.get(review.kind)


def can_record_review(user, pip: Pip, review: Review) -> bool:
    return is_plan_supervisor(user, pip) and review_recordable(pip, review)


def can_decide_outcome(user, pip: Pip) -> bool:
    """HR decides the consequence of an unsuccessful final review."""
    return is_hr(user) and pip.status in OUTCOME_DECIDABLE


def can_cancel(user, pip: Pip) -> bool:
    return is_hr(user) and pip.status in CANCELLABLE


# --- the roster: people moving and leaving, and invitations ---------------------------------


def may_manage_roster(user) -> bool:
    """HR and administrators load the roster, and move or end plans when people move or leave."""
    return bool(user and user.is_authenticated and (roles.is_hr(user) or user.is_superuser))


def may_invite(user, agent) -> bool:
    """HR and administrators invite anyone; a supervisor invites the people they lead."""
    return may_manage_roster(user) or (roles.is_supervisor(user) and agent.supervisor_id == user.pk)
