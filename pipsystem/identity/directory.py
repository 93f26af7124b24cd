"""What the identity plumbing asks of the rest of the application, by settings, so that it
imports nothing of the plan domain: a user's roles, and the account of an employee ID.

- `IDENTITY_ROLES_OF`: dotted path of `f(user) -> set[str]` (roles such as "hr", "agent").
- `IDENTITY_EMPLOYEE_LOOKUP`: dotted path of `f(employee_id) -> user | None`.
- `IDENTITY_LANGUAGE_OF`: dotted path of `f(user) -> str`, the language a person reads (their
  profile's, else the roster's, else the organisation's), for the e-mails sent to them.
- `IDENTITY_ROLE_GROUPS`: the identity provider's group names -> role names.
- `IDENTITY_GROUP_ROLES`: the roles that are Django groups of the same name (so single sign-on
  and SCIM may grant and withdraw them).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.module_loading import import_string


def roles_of(user) -> set[str]:
    return set(import_string(settings.IDENTITY_ROLES_OF)(user))


def user_for_employee(employee_id: str):
    if not employee_id:
        return None
    return import_string(settings.IDENTITY_EMPLOYEE_LOOKUP)(employee_id)


def language_of(user) -> str:
    """The language to write to this person in; the organisation's when no hook is set."""
    path = getattr(settings, "IDENTITY_LANGUAGE_OF", "")
    return (import_string(path)(user) if path else "") or settings.LANGUAGE_CODE


def roles_from_groups(names: Iterable[str]) -> set[str]:
    mapping = settings.IDENTITY_ROLE_GROUPS
    return {mapping[name] for name in names if name in mapping}


def may_manage_people(user) -> bool:
    return bool(user and user.is_authenticated and roles_of(user) & {"hr", "admin"})


def mapped_roles() -> set[str]:
    """The roles the provider's groups can grant (and so withdraw)."""
    return set(settings.IDENTITY_ROLE_GROUPS.values()) & set(settings.IDENTITY_GROUP_ROLES)


def set_group_roles(user, wanted: set[str]) -> None:
    """Grant the role groups in `wanted` and withdraw the others that the provider's groups
    could grant; roles the mapping never mentions (from the roster, say) are left alone."""
    managed = mapped_roles()
    wanted = wanted & managed
    groups = {g.name: g for g in Group.objects.filter(name__in=managed)}
    have = set(user.groups.filter(name__in=managed).values_list("name", flat=True))
    if have - wanted:
        user.groups.remove(*(groups[name] for name in have - wanted))
    if wanted - have:
        user.groups.add(*(groups[name] for name in wanted - have if name in groups))
    if hasattr(user, "_pip_roles"):
        del user._pip_roles


def find_user_by_email(email: str):
    if not email:
        return None
    matches = list(get_user_model().objects.filter(email__iexact=email)[:2])
    return matches[0] if len(matches) == 1 else None
