"""Roles. A user may hold several: supervisor, HR and analyst are groups; an agent is a user
linked to an agent record; an administrator is a superuser."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

SUPERVISOR = "supervisor"
HR = "hr"
ANALYST = "analyst"
AGENT = "agent"
ADMIN = "admin"

GROUP_ROLES = (SUPERVISOR, HR, ANALYST)


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's roles, computed once per user object (one query for the groups)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_pip_roles", None)
    if cached is not None:
        return cached
    names = set(user.groups.filter(name__in=GROUP_ROLES).values_list("name", flat=True))
    if user.is_superuser:
        names.add(ADMIN)
    if _has_agent_record(user):
        names.add(AGENT)
    result = frozenset(names)
    user._pip_roles = result
    return result


def _has_agent_record(user) -> bool:
    # Through the user model's reverse relation, so roles need not import the models.
    users = get_user_model()._default_manager
    return users.filter(pk=user.pk, agent_profile__isnull=False).exists()


def is_hr(user) -> bool:
    return HR in roles_of(user)


def is_supervisor(user) -> bool:
    return SUPERVISOR in roles_of(user)
