"""Invariants the database holds by itself, whatever code writes to it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from pips.models import AuditEvent, PipVersion, Signature, SignerRole

pytestmark = pytest.mark.django_db


def test_period_must_end_after_start(postgres, alex, make_plan):
    pip = make_plan(alex)
    version = pip.current_version
    with pytest.raises(IntegrityError), transaction.atomic():
        PipVersion.objects.filter(pk=version.pk).update(period_end=version.period_start)
    with pytest.raises(IntegrityError), transaction.atomic():
        PipVersion.objects.filter(pk=version.pk).update(
            period_end=version.period_start - dt.timedelta(days=1)
        )


def test_one_signature_per_role_and_version(postgres, alex, sam, harper, make_plan):
    pip = make_plan(alex, "issued", hr=harper)
    existing = Signature.objects.get(version=pip.current_version, role=SignerRole.MANAGER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            version=pip.current_version,
            role=SignerRole.MANAGER,
            signer=sam,
            typed_name="Sam Carter",
            consent_text="x",
            content_sha256=existing.content_sha256,
        )


def test_one_open_plan_per_agent(postgres, alex, make_plan):
    from pips.models import Pip

    pip = make_plan(alex)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pip.objects.create(agent=alex, supervisor=pip.supervisor, created_by=pip.supervisor)


def test_audit_rows_cannot_be_changed_from_code(alex, make_plan):
    pip = make_plan(alex)
    event = AuditEvent.objects.get(pip=pip)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(comment="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_trigger_refuses_update_and_delete_of_audit_rows(postgres, alex, make_plan):
    pip = make_plan(alex)
    event = AuditEvent.objects.get(pip=pip)
    for sql in (
        "UPDATE pips_auditevent SET comment = 'rewritten' WHERE id = %s",
        "DELETE FROM pips_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).comment == ""
