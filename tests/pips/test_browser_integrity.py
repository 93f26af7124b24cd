"""The acceptance run of plans that hold up when challenged, in a real browser as supervisor,
agent and HR would do it: a final review with targets not met cannot close as successful without
HR; the agent's pages show no drafting history; HR's home lists the plans waiting for HR's
countersignature and flags a disagreement; a plan paused for 10 days shows its reviews moved by
10 days; a transfer mid-plan leaves the old supervisor without access.
Screenshots go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pips import services
from pips.models import Pip, Review, ScheduleItem, SignerRole, Status
from pips.services import SignatureInput
from tests.browser import log_in, log_out
from tests.conftest import make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def _close_server_connections():
    from django.db import connection

    before = connection.settings_dict.get("CONN_MAX_AGE", 0)
    connection.settings_dict["CONN_MAX_AGE"] = 0
    yield
    connection.settings_dict["CONN_MAX_AGE"] = before


def test_plans_that_hold_up(chrome, live_server, shots, alex, blake, sam, harper, make_plan):
    base = live_server.url
    page = chrome.new_page(viewport={"width": 1280, "height": 900})

    # 1. A final review with every target not met cannot close as successful without HR.
    pip = make_plan(alex, "active", hr=harper, start=days_ago(30), days=30)
    review, _ = services.review_open(pip=pip, kind=Review.Kind.FINAL)
    log_in(page, base, "sam")
    page.goto(f"{base}/pips/{pip.pk}/reviews/{review.pk}/")
    for expectation in review.version.expectations.all():
        page.locator(f"input[name='expectation-{expectation.pk}-confirmed'][value='no']").check()
    page.get_by_label("Successful: goals met").check()
    page.fill("#id_summary", "Closing: the targets were set before the product launch.")
    page.get_by_role("button", name="Record the final review").click()
    expect(page.locator("#id_justification")).to_be_visible()
    expect(page.locator("body")).to_contain_text("targets are marked not met")
    shots(page, "successful-refused-without-justification")
    page.fill("#id_justification", "The launch doubled handle times for the whole team.")
    page.get_by_role("button", name="Record the final review").click()
    expect(page.locator(".alert-success")).to_contain_text("HR")
    shots(page, "successful-sent-to-hr")
    assert Pip.objects.get(pk=pip.pk).status == Status.FINAL
    log_out(page)

    # 2. The agent's pages show no pre-issue history; 3. HR's home flags a disagreement.
    services.pip_cancel(actor=harper, pip=pip, reason="Replaced by a new plan.")
    second = make_plan(alex, "pending_hr")
    services.pip_return(actor=harper, pip=second, comment="HR-NOTE: state the AHT target as 5:00.")
    services.pip_submit(actor=sam, pip=second)
    services.pip_approve(actor=harper, pip=second, comment="HR-NOTE approved.")
    services.pip_issue(
        actor=sam,
        pip=second,
        meeting_held_on=timezone.localdate(),
        signature=SignatureInput(typed_name="Sam Carter", consent=True),
    )
    log_in(page, base, "alex")
    page.goto(f"{base}/pips/{second.pk}/")
    timeline = page.get_by_label("Timeline")
    expect(timeline).to_contain_text("Issued to the employee")
    expect(timeline).not_to_contain_text("Returned by HR")
    expect(page.locator("body")).not_to_contain_text("HR-NOTE")
    shots(page, "agent-sees-no-drafting")
    page.get_by_role("link", name="Sign acknowledgment").click()
    page.get_by_label("I disagree with this plan").check()
    page.fill("#id_comments", "The AHT target ignores the new billing product.")
    page.fill("#id_typed_name", "Alex Rivera")
    page.get_by_label("I agree to sign this document electronically").check()
    page.get_by_role("button", name="Sign the acknowledgment").click()
    expect(page.locator(".alert-success")).to_be_visible()
    log_out(page)

    log_in(page, base, "harper")
    section = page.locator(
        "section", has=page.get_by_role("heading", name="Waiting for your countersignature")
    )
    expect(section).to_contain_text(second.reference)
    expect(section).to_contain_text("Disagrees")
    expect(section).to_contain_text("The AHT target ignores the new billing product.")
    shots(page, "hr-home-countersign-disagreement")

    # 4. A plan paused for 10 days shows its reviews moved by 10 days.
    paused = make_plan(blake, "active", hr=harper, start=days_ago(12), days=60)
    final_before = paused.current_version.final_review_date
    midpoint_before = paused.current_version.midpoint_date
    page.goto(f"{base}/pips/{paused.pk}/")
    page.get_by_role("link", name="Pause for leave").click()
    page.select_option("#id_kind", "sick_leave")
    page.fill("#id_start_on", days_ago(10).isoformat())
    page.fill("#id_note", "Doctor's certificate on file with HR.")
    shots(page, "pause-form")
    page.get_by_role("button", name="Pause the plan").click()
    expect(page.locator(".alert-success")).to_contain_text("paused")
    page.get_by_role("link", name="Resume after leave").click()
    page.fill("#id_resume_on", timezone.localdate().isoformat())
    page.get_by_role("button", name="Resume the plan").click()
    expect(page.locator("body")).to_contain_text("Paused for sick leave")
    expect(page.locator("body")).to_contain_text("10 days")
    shots(page, "plan-after-pause")
    page.goto(f"{base}/pips/{paused.pk}/reviews/")
    moved_final = final_before + dt.timedelta(days=10)
    moved_midpoint = midpoint_before + dt.timedelta(days=10)
    expect(page.locator("body")).to_contain_text(moved_final.strftime("%d %b %Y"))
    expect(page.locator("body")).to_contain_text(moved_midpoint.strftime("%d %b %Y"))
    shots(page, "reviews-moved-by-10-days")
    pending = ScheduleItem.objects.filter(pip=paused, cancelled_at__isnull=True)
    assert pending.get(kind="final").due_on == moved_final
    assert pending.get(kind="midpoint").due_on == moved_midpoint

    # 5. A transfer mid-plan leaves the old supervisor without access.
    make_user("noah", "Noah", "Fischer", "supervisor")
    third = Pip.objects.get(pk=second.pk)
    services.signature_add(
        actor=harper,
        pip=third,
        version=third.current_version,
        role=SignerRole.HR,
        data=SignatureInput(typed_name="Harper Lee", consent=True),
    )
    page.goto(f"{base}/pips/{third.pk}/")
    page.get_by_role("link", name="Reassign").click()
    page.get_by_label("New supervisor").select_option(label="Noah Fischer")
    page.fill("#id_reason", "Sam moved to the Retention team.")
    shots(page, "reassign-form")
    page.get_by_role("button", name="Reassign the plan").click()
    expect(page.locator(".alert-success")).to_contain_text("Noah Fischer")
    expect(page.get_by_label("Held by")).to_contain_text("Sam Carter")
    shots(page, "plan-held-by-noah")
    log_out(page)

    log_in(page, base, "sam")
    response = page.goto(f"{base}/pips/{third.pk}/")
    assert response.status == 404
    shots(page, "old-supervisor-404")
