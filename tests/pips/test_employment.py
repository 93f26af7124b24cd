"""Moving a plan to another supervisor, and ending it when employment ends: HR only, open
plans only, on the record."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pips.audit import AuditAction
from pips.models import AuditEvent, Status
from pips.services.common import TransitionError
from pips.services.employment import pip_end_employment, pip_reassign

pytestmark = pytest.mark.django_db


def test_hr_moves_a_plan(alex, sam, olivia, harper, make_plan):
    plan = make_plan(alex, "issued", hr=harper)
    plan = pip_reassign(actor=harper, pip=plan, supervisor=olivia, reason="Sam moved to Retention")
    assert plan.supervisor == olivia
    event = AuditEvent.objects.get(pip=plan, action=AuditAction.REASSIGNED)
    assert (
        event.comment == "Sam moved to Retention" and event.label == "Moved to another supervisor"
    )


def test_moving_is_refused_when_it_cannot_be_right(alex, sam, olivia, harper, make_plan, alex_user):
    plan = make_plan(alex, "active", hr=harper)
    with pytest.raises(PermissionDenied):
        pip_reassign(actor=sam, pip=plan, supervisor=olivia, reason="x")
    with pytest.raises(ValidationError, match="not an active supervisor"):
        pip_reassign(actor=harper, pip=plan, supervisor=alex_user, reason="x")
    with pytest.raises(ValidationError, match="with this supervisor already"):
        pip_reassign(actor=harper, pip=plan, supervisor=sam, reason="x")
    with pytest.raises(ValidationError):
        pip_reassign(actor=harper, pip=plan, supervisor=olivia, reason=" ")
    assert not AuditEvent.objects.filter(action=AuditAction.REASSIGNED).exists()


def test_employment_ended(alex, harper, sam, make_plan):
    plan = make_plan(alex, "active", hr=harper)
    plan = pip_end_employment(actor=harper, pip=plan, reason="resigned")
    assert plan.status == Status.CANCELLED and plan.cancel_reason == "Employment ended: resigned"
    assert AuditEvent.objects.get(pip=plan, action=AuditAction.EMPLOYMENT_ENDED).actor == harper
    with pytest.raises(TransitionError):
        pip_end_employment(actor=harper, pip=plan)
    other = make_plan(alex, "draft", hr=harper)
    with pytest.raises(PermissionDenied):
        pip_end_employment(actor=sam, pip=other)
