"""Who sees what of a plan's history (defect 3). Each entry kind has one audience rule: the
employee sees the plan from its issue on, the signatures, check-ins, reviews and outcomes and
their own actions, never the drafting between supervisor and HR or HR's internal notes; the
supervisor and HR see everything. The rule is the same on the plan page, in e-mails and in-app
notifications, and in the PDF's audit certificate. A test per role and entry kind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from pips import audit_chain, notifications, services
from pips.content import content_hash
from pips.models import AuditEvent, Notification, Pip
from pips.printing import render, seal
from pips.services import SignatureInput

pytestmark = pytest.mark.django_db


# The decision, written down independently of the code that applies it.
# kind: (the employee sees the entry, the employee sees its comment)
RULE = {
    "created": (False, False),
    "edited": (False, False),
    "submitted": (False, False),
    "returned": (False, False),
    "approved": (False, False),
    "issued": (True, True),
    "signed": (True, True),
    "refusal_recorded": (True, True),
    "activated": (True, True),
    "amendment_started": (False, False),
    "amendment_submitted": (False, False),
    "amendment_returned": (False, False),
    "amendment_approved": (True, False),
    "amendment_acknowledged": (True, True),
    "checkin_recorded": (True, True),
    "checkin_missed": (True, True),
    "checkin_commented": (True, True),
    "midpoint_review_opened": (True, True),
    "midpoint_recorded": (True, True),
    "final_review_opened": (True, True),
    "referred_to_hr": (True, True),
    "extended": (True, True),
    "closed": (True, True),
    "cancelled": (True, True),
    "paused": (True, True),
    "resumed": (True, True),
    "reassigned": (True, False),
    "employment_ended": (True, True),
    "delegated": (False, False),
}


@pytest.fixture
def issued(alex, harper, make_plan) -> Pip:
    return make_plan(alex, "issued", hr=harper)


def add_event(pip: Pip, kind: str, actor, *, at: dt.datetime | None = None) -> AuditEvent:
    return audit_chain.append(
        AuditEvent(
            pip=pip,
            version=pip.current_version,
            actor=actor,
            action=kind,
            comment=f"note-of-{kind}",
            at=at or timezone.now(),
        )
    )


def timeline(client, pip: Pip) -> str:
    page = client.get(f"/pips/{pip.pk}/").content.decode()
    return page.split('aria-label="Timeline"', 1)[1].split("</ul>", 1)[0]


@pytest.mark.parametrize("kind", sorted(RULE))
def test_employee_page(client, issued, alex, sam, kind):
    add_event(issued, kind, sam)
    client.force_login(alex.user)
    shown = timeline(client, issued)
    sees, sees_comment = RULE[kind]
    assert (f'data-kind="{kind}"' in shown) is sees
    assert (f"note-of-{kind}" in shown) is sees_comment


@pytest.mark.parametrize("kind", sorted(RULE))
@pytest.mark.parametrize("role", ["supervisor", "hr"])
def test_supervisor_and_hr_pages(client, issued, sam, harper, role, kind):
    add_event(issued, kind, sam)
    client.force_login(sam if role == "supervisor" else harper)
    shown = timeline(client, issued)
    assert f'data-kind="{kind}"' in shown and f"note-of-{kind}" in shown


def test_the_drafting_is_never_shown_to_the_employee(client, alex, harper, make_plan):
    pip = make_plan(alex, "pending_hr")
    services.pip_return(actor=harper, pip=pip, comment="HR-ONLY: the AHT target is too harsh.")
    services.pip_submit(actor=alex.supervisor, pip=pip)
    services.pip_approve(actor=harper, pip=pip, comment="HR-ONLY approval note.")
    pip = Pip.objects.get(pk=pip.pk)
    services.pip_issue(
        actor=alex.supervisor,
        pip=pip,
        meeting_held_on=timezone.localdate(),
        signature=SignatureInput(typed_name="Sam Carter", consent=True),
    )
    client.force_login(alex.user)
    page = client.get(f"/pips/{pip.pk}/").content.decode()
    assert "HR-ONLY" not in page and "Returned by HR" not in page
    client.force_login(harper)
    assert "HR-ONLY: the AHT target" in client.get(f"/pips/{pip.pk}/").content.decode()


def test_a_visible_kind_before_issue_is_not_shown(client, issued, alex, sam):
    add_event(issued, "signed", sam, at=issued.issued_at - dt.timedelta(hours=1))
    client.force_login(alex.user)
    assert "note-of-signed" not in timeline(client, issued)


def test_an_amendment_in_progress_is_not_on_the_employee_page(client, alex, harper, sam, make_plan):
    pip = make_plan(alex, "active", hr=harper)
    services.amendment_start(actor=sam, pip=pip, change_summary="DRAFT-SUMMARY lower AHT.")
    services.amendment_submit(actor=sam, pip=pip)
    services.amendment_decide(actor=harper, pip=pip, approve=False, comment="HR-RETURN note.")
    client.force_login(alex.user)
    page = client.get(f"/pips/{pip.pk}/").content.decode()
    assert "DRAFT-SUMMARY" not in page and "HR-RETURN" not in page


# --- e-mails and in-app notifications -----------------------------------------------------------

STAFF_ONLY_NOTIFIED = sorted(
    kind for kind, (sees, _) in RULE.items() if not sees and notifications.wants_delivery(kind)
)


@pytest.mark.parametrize("kind", STAFF_ONLY_NOTIFIED)
def test_no_email_or_notification_to_the_employee(alex, sam, issued, kind):
    alex.email = "alex@example.com"
    alex.save(update_fields=["email"])
    event = add_event(issued, kind, sam)
    notifications.deliver(event.pk)
    assert not any("alex@example.com" in m.to for m in mail.outbox)
    assert not Notification.objects.filter(user=alex.user).exists()


def test_the_rule_is_checked_before_anything_reaches_the_employee(alex, sam, issued):
    """Even a handler that addresses the employee cannot send them an entry they may not see."""
    event = add_event(issued, "amendment_returned", sam)
    assert notifications.employee_recipients(event) == ([], [])
    visible = add_event(issued, "checkin_recorded", sam)
    assert notifications.employee_recipients(visible)[1] == [alex.user]


# --- the PDF's audit certificate ----------------------------------------------------------------


def certificate_html(pip: Pip, audience: str) -> str:
    version = pip.current_version
    html = render.print_html(
        pip=pip, version=version, current_hash=content_hash(version), audience=audience
    )
    return html.split("Audit certificate", 1)[1]


@pytest.mark.parametrize("kind", sorted(RULE))
def test_pdf_certificate_per_audience(issued, sam, alex, kind):
    add_event(issued, kind, sam)
    sees, sees_comment = RULE[kind]
    employee_copy = certificate_html(issued, "employee")
    staff_copy = certificate_html(issued, "staff")
    assert (f"note-of-{kind}" in employee_copy) is sees_comment
    assert f'data-kind="{kind}"' in staff_copy
    assert (f'data-kind="{kind}"' in employee_copy) is sees


def test_the_employee_copy_lists_no_page_views(issued, alex, harper):
    services.pip_viewed(actor=harper, pip=issued)
    services.pip_viewed(actor=alex.user, pip=issued)
    assert 'data-kind="viewed"' not in certificate_html(issued, "employee")
    assert 'data-kind="viewed"' in certificate_html(issued, "staff")


def test_the_download_gives_each_reader_their_copy(alex, harper, issued):
    assert render.audience_for(alex.user, issued) == "employee"
    assert render.audience_for(harper, issued) == "staff"
    assert render.audience_for(issued.supervisor, issued) == "staff"


def test_copies_for_each_audience_are_stored_apart(signing, issued):
    version = issued.current_version
    employee = seal.stored_copy(pip=issued, version=version, audience="employee")
    staff = seal.stored_copy(pip=issued, version=version, audience="staff")
    assert employee.name != staff.name
