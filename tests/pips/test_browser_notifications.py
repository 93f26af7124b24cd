"""Notifications in a real browser: the sweep reminds the supervisor of tomorrow's check-in; the
navbar shows the unread count, the list shows the reminder, opening it goes to the plan and the
count goes away. Screenshots go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pips import reminders
from pips.models import Notification, ScheduleItem
from tests.browser import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_reminder_shows_in_the_navbar_and_opens_the_plan(
    chrome, live_server, shots, alex, sam, harper, make_plan
):
    pip = make_plan(alex, "active", hr=harper)
    now = timezone.now()
    pip.schedule.update(due_at=now + dt.timedelta(days=30))
    first = pip.schedule.filter(kind=ScheduleItem.Kind.CHECKIN).order_by("due_on").first()
    soon = now + dt.timedelta(hours=20)
    ScheduleItem.objects.filter(pk=first.pk).update(due_at=soon, due_on=soon.date())
    Notification.objects.filter(user=sam).delete()
    report = reminders.sweep()
    assert reminders.send_claimed(report.to_send, report.claimed_at).sent == 2

    page = chrome.new_page(viewport={"width": 1200, "height": 800})
    log_in(page, live_server.url, "sam")
    badge = page.get_by_role("link", name="Notifications")
    expect(badge).to_contain_text("1")
    shots(page, "home-with-badge")

    badge.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    item = page.locator(".notification-list li").first
    expect(item).to_contain_text(f"check-in with Alex Rivera ({pip.reference})")
    expect(item).to_contain_text("New")
    shots(page, "notification-list")

    item.get_by_role("button", name="Open").click()
    expect(page).to_have_url(f"{live_server.url}/pips/{pip.pk}/")
    expect(page.get_by_role("link", name="Notifications")).to_have_text("Notifications")
    shots(page, "plan-after-opening")

    page.get_by_role("link", name="Notifications").click()
    expect(page.locator(".notification-list li").first).not_to_contain_text("New")
    shots(page, "list-read")
    page.close()
