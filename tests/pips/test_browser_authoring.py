"""The whole authoring path in a real browser, as people do it: the supervisor starts a plan for
an agent from the contact-center template, adds a row, submits it; HR returns it with a comment;
the supervisor edits and resubmits; HR approves; the supervisor issues it; the agent sees it.
Screenshots of each page go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from metrics import rollups
from metrics.models import Kpi, Sample
from pips.models import Pip, SignerRole, Status
from tests.browser import log_in, log_out

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def agent_data(employee_id: str) -> None:
    """Thirty days of an agent below standard: QA 72 %, AHT 7:00, CSAT 74 %, adherence 88 %,
    FCR 60 %."""
    kpis = {k.code: k for k in Kpi.objects.all()}
    values = {"qa_score": 72, "aht": 420, "csat": 74, "adherence": 88, "fcr": 60}
    today = timezone.localdate()
    Sample.objects.bulk_create(
        Sample(
            employee_id=employee_id,
            kpi=kpis[code],
            date=today - dt.timedelta(days=n),
            value=value,
            weight=20,
        )
        for code, value in values.items()
        for n in range(1, 31)
    )
    rollups.rebuild()  # written beside the loader: the weekly totals too


def test_supervisor_drafts_hr_returns_then_approves_and_the_plan_is_issued(
    chrome, live_server, shots, sam, harper, alex
):
    agent_data(alex.employee_id)
    base = live_server.url
    page = chrome.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The supervisor sees Alex below standard on the home page and starts a plan from there.
    log_in(page, base, "sam")
    team = page.locator("table.team-table")
    expect(team).to_contain_text("Alex Rivera")
    expect(team).to_contain_text("7:00")
    expect(team).to_contain_text("below standard on 5")
    shots(page, "supervisor-home")
    team.get_by_role("link", name="Start a plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New plan for Alex Rivera")
    expect(page.locator("#id_employee_name")).to_be_disabled()
    expect(page.locator("#id_expectations-1-current")).to_have_value("7:00")
    expect(page.locator("#id_expectations-1-target")).to_have_value("5:00")
    shots(page, "new-plan-form")

    # A row added in place: the KPI's current value appears as soon as it is chosen.
    page.get_by_role("button", name="+ Add an expectation").click()
    row = page.locator('[data-formset="expectations"] [data-formset-row]').last
    row.get_by_label("Performance area").fill("First contact resolution")
    row.get_by_label("KPI").select_option(label="FCR (First Contact Resolution)")
    expect(row.get_by_label("Current performance")).to_have_value("60 %")
    row.get_by_label("Target").fill("75")
    row.get_by_label("Improvement needed").fill("Resolve more contacts on the first call")
    page.fill("#id_description", "QA, AHT and CSAT have been below standard for three months.")
    row.scroll_into_view_if_needed()
    shots(page, "new-plan-row-added")

    # A target out of range: the message sits on its row, nothing is saved, the added row stays.
    csat = page.locator('[data-formset="expectations"] [data-formset-row]').nth(2)
    csat.get_by_label("Target").fill("120")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".alert-danger").first).to_contain_text("The plan was not saved.")
    csat = page.locator('[data-formset="expectations"] [data-formset-row]').nth(2)
    expect(csat).to_contain_text("CSAT Score: the target must be between 0 % and 100 %.")
    assert not Pip.objects.filter(agent=alex).exists()
    csat.scroll_into_view_if_needed()
    shots(page, "new-plan-invalid-target")
    expect(page.locator('input[value="First contact resolution"]')).to_have_count(1)
    csat.get_by_label("Target").fill("80")
    page.get_by_role("button", name="Save draft").click()

    expect(page.locator(".alert-success")).to_contain_text("Draft saved")
    pip = Pip.objects.get(agent=alex)
    assert pip.status == Status.DRAFT
    assert pip.current_version.expectations.filter(area="First contact resolution").exists()
    shots(page, "draft-saved")
    page.get_by_role("link", name="Preview as the agent sees it").click()
    expect(page.get_by_text("This is how Alex Rivera will see the plan")).to_be_visible()
    shots(page, "preview")
    page.get_by_role("link", name="Back to the plan").click()
    page.get_by_role("link", name="Submit to HR").click()
    shots(page, "submit-confirm")
    page.get_by_role("button", name="Submit to HR").click()
    expect(page.locator(".alert-success")).to_contain_text("submitted to HR")
    assert Pip.objects.get(pk=pip.pk).status == Status.PENDING_HR
    log_out(page)

    # HR returns it with a comment.
    log_in(page, base, "harper")
    expect(page.locator("#h-queue")).to_contain_text("Approval queue 1")
    shots(page, "hr-home-queue")
    page.get_by_role("link", name="Review", exact=True).click()
    page.get_by_label("Return it to the supervisor with comments").check()
    page.fill("#id_comment", "Set the adherence target to the team's 95 % and date the training.")
    shots(page, "hr-review-return")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".alert-success")).to_contain_text("returned to Sam Carter")
    assert Pip.objects.get(pk=pip.pk).status == Status.DRAFT
    log_out(page)

    # The supervisor sees the comment, edits (removing a row in place) and resubmits.
    log_in(page, base, "sam")
    page.get_by_role("link", name=pip.reference, exact=True).first.click()
    expect(page.locator(".alert-warning")).to_contain_text("date the training")
    shots(page, "returned-draft")
    page.get_by_role("link", name="Edit draft").click()
    expect(page.get_by_text("HR returned this plan:")).to_be_visible()
    shadow = page.locator('[data-formset="actions"] [data-formset-row]').nth(1)
    expect(shadow.get_by_label("Action item")).to_have_value("Shadow top-performing agents")
    shadow.get_by_role("button", name="Remove this row").click()
    expect(shadow).to_be_hidden()
    page.fill("#id_description", "QA, AHT, CSAT and adherence below standard for three months.")
    shots(page, "edit-draft")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".alert-success")).to_contain_text("Draft saved")
    assert not pip.current_version.actions.filter(action="Shadow top-performing agents").exists()
    page.get_by_role("link", name="Submit to HR").click()
    page.get_by_role("button", name="Submit to HR").click()
    expect(page.locator(".alert-success")).to_contain_text("submitted to HR")
    log_out(page)

    # HR sees both submissions and the earlier comment, and approves.
    log_in(page, base, "harper")
    page.get_by_role("link", name="Review", exact=True).click()
    history = page.locator("#h-history").locator("..")
    expect(history).to_contain_text("Returned by HR")
    expect(history.get_by_text("Submitted to HR")).to_have_count(2)
    page.get_by_label("Approve the plan").check()
    shots(page, "hr-review-approve")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".alert-success")).to_contain_text("is approved")
    assert Pip.objects.get(pk=pip.pk).status == Status.APPROVED
    # HR keeps the templates supervisors start from.
    page.get_by_role("link", name="Templates").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan templates")
    shots(page, "hr-templates")
    page.get_by_role("link", name="Edit").first.click()
    expect(page.locator("#id_name")).to_have_value("Contact Center Agent")
    shots(page, "hr-template-edit")
    log_out(page)

    # The supervisor holds the meeting, signs and issues the plan.
    log_in(page, base, "sam")
    page.get_by_role("link", name=pip.reference, exact=True).first.click()
    page.get_by_role("link", name="Issue the plan").click()
    expect(page.locator(".manager-signature")).to_contain_text("does not mean that I agree")
    page.fill("#id_typed_name", "Sam Carter")
    page.get_by_label("I agree to sign this document electronically").check()
    shots(page, "issue")
    page.get_by_role("button", name="Sign and issue the plan").click()
    expect(page.locator(".alert-success")).to_contain_text("is issued")
    pip.refresh_from_db()
    assert pip.status == Status.ISSUED
    assert pip.current_version.signatures.get().role == SignerRole.MANAGER
    shots(page, "issued")
    log_out(page)

    # The agent sees the plan waiting for their signature.
    log_in(page, base, "alex")
    expect(page.get_by_role("heading", name=re.compile("Needs you now"))).to_be_visible()
    expect(page.locator(".needs-you-now .todo-sign")).to_contain_text(
        f"Read and sign {pip.reference}"
    )
    shots(page, "agent-home")
    page.locator("section[aria-labelledby='h-own']").get_by_role("link", name=pip.reference).click()
    expect(page.get_by_role("heading", name="2. Performance Expectations")).to_be_visible()
    expect(page.locator("body")).to_contain_text("First contact resolution")
    shots(page, "agent-plan")

    assert errors == []
    page.close()
