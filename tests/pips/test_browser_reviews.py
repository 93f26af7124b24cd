"""Check-ins and reviews in a real browser, the way a supervisor, an agent and HR do them: one
plan runs from active to a successful close, another through its midpoint to an unsuccessful
close decided by HR. Screenshots go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from metrics import rollups
from metrics.models import Sample
from pips.models import ActionSession, CheckIn, Pip, Review, Status
from tests.browser import Shots, log_in, log_out

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def _close_server_connections():
    """The live server answers in threads; each closes its connection after the request, so
    the test database can be dropped at the end of the run."""
    from django.db import connection

    before = connection.settings_dict.get("CONN_MAX_AGE", 0)
    connection.settings_dict["CONN_MAX_AGE"] = 0
    yield
    connection.settings_dict["CONN_MAX_AGE"] = before


def load_kpis(kpis, values: dict[str, float], days: range) -> None:
    Sample.objects.bulk_create(
        Sample(employee_id="E1001", kpi=kpis[code], date=days_ago(i), value=value, weight=4)
        for code, value in values.items()
        for i in days
    )
    rollups.rebuild()  # written beside the loader: the weekly totals too


def record_check_in(page: Page, base: str, pip: Pip, shots: Shots, label: str) -> None:
    """From the plan page: the first scheduled check-in, a coaching session ticked."""
    page.goto(f"{base}/pips/{pip.pk}/")
    page.get_by_role("link", name="Record a check-in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check-in with Alex Rivera")
    # The latest scheduled check-in that has come due is chosen already.
    latest = (
        pip.schedule.filter(kind="checkin", due_on__lte=timezone.localdate())
        .order_by("-due_on")
        .first()
    )
    expect(page.locator("#id_scheduled_for")).to_have_value(latest.due_on.isoformat())
    page.fill("#id_attendees", "Sam Carter (Supervisor), Alex Rivera (Employee)")
    coaching = pip.current_version.actions.get(action__startswith="One-on-one coaching")
    page.locator(f"input[name='action-{coaching.pk}-sessions']").first.check()
    page.select_option(f"#id_action-{coaching.pk}-status", "in_progress")
    page.fill("#id_coaching_done", "Listened to five calls together; worked on hold etiquette.")
    page.fill("#id_notes", "QA is up week on week. AHT is close to the target.")
    page.fill("#id_next_steps", "Shadow Jordan on Thursday afternoon.")
    shots(page, f"{label}-checkin-form")
    page.get_by_role("button", name="Record the check-in").click()
    expect(page.locator(".alert-success")).to_contain_text("Check-in recorded")
    shots(page, f"{label}-checkin-recorded")


def test_active_plan_to_a_successful_close(
    chrome, live_server, shots, alex, sam, harper, make_plan, kpis
):
    alex.email = "alex@example.com"
    alex.save(update_fields=["email"])
    pip = make_plan(alex, "active", hr=harper, start=days_ago(30), days=30)
    load_kpis(kpis, {"qa_score": 88.0, "aht": 285.0, "csat": 84.0, "adherence": 96.5}, range(14))
    base = live_server.url
    page = chrome.new_page(viewport={"width": 1280, "height": 900})

    log_in(page, base, "sam")
    record_check_in(page, base, pip, shots, "sam")
    checkin = CheckIn.objects.get(pip=pip)
    assert {e["kpi"]: e["formatted"] for e in checkin.kpi_snapshot}["qa_score"] == "88 %"
    assert ActionSession.objects.filter(checkin=checkin).count() == 1

    page.goto(f"{base}/pips/{pip.pk}/")
    page.get_by_role("link", name="Reviews").click()
    shots(page, "reviews-page")
    page.get_by_role("button", name="Start the final review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Final review")
    wrap_up = pip.current_version.expectations.get(kpi__isnull=True)
    page.locator(f"input[name='expectation-{wrap_up.pk}-confirmed'][value='yes']").check()
    page.fill(f"#id_expectation-{wrap_up.pk}-evidence", "Ten audited calls, all notes complete.")
    page.get_by_label("Successful: goals met").check()
    page.fill("#id_summary", "Every target met for the last two weeks. Well done, Alex.")
    shots(page, "final-review-form")
    page.get_by_role("button", name="Record the final review").click()
    expect(page.locator(".alert-success")).to_contain_text("closed as successful")
    shots(page, "final-review-recorded")

    page.goto(f"{base}/pips/{pip.pk}/")
    expect(page.locator(".status-badge")).to_have_text("Closed: successful")
    expect(page.locator("#h-log")).to_be_visible()
    shots(page, "plan-closed")
    log_out(page)

    # The agent reads the summary and comments on the check-in.
    log_in(page, base, "alex")
    page.goto(f"{base}/pips/{pip.pk}/checkins/{checkin.pk}/")
    page.fill("#id_agent_comment", "Thanks for the coaching sessions; they helped.")
    page.get_by_role("button", name="Add my comment").click()
    expect(page.locator("blockquote")).to_contain_text("they helped")
    shots(page, "agent-commented")
    page.goto(f"{base}/pips/{pip.pk}/")
    expect(page.locator(".checkin-log")).to_contain_text("they helped")
    shots(page, "agent-plan-page")

    pip.refresh_from_db()
    assert pip.status == Status.CLOSED_SUCCESSFUL
    subjects = [m.subject for m in mail.outbox]
    assert any("summary of your check-in" in s for s in subjects)
    assert any(s.startswith("Congratulations") for s in subjects)


def test_midpoint_then_unsuccessful_close_decided_by_hr(
    chrome, live_server, shots, alex, sam, harper, make_plan, kpis
):
    pip = make_plan(alex, "active", hr=harper, start=days_ago(60), days=60)
    load_kpis(kpis, {"qa_score": 72.0, "aht": 410.0, "csat": 70.0, "adherence": 88.0}, range(40))
    base = live_server.url
    page = chrome.new_page(viewport={"width": 1280, "height": 900})

    log_in(page, base, "sam")
    page.goto(f"{base}/pips/{pip.pk}/reviews/")
    # The first scheduled check-in did not take place.
    page.get_by_role("link", name="Missed").first.click()
    page.fill("#id_missed_reason", "Alex was on sick leave that week.")
    shots(page, "missed-form")
    page.get_by_role("button", name="Record as missed").click()
    expect(page.locator(".alert-success")).to_contain_text("missed check-in is recorded")

    page.get_by_role("button", name="Start the midpoint review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Midpoint review")
    wrap_up = pip.current_version.expectations.get(kpi__isnull=True)
    page.locator(f"input[name='expectation-{wrap_up.pk}-confirmed'][value='no']").check()
    aht = pip.current_version.expectations.get(kpi__code="aht")
    page.fill(f"#id_expectation-{aht.pk}-adjustment", "Add a second weekly shadowing session.")
    page.fill("#id_summary", "Little progress so far. We add shadowing and keep the coaching.")
    shots(page, "midpoint-form")
    page.get_by_role("button", name="Record the midpoint review").click()
    expect(page.locator(".alert-success")).to_contain_text("Midpoint review recorded")
    shots(page, "midpoint-recorded")

    page.goto(f"{base}/pips/{pip.pk}/reviews/")
    page.get_by_role("button", name="Start the final review").click()
    page.locator(f"input[name='expectation-{wrap_up.pk}-confirmed'][value='no']").check()
    page.get_by_label("Unsuccessful: goals not met").check()
    page.fill("#id_summary", "None of the targets were met despite the weekly coaching.")
    page.get_by_role("button", name="Record the final review").click()
    expect(page.locator(".alert-success")).to_contain_text("goes to HR")
    shots(page, "final-unsuccessful")
    log_out(page)

    log_in(page, base, "harper")
    page.goto(f"{base}/pips/{pip.pk}/")
    page.get_by_role("link", name="Decide the outcome").click()
    expect(page.locator("#id_consequence")).to_have_value(pip.current_version.outcome_failure)
    page.fill("#id_decision", "Reviewed the plan, the check-ins and the data with Sam.")
    page.fill("#id_consequence", "Written warning; role review in 30 days.")
    page.fill("#id_typed_name", "Harper Lee")
    shots(page, "hr-decide")
    # HR may decide any outcome; the final review's is chosen already.
    expect(page.get_by_label("Close as unsuccessful")).to_be_checked()
    page.get_by_role("button", name="Sign off the decision").click()
    expect(page.locator(".status-badge")).to_have_text("Closed: unsuccessful")
    expect(page.locator("#h-log")).to_be_visible()
    shots(page, "plan-closed-unsuccessful")

    pip.refresh_from_db()
    assert pip.status == Status.CLOSED_UNSUCCESSFUL
    assert pip.consequence == "Written warning; role review in 30 days."
    assert list(pip.reviews.values_list("kind", "state")) == [
        (Review.Kind.MIDPOINT, Review.State.DONE),
        (Review.Kind.FINAL, Review.State.DONE),
    ]
    assert CheckIn.objects.filter(pip=pip, state=CheckIn.State.MISSED).count() == 1
