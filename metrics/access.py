"""Who may load KPI data: analysts (QA, WFM), HR and administrators.

The same rule as `pips.roles.is_analyst`, checked here on the groups directly because this app
knows nothing about plans."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

LOADER_GROUPS = ("analyst", "hr")


def can_load(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_metrics_can_load", None)
    if cached is None:
        cached = user.groups.filter(name__in=LOADER_GROUPS).exists()
        user._metrics_can_load = cached
    return cached
