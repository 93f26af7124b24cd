"""What the identity plumbing asks the roster (through settings, so it imports nothing of
plans): the account of an employee ID."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from pips.models import Agent


def user_for_employee(employee_id: str):
    """The account of the employee with this ID; an employee record without one (made before
    accounts came from the roster) gets one now, without a password."""
    agent = Agent.objects.select_related("user").filter(employee_id=employee_id).first()
    if agent is None:
        return None
    if agent.user is not None:
        return agent.user
    User = get_user_model()
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        if agent.user_id is not None:
            return User.objects.get(pk=agent.user_id)
        if User.objects.filter(username=agent.employee_id).exists():
            return None
        first, _, last = agent.full_name.partition(" ")
        user = User(
            username=agent.employee_id,
            email=agent.email,
            first_name=first[:150],
            last_name=last[:150],
            is_active=agent.is_active,
        )
        user.set_unusable_password()
        user.save()
        agent.user = user
        agent.save(update_fields=["user"])
    return user
