"""The predicates of the plan domain, in one place: who may edit, sign, record and decide, and
in which states. Services refuse a step with them; actions, views and templates show or hide a
step with the same ones, so a button is never offered that the service would refuse."""

from __future__ import annotations

import datetime as dt
import unicodedata

from django.utils import timezone

from pips import roles
from pips.models import Pip, PipVersion, Signature, SignerRole


def is_plan_supervisor(user, pip: Pip) -> bool:
    """The plan's supervisor, or the agent's current supervisor."""
    return roles.is_supervisor(user) and user.pk in (pip.supervisor_id, pip.agent.supervisor_id)


def full_name_matches(typed: str, user) -> bool:
    """A typed signature name is exactly the account's full name, letter case included, as the
    sign pages say; only spacing and Unicode forms, which paper does not show, are aside."""

    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).split())

    expected = norm(user.get_full_name())
    return bool(expected) and norm(typed) == expected


def is_delegate(user, pip: Pip, day: dt.date | None = None) -> bool:
    """A supervisor the plan's holder named to cover their plans on `day` (today)."""
    from pips.models import Delegation

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
    """The supervisor, their delegate and HR read a plan whole; its employee reads what was
    issued to them and the history meant for them (pips.audit.AUDIENCE)."""
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
        return "You hold this plan as its supervisor; another HR representative acts as HR."
    version = version or pip.current_version
    if version is not None:
        if version.created_by_id == user.pk:
            return "You wrote this version of the plan; another HR representative acts as HR."
        if signed_as_manager is None:
            signed_as_manager = Signature.objects.filter(
                version=version, role=SignerRole.MANAGER, signer=user
            ).exists()
        if signed_as_manager:
            return "You signed this plan as manager; another HR representative acts as HR."
    if recorded_review is None:
        recorded_review = pip.reviews.filter(completed_by=user).exists()
    if recorded_review:
        return "You recorded a review of this plan; another HR representative acts as HR."
    return ""


def may_act_as_hr(user, pip: Pip, version: PipVersion | None = None) -> bool:
    return roles.is_hr(user) and not hr_conflict(user, pip, version)


def typed_name_message(user) -> str:
    """What a sign page says when the typed name is not the account's: the name it holds."""
    return f"Type your full name exactly as your account holds it: “{user.get_full_name()}”."


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
