"""Reminders of signatures and approvals, counted in working days, and of amendments."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail

from pips import services
from pips.models import (
    Notification,
    Reminder,
    SignerRole,
)
from tests.conftest import make_user
from tests.pips.reminders_support import (
    sig,
    sweep_at,
    utc,
)


@pytest.mark.django_db
def test_signature_and_approval_reminders_count_working_days(
    alex, blake, sam, olivia, harper, make_plan
):
    make_user("hank", "Hank", "Ito", "hr")
    # Friday 6 March 2026, 15:00 UTC: Alex's plan is issued, Blake's submitted to HR.
    with time_machine.travel(utc(2026, 3, 6, 15), tick=False):
        issued = make_plan(alex, "issued", hr=harper)
        waiting = make_plan(blake, "pending_hr", hr=harper)
    assert issued.ack_due_at == utc(2026, 3, 11, 15)  # Wednesday: three working days
    assert sweep_at(utc(2026, 3, 10, 14, 59)).recorded == 0
    # Tuesday: two working days (Monday, Tuesday) since the draft was submitted on Friday.
    assert sweep_at(utc(2026, 3, 10, 15)).recorded == 2
    assert sweep_at(utc(2026, 3, 11, 14, 59)).recorded == 0
    assert sweep_at(utc(2026, 3, 11, 15)).recorded == 1
    assert sweep_at(utc(2026, 3, 12, 14, 59)).recorded == 0
    assert sweep_at(utc(2026, 3, 12, 15)).recorded == 2  # a working day later: escalated
    rows = {
        (r.pip_id, r.kind, r.recipient.username, r.due_on.isoformat())
        for r in Reminder.objects.select_related("recipient")
    }
    assert rows == {
        (waiting.pk, "approval_reminder", "harper", "2026-03-10"),
        (waiting.pk, "approval_reminder", "hank", "2026-03-10"),
        (issued.pk, "ack_reminder", "alex", "2026-03-11"),
        (issued.pk, "ack_escalation", "sam", "2026-03-11"),
        (issued.pk, "ack_escalation", "harper", "2026-03-11"),
    }
    ack = next(m for m in mail.outbox if m.to == ["alex@example.com"])
    assert ack.subject == (
        f"Please sign your plan {issued.reference}: the acknowledgment was due 11 Mar 2026"
    )
    assert "does not mean that you agree" in ack.body
    assert f"/pips/{issued.pk}/" in ack.body
    approval = next(m for m in mail.outbox if m.to == ["hank@example.com"])
    assert "waiting for HR approval since 06 Mar" in approval.subject
    assert not any(m.to == ["olivia@example.com"] for m in mail.outbox)
    assert Notification.objects.filter(user=alex.user, pip=issued).count() == 1


@pytest.mark.django_db
def test_amendments_waiting_for_hr_or_for_the_employee_are_reminded(
    alex, blake, sam, olivia, harper, make_plan
):
    make_user("hank", "Hank", "Ito", "hr")  # not the plans' HR: not reminded of them
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        waiting = make_plan(alex, "active", hr=harper)
        amended = make_plan(blake, "active", hr=harper)
    # Friday 6 March, 15:00 UTC: one amendment goes to HR, the other is approved at once.
    with time_machine.travel(utc(2026, 3, 6, 15), tick=False):
        services.amendment_start(actor=sam, pip=waiting, change_summary="New AHT target.")
        services.amendment_submit(actor=sam, pip=waiting)
        services.amendment_start(actor=olivia, pip=amended, change_summary="Longer period.")
        services.amendment_submit(actor=olivia, pip=amended)
        services.amendment_decide(actor=harper, pip=amended, approve=True)
        amended.refresh_from_db()
        services.signature_add(  # the manager signs the amended version at the meeting
            actor=olivia,
            pip=amended,
            version=amended.current_version,
            role=SignerRole.MANAGER,
            data=sig(olivia),
        )

    def amendment_reminders() -> set[tuple[int, str, str, str]]:
        return {
            (r.pip_id, r.kind, r.recipient.username, r.due_on.isoformat())
            for r in Reminder.objects.filter(kind__startswith="amendment_").select_related(
                "recipient"
            )
        }

    sweep_at(utc(2026, 3, 10, 14, 59))
    assert amendment_reminders() == set()
    # Tuesday: two working days without HR's decision.
    sweep_at(utc(2026, 3, 10, 15))
    assert amendment_reminders() == {
        (waiting.pk, "amendment_approval_reminder", "harper", "2026-03-10")
    }
    # Wednesday: three working days since the manager signed the amended version, and the
    # employee has not.
    sweep_at(utc(2026, 3, 11, 15))
    sweep_at(utc(2026, 3, 12, 15))  # each once
    assert Reminder.objects.filter(kind__startswith="amendment_").count() == 2
    assert amendment_reminders() == {
        (waiting.pk, "amendment_approval_reminder", "harper", "2026-03-10"),
        (amended.pk, "amendment_ack_reminder", "blake", "2026-03-11"),
    }
    hr_mail = next(m for m in mail.outbox if m.to == ["harper@example.com"])
    assert hr_mail.subject == (
        f"An amendment to {waiting.reference} (Alex Rivera) has been waiting for HR approval"
        " for two working days"
    )
    assert f"/pips/{waiting.pk}/amendment/" in hr_mail.body
    ack = next(m for m in mail.outbox if m.to == ["blake@example.com"])
    assert ack.subject == (
        f"Please sign the amended version 2 of your plan {amended.reference}:"
        " the acknowledgment was due 11 Mar 2026"
    )
    assert "was amended" in ack.body and f"/pips/{amended.pk}/sign/" in ack.body

    # Once decided and signed, nothing more is due.
    Reminder.objects.filter(kind__startswith="amendment_").delete()
    with time_machine.travel(utc(2026, 3, 13, 9), tick=False):
        services.amendment_decide(actor=harper, pip=waiting, approve=True)
        amended.refresh_from_db()
        services.signature_add(
            actor=blake.user,
            pip=amended,
            version=amended.current_version,
            role=SignerRole.AGENT,
            data=sig(blake.user),
        )
    sweep_at(utc(2026, 3, 16, 15))
    assert amendment_reminders() == set()


@pytest.mark.django_db
def test_a_supervisor_who_is_also_hr_is_not_reminded_of_their_own_draft(
    alex, sam, harper, make_plan
):
    sam.groups.add(harper.groups.get(name="hr"))
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        make_plan(alex, "pending_hr", hr=harper)
    sweep_at(utc(2026, 3, 5, 9))
    assert list(Reminder.objects.values_list("recipient__username", flat=True)) == ["harper"]
