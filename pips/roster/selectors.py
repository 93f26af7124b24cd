"""The reads the roster pages need, each in a constant number of queries."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from pips.models import Agent
from pips.roster.models import RosterImport
from pipsystem.identity.models import Invitation


def not_joined_q() -> Q:
    """Employees who cannot sign in yet: no account, or one never used and without a password
    (an unusable password starts with "!")."""
    return Q(user__isnull=True) | Q(user__last_login__isnull=True, user__password__startswith="!")


def not_joined(team_id: int | None = None) -> QuerySet[Agent]:
    """Active employees who have not joined, with their latest invitation's dates."""
    latest = Invitation.objects.filter(user_id=OuterRef("user_id")).order_by("-created_at", "-id")
    agents = (
        Agent.objects.filter(is_active=True)
        .filter(not_joined_q())
        .select_related("team", "user")
        .annotate(
            invited_at=Subquery(latest.values("created_at")[:1]),
            invitation_sent_at=Subquery(latest.values("sent_at")[:1]),
            invitation_expires_at=Subquery(latest.values("expires_at")[:1]),
            invitation_live=Exists(Invitation.objects.usable().filter(user_id=OuterRef("user_id"))),
        )
        .order_by("team__name", "full_name", "pk")
    )
    if team_id:
        agents = agents.filter(team_id=team_id)
    return agents


def recent_imports() -> QuerySet[RosterImport]:
    return RosterImport.objects.select_related("source", "created_by").defer("errors", "changes")


def can_sign_in(agent: Agent) -> bool:
    """Whether the employee can read and sign online today."""
    user = agent.user
    if user is None or not user.is_active:
        return False
    return user.last_login is not None or user.has_usable_password()
