"""HR's review tells people what they have to do next: HR hears of a plan or an amendment waiting
for them, the supervisor of a return (with HR's comments) or an approval, the employee of an
amended version to read and sign. Each event once; a refused step tells nobody."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from pips import notifications, services
from pips.models import AuditEvent, Notification, Pip, SignerRole
from pips.notifications import emails
from pips.services import SignatureInput, TransitionError
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

SITE = emails.absolute("")
COMMENT = 'Targets <b>too high</b> & "AHT" wording: see <script>alert(1)</script>'
SUMMARY = "Coaching moves to Wednesdays & AHT <target> eases."


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the steps inside as if each committed: their notification tasks run (eagerly)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def hank(db):
    return make_user("hank", "Hank", "Ito", "hr")


def html_of(message) -> str:
    return message.alternatives[0][0]


def notes(pip: Pip) -> list[tuple[str, str, str]]:
    return sorted(
        (n.user.username, n.text, n.url)
        for n in Notification.objects.filter(pip=pip).select_related("user")
    )


def delivered_once(pip: Pip, action: str) -> None:
    """A second delivery of the event (a task run twice, the sweep) sends nothing more."""
    sent, noted = len(mail.outbox), Notification.objects.count()
    event = AuditEvent.objects.get(pip=pip, action=action)
    assert notifications.deliver(event.pk) is False
    assert (len(mail.outbox), Notification.objects.count()) == (sent, noted)


def assert_nothing_sent() -> None:
    assert mail.outbox == []
    assert not Notification.objects.exists()


def url(name: str, pip: Pip, *args) -> str:
    return reverse(name, args=[pip.pk, *args])


# --- a plan submitted to HR --------------------------------------------------------------------


def test_a_submitted_plan_asks_every_other_active_hr_user_to_review_it(
    alex, sam, harper, hank, make_plan, committed
):
    sam.groups.add(harper.groups.get(name="hr"))  # the supervisor is HR too: not told
    gone = make_user("ivy", "Ivy", "Gone", "hr")
    gone.is_active = False
    gone.save()
    pip = make_plan(alex, "draft")
    with committed():
        services.pip_submit(actor=sam, pip=pip)
    assert sorted(m.to[0] for m in mail.outbox) == ["hank@example.com", "harper@example.com"]
    for message in mail.outbox:
        assert message.subject == f"{pip.reference} for Alex Rivera waits for your review"
        assert "Sam Carter submitted the draft plan" in message.body
        assert f"{SITE}{url('pips:hr_review', pip)}" in message.body
        assert f'href="{SITE}{url("pips:hr_review", pip)}"' in html_of(message)
    hank_mail = next(m for m in mail.outbox if m.to == ["hank@example.com"])
    assert hank_mail.body.startswith("Hello Hank Ito,")
    text = f"{pip.reference} for Alex Rivera waits for your review."
    assert notes(pip) == [
        ("hank", text, url("pips:hr_review", pip)),
        ("harper", text, url("pips:hr_review", pip)),
    ]
    delivered_once(pip, "submitted")


def test_a_refused_submission_tells_nobody(alex, sam, olivia, harper, make_plan, committed):
    pip = make_plan(alex, "draft")
    with committed(), pytest.raises(PermissionDenied):
        services.pip_submit(actor=olivia, pip=pip)
    services.pip_submit(actor=sam, pip=pip)
    with committed(), pytest.raises(TransitionError):
        services.pip_submit(actor=sam, pip=pip)  # already waiting for HR
    assert_nothing_sent()


def test_a_submission_hr_already_decided_is_not_announced_late(alex, sam, harper, make_plan):
    pip = make_plan(alex, "approved", hr=harper)  # no task ran: as if the broker was down
    submitted = AuditEvent.objects.get(pip=pip, action="submitted")
    assert notifications.deliver(submitted.pk) is True
    assert_nothing_sent()


# --- HR returns a plan -------------------------------------------------------------------------


def test_a_returned_plan_tells_the_supervisor_with_hr_comments(
    alex, sam, harper, make_plan, committed
):
    pip = make_plan(alex, "pending_hr")
    with committed():
        services.pip_return(actor=harper, pip=pip, comment=COMMENT)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@example.com"]
    assert message.subject == f"{pip.reference} (Alex Rivera) was returned by HR"
    assert f"Harper Lee returned the draft plan {pip.reference}" in message.body
    assert COMMENT in message.body
    assert f"{SITE}{url('pips:edit', pip)}" in message.body
    html = html_of(message)
    assert "Targets &lt;b&gt;too high&lt;/b&gt; &amp; &quot;AHT&quot;" in html
    assert "<script>" not in html and "<b>too high" not in html
    assert f'href="{SITE}{url("pips:edit", pip)}"' in html
    assert notes(pip) == [
        (
            "sam",
            f"{pip.reference} for Alex Rivera was returned by Harper Lee: {COMMENT}",
            url("pips:edit", pip),
        )
    ]
    delivered_once(pip, "returned")


def test_a_refused_return_tells_nobody(alex, sam, harper, make_plan, committed):
    pip = make_plan(alex, "pending_hr")
    with committed(), pytest.raises(ValidationError):
        services.pip_return(actor=harper, pip=pip, comment="   ")
    with committed(), pytest.raises(PermissionDenied):
        services.pip_return(actor=sam, pip=pip, comment="Not HR.")
    assert_nothing_sent()


# --- HR approves a plan ------------------------------------------------------------------------


def test_an_approved_plan_tells_the_supervisor_to_hold_the_meeting_and_issue_it(
    alex, sam, harper, make_plan, committed
):
    pip = make_plan(alex, "pending_hr")
    with committed():
        services.pip_approve(actor=harper, pip=pip, comment="Fine & fair.")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@example.com"]
    assert message.subject == f"{pip.reference} (Alex Rivera) is approved by HR: you can issue it"
    assert f"Harper Lee approved the plan {pip.reference} for Alex Rivera" in message.body
    assert "Fine & fair." in message.body
    assert "Fine &amp; fair." in html_of(message)
    assert "hold the meeting with Alex Rivera" in message.body
    assert f"{SITE}{pip.get_absolute_url()}" in message.body
    assert notes(pip) == [
        (
            "sam",
            f"{pip.reference} for Alex Rivera is approved by Harper Lee: hold the meeting with "
            "Alex Rivera, then issue the plan.",
            pip.get_absolute_url(),
        )
    ]
    delivered_once(pip, "approved")


def test_a_refused_approval_tells_nobody(alex, sam, harper, make_plan, committed):
    pip = make_plan(alex, "draft")
    with committed(), pytest.raises(TransitionError):
        services.pip_approve(actor=harper, pip=pip)  # not submitted yet
    services.pip_submit(actor=sam, pip=pip)
    with committed(), pytest.raises(PermissionDenied):
        services.pip_approve(actor=sam, pip=pip)
    assert_nothing_sent()


# --- amendments --------------------------------------------------------------------------------


@pytest.fixture
def active(alex, harper, make_plan) -> Pip:
    return make_plan(alex, "active", hr=harper)


def test_a_submitted_amendment_asks_hr_to_review_it(active, sam, harper, hank, committed):
    services.amendment_start(actor=sam, pip=active, change_summary=SUMMARY)
    with committed():
        services.amendment_submit(actor=sam, pip=active)
    assert sorted(m.to[0] for m in mail.outbox) == ["hank@example.com", "harper@example.com"]
    message = next(m for m in mail.outbox if m.to == ["harper@example.com"])
    assert message.subject == (
        f"An amendment to {active.reference} for Alex Rivera waits for your review"
    )
    assert "Sam Carter submitted an amendment" in message.body
    assert "version 2" in message.body
    assert SUMMARY in message.body
    assert "Wednesdays &amp; AHT &lt;target&gt; eases." in html_of(message)
    assert f"{SITE}{url('pips:amendment', active)}" in message.body
    text = f"An amendment to {active.reference} for Alex Rivera (version 2) waits for your review."
    assert notes(active) == [
        ("hank", text, url("pips:amendment", active)),
        ("harper", text, url("pips:amendment", active)),
    ]
    delivered_once(active, "amendment_submitted")


def test_a_refused_amendment_submission_tells_nobody(active, sam, olivia, hank, committed):
    with committed(), pytest.raises(TransitionError):
        services.amendment_submit(actor=sam, pip=active)  # nothing is being amended
    services.amendment_start(actor=sam, pip=active, change_summary=SUMMARY)
    with committed(), pytest.raises(PermissionDenied):
        services.amendment_submit(actor=olivia, pip=active)
    assert_nothing_sent()


def test_a_returned_amendment_tells_the_supervisor_with_hr_comments(active, sam, harper, committed):
    services.amendment_start(actor=sam, pip=active, change_summary=SUMMARY)
    services.amendment_submit(actor=sam, pip=active)
    with committed():
        services.amendment_decide(actor=harper, pip=active, approve=False, comment=COMMENT)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@example.com"]
    assert message.subject == (
        f"The amendment to {active.reference} (Alex Rivera) was returned by HR"
    )
    assert f"Harper Lee returned version 2, the amendment to the plan {active.reference}" in (
        message.body
    )
    assert COMMENT in message.body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_of(message)
    assert "<script>" not in html_of(message)
    assert f"{SITE}{url('pips:edit', active)}" in message.body
    assert notes(active) == [
        (
            "sam",
            f"The amendment to {active.reference} for Alex Rivera was returned by Harper Lee: "
            f"{COMMENT}",
            url("pips:edit", active),
        )
    ]
    delivered_once(active, "amendment_returned")


def test_a_refused_amendment_decision_tells_nobody(active, sam, harper, committed):
    with committed(), pytest.raises(TransitionError):
        services.amendment_decide(actor=harper, pip=active, approve=True)  # nothing submitted
    services.amendment_start(actor=sam, pip=active, change_summary=SUMMARY)
    services.amendment_submit(actor=sam, pip=active)
    with committed(), pytest.raises(ValidationError):
        services.amendment_decide(actor=harper, pip=active, approve=False, comment="")
    with committed(), pytest.raises(PermissionDenied):
        services.amendment_decide(actor=sam, pip=active, approve=True)
    assert_nothing_sent()


def test_an_approved_amendment_tells_the_employee_and_the_supervisor_who_signs_first(
    active, alex, sam, harper, committed
):
    services.amendment_start(actor=sam, pip=active, change_summary=SUMMARY)
    services.amendment_submit(actor=sam, pip=active)
    with committed():
        services.amendment_decide(actor=harper, pip=active, approve=True)
    # The employee: what changed, and the page to read it on. The supervisor: in the app.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alex@example.com"]
    assert message.subject == (
        f"Your Performance Improvement Plan {active.reference} is amended: version 2"
    )
    assert SUMMARY in message.body
    assert "Wednesdays &amp; AHT &lt;target&gt; eases." in html_of(message)
    assert "Your manager signs it first" in message.body
    assert f"{SITE}{url('pips:sign', active)}" in message.body
    assert f"{SITE}{url('pips:version_changes', active, 2)}" in message.body
    assert notes(active) == [
        (
            "alex",
            f"{active.reference}: version 2 of your plan is approved. You can read it now and "
            "sign it once your manager has.",
            url("pips:sign", active),
        ),
        (
            "sam",
            f"{active.reference}: Harper Lee approved version 2 for Alex Rivera. Sign it as "
            "manager; then Alex Rivera can sign it.",
            url("pips:sign", active),
        ),
    ]
    delivered_once(active, "amendment_approved")

    # The manager signs version 2: now the employee can, and is told so.
    mail.outbox.clear()
    Notification.objects.all().delete()
    active.refresh_from_db()
    with committed():
        services.signature_add(
            actor=sam,
            pip=active,
            version=active.current_version,
            role=SignerRole.MANAGER,
            data=SignatureInput(typed_name="Sam Carter", consent=True),
        )
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (
            ["alex@example.com"],
            f"Version 2 of your Performance Improvement Plan {active.reference} is ready to "
            "read and sign",
        )
    ]
    assert "does not mean that you agree" in mail.outbox[0].body
    assert f"{SITE}{url('pips:sign', active)}" in mail.outbox[0].body
    assert notes(active) == [
        (
            "alex",
            f"{active.reference}: version 2 of your plan is ready to read and sign.",
            url("pips:sign", active),
        )
    ]


def test_an_approved_amendment_reaches_an_employee_without_an_account_by_email(
    active, alex, sam, harper, committed
):
    alex.email = "alex.rivera@example.org"
    alex.save()
    services.amendment_start(actor=sam, pip=active, change_summary=SUMMARY)
    services.amendment_submit(actor=sam, pip=active)
    alex.user = None
    alex.save()
    with committed():
        services.amendment_decide(actor=harper, pip=active, approve=True)
    assert [m.to for m in mail.outbox] == [["alex.rivera@example.org"]]
    assert [n[0] for n in notes(active)] == ["sam"]
