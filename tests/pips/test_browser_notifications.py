"""Notifications in a real browser: the sweep reminds the supervisor of tomorrow's check-in; the
navbar shows the unread count, the list shows the reminder, opening it goes to the plan and the
count goes away. Screenshots go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

# The live server runs in a thread next to Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.db import connections  # noqa: E402
from django.utils import timezone  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from pips import scheduling  # noqa: E402
from pips.models import Notification, ScheduleItem  # noqa: E402
from tests.conftest import PASSWORD, need_service  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def chrome():
    need_service("Chromium", CHROMIUM.exists())
    connections.close_all()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()


def test_a_reminder_shows_in_the_navbar_and_opens_the_plan(
    chrome, live_server, alex, sam, harper, make_plan, request
):
    pip = make_plan(alex, "active", hr=harper)
    now = timezone.now()
    pip.schedule.update(due_at=now + dt.timedelta(days=30))
    first = pip.schedule.filter(kind=ScheduleItem.Kind.CHECKIN).order_by("due_on").first()
    soon = now + dt.timedelta(hours=20)
    ScheduleItem.objects.filter(pk=first.pk).update(due_at=soon, due_on=soon.date())
    Notification.objects.filter(user=sam).delete()
    report = scheduling.sweep()
    assert scheduling.send_claimed(report.to_send, report.claimed_at).sent == 2

    folder = SCREENSHOTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    page = chrome.new_page(viewport={"width": 1200, "height": 800})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    badge = page.get_by_role("link", name="Notifications")
    expect(badge).to_contain_text("1")
    page.screenshot(path=str(folder / "01-home-with-badge.png"), full_page=True)

    badge.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    item = page.locator(".notification-list li").first
    expect(item).to_contain_text(f"check-in with Alex Rivera ({pip.reference})")
    expect(item).to_contain_text("New")
    page.screenshot(path=str(folder / "02-notification-list.png"), full_page=True)

    item.get_by_role("button", name="Open").click()
    expect(page).to_have_url(f"{live_server.url}/pips/{pip.pk}/")
    expect(page.get_by_role("link", name="Notifications")).to_have_text("Notifications")
    page.screenshot(path=str(folder / "03-plan-after-opening.png"), full_page=True)

    page.get_by_role("link", name="Notifications").click()
    expect(page.locator(".notification-list li").first).not_to_contain_text("New")
    page.screenshot(path=str(folder / "04-list-read.png"), full_page=True)
    page.close()
