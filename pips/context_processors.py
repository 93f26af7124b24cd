from __future__ import annotations

from django.http import HttpRequest

from pips.roles import roles_of


def roles(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": frozenset()}
    return {"roles": roles_of(user)}
