"""Audit events tell people what happened, once, and only after the step is committed."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from pips import notifications, services
from pips.models import AuditEvent, Notification
from pips.services import SignatureInput

pytestmark = pytest.mark.django_db


def test_issue_emails_the_agent_once(
    alex, sam, harper, make_plan, django_capture_on_commit_callbacks
):
    pip = make_plan(alex, "approved", hr=harper)
    alex.email = "alex@example.com"
    alex.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.pip_issue(
            actor=sam,
            pip=pip,
            meeting_held_on=timezone.localdate(),
            signature=SignatureInput(typed_name="Sam Carter", consent=True),
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alex@example.com"]
    assert pip.reference in message.subject
    assert f"/pips/{pip.pk}/" in message.body
    assert "does not mean that you agree" in message.body
    assert Notification.objects.filter(user=alex.user, pip=pip).count() == 1
    # Redelivery (a task run twice) sends nothing more.
    event = AuditEvent.objects.get(pip=pip, action="issued")
    assert notifications.deliver(event.pk) is False
    assert len(mail.outbox) == 1


def test_a_refused_step_sends_nothing(
    alex, sam, harper, make_plan, django_capture_on_commit_callbacks
):
    pip = make_plan(alex, "approved", hr=harper)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.pip_issue(
            actor=sam,
            pip=pip,
            meeting_held_on=timezone.localdate(),
            signature=SignatureInput(typed_name="Not Sam", consent=True),
        )
    assert mail.outbox == []
