"""What every browser test shares: headless Chromium through Playwright (the `chrome` fixture),
screenshots of each step (the `shots` fixture, or `Shots` itself), and logging in and out.

tests/conftest.py loads this module as a plugin, so the fixtures reach every test package;
the helpers are imported from here: `from tests.browser import Shots, log_in, log_out`.
Screenshots go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import PASSWORD, need_service

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture
def chrome(monkeypatch):
    need_service("Chromium", CHROMIUM.exists())
    # The test's own database calls run beside Playwright's event loop. Allowed only while the
    # browser runs, so the setting does not leak into the rest of the test session.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Django keeps one connection per thread: close this thread's before Playwright's loop
    # starts and after it ends, so none is left open.
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


class Shots:
    """Numbered full-page screenshots in the test's own folder, emptied of an earlier run's."""

    def __init__(self, name: str) -> None:
        self.folder = SCREENSHOTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: Page, label: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{label}.png"), full_page=True)


@pytest.fixture
def shots(request) -> Shots:
    return Shots(request.node.name)


def log_in(
    page: Page, base: str, username: str, password: str = PASSWORD, *, home: bool = True
) -> None:
    """Log in through the form. With `home`, wait for the home page's greeting, so the next
    step starts logged in; without it (a wrong password, say), return once the form is sent."""
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()
    if home:
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
