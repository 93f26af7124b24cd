"""Each role's home on the demo data, at desktop (1280×800) and phone (390×844) size, in a real
browser: "needs you now" comes first, nothing runs off a phone's screen, and the supervisor's
home fits in two screens. The screenshots are kept in test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser import Shots, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO_PASSWORD = "pipsystem-demo"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
USERS = ["supervisor", "agent", "hr", "admin"]


def test_every_home_on_the_demo_at_desktop_and_phone_size(chrome, live_server, settings):
    call_command("seed_demo", verbosity=0)
    shots = Shots("test_every_home_on_the_demo_at_desktop_and_phone_size")
    heights = {}
    for size, viewport, phone in [("desktop", DESKTOP, False), ("phone", PHONE, True)]:
        context = chrome.new_context(
            viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=1
        )
        page = context.new_page()
        for username in USERS:
            log_in(page, live_server.url, username, DEMO_PASSWORD)
            main = page.locator("main")
            # "Needs you now" is the first thing under the greeting.
            first_section = main.locator("section").first
            expect(first_section).to_have_attribute("aria-labelledby", "h-todo")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], (
                f"{username}'s home is wider than the {size} screen"
            )
            heights[username, size] = page.evaluate("document.documentElement.scrollHeight")
            shots(page, f"{username}-{size}")
            context.clear_cookies()  # the next user logs in afresh
        context.close()
    # The supervisor's home: the to-do, who is below standard and the plans in two screens
    # (1600 px at 1280×800).
    assert heights["supervisor", "desktop"] <= 2 * DESKTOP["height"], heights
    # The screenshots of each home at each size are kept.
    kept = sorted(p.name for p in shots.folder.glob("*.png"))
    assert len(kept) == 2 * len(USERS), kept
