"""Fixtures of the plan tests beyond the people in tests/conftest.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pips import services
from pips.models import Pip, SignerRole
from pips.services import SignatureInput
from tests.pips.pdf_support import add_samples, signature_png, walk_to_midpoint


@pytest.fixture
def rich_plan(make_plan, alex, sam, harper):
    """Alex's 60-day plan, signed by all three (the employee with a drawn signature), with KPI
    data, two check-ins and the midpoint review done."""
    today = timezone.localdate()
    start = today - dt.timedelta(days=35)
    add_samples(alex.employee_id, start - dt.timedelta(days=35), today)
    pip = make_plan(alex, "issued", hr=harper, start=start, days=60)
    version = pip.current_version
    services.signature_add(
        actor=alex.user,
        pip=pip,
        version=version,
        role=SignerRole.AGENT,
        data=SignatureInput(
            typed_name="Alex Rivera",
            consent=True,
            agrees=False,
            comments="I disagree with the AHT target: my calls are the complex billing cases.",
            image=signature_png(),
        ),
    )
    services.signature_add(
        actor=harper,
        pip=pip,
        version=version,
        role=SignerRole.HR,
        data=SignatureInput(typed_name="Harper Lee", consent=True),
    )
    pip = Pip.objects.get(pk=pip.pk)
    return walk_to_midpoint(pip, supervisor=sam)
