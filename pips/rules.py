"""The predicates of the plan domain, in one place: who may edit, sign, record and decide, and
in which states. Services refuse a step with them; actions, views and templates show or hide a
step with the same ones, so a button is never offered that the service would refuse."""

from __future__ import annotations

import unicodedata

from pips import roles
from pips.models import Pip


def is_plan_supervisor(user, pip: Pip) -> bool:
    """The plan's supervisor, or the agent's current supervisor."""
    return roles.is_supervisor(user) and user.pk in (pip.supervisor_id, pip.agent.supervisor_id)


def full_name_matches(typed: str, user) -> bool:
    """A typed signature name matches the account's full name (case, spacing and Unicode
    forms aside)."""

    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())

    expected = norm(user.get_full_name())
    return bool(expected) and norm(typed) == expected


def may_manage_roster(user) -> bool:
    """HR and administrators load the roster, and move or end plans when people move or leave."""
    return bool(user and user.is_authenticated and (roles.is_hr(user) or user.is_superuser))


def may_invite(user, agent) -> bool:
    """HR and administrators invite anyone; a supervisor invites the people they lead."""
    return may_manage_roster(user) or (roles.is_supervisor(user) and agent.supervisor_id == user.pk)
