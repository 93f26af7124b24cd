"""What each kind of audit event tells people, by e-mail and in the app. One handler per event
action; `deliver` runs a handler once per event, however often it is called."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction

from pips import emails
from pips.models import AuditEvent, Delivery

Handler = Callable[[AuditEvent], None]
HANDLERS: dict[str, Handler] = {}


def handles(*actions: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for action in actions:
            HANDLERS[action] = func
        return func

    return register


def wants_delivery(action: str) -> bool:
    return action in HANDLERS


def deliver(event_id: int) -> bool:
    """Run the event's handler once. Returns whether this call delivered it."""
    event = (
        AuditEvent.objects.select_related(
            "pip",
            "pip__agent",
            "pip__agent__user",
            "pip__supervisor",
            "pip__current_version",
            "actor",
            "version",
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None or event.action not in HANDLERS:
        return False
    try:
        with transaction.atomic():
            Delivery.objects.create(event=event)
            HANDLERS[event.action](event)
    except IntegrityError:
        return False
    return True


@handles("issued")
def _issued(event: AuditEvent) -> None:
    pip = event.pip
    url = emails.absolute(pip.get_absolute_url())
    agent_user = pip.agent.user
    emails.send(
        "pip-issued",
        [pip.agent.email or (agent_user.email if agent_user else "")],
        {"pip": pip, "version": event.version or pip.current_version, "url": url},
    )
    if agent_user:
        emails.notify(
            [agent_user],
            pip=pip,
            url=pip.get_absolute_url(),
            text=f"Your plan {pip.reference} is ready to read and sign.",
        )
