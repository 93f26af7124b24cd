"""In a real browser: the pages run under the Content Security Policy without a single
violation (scripts, styles, the signature pad, the plan form's rows), the lockout after five
wrong passwords reads clearly, and a password is reset by e-mail from start to end.
Screenshots go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from pips.models import Agent
from tests.browser import log_in

NEW_PASSWORD = "a-brand-new-passphrase-42"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


class Violations:
    """Console errors of the page: a CSP violation is reported there ("Refused to …")."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type == "error" and (
            "Content Security Policy" in message.text or "Refused to" in message.text
        ):
            self.messages.append(message.text)


def test_pages_run_under_the_content_security_policy(
    chrome, live_server, alex, sam, harper, make_plan, shots
):
    plan = make_plan(alex, "issued", hr=harper)
    # A second agent of Sam's, without a plan yet: the new-plan form opens for them.
    jordan = Agent.objects.create(
        employee_id="E1002", full_name="Jordan Lee", team=alex.team, supervisor=sam
    )
    base = live_server.url
    page = chrome.new_page()
    violations = Violations(page)

    log_in(page, base, "sam")
    for path, label in [
        ("/", "home"),
        (f"/pips/{plan.pk}/", "plan"),
        (f"/pips/{plan.pk}/reviews/", "reviews"),
        (f"/pips/new/?agent={jordan.pk}", "new-plan"),
        ("/pips/verify/", "verify"),
    ]:
        response = page.goto(base + path)
        assert response.status == 200, path
        shots(page, label)
    # The navigation menu (Bootstrap's script) and the plan form's rows (static/js) work.
    page.goto(f"{base}/pips/new/?agent={jordan.pk}")
    rows = page.locator("[data-formset-row]")
    before = rows.count()
    page.locator("[data-formset-add]").first.click()
    expect(rows).to_have_count(before + 1)

    # The agent's signing page: the signature pad draws on its canvas.
    page.context.clear_cookies()
    log_in(page, base, "alex")
    page.goto(f"{base}/pips/{plan.pk}/sign/")
    canvas = page.locator("canvas.signature-pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    page.mouse.move(box["x"] + 220, box["y"] + box["height"] * 0.7, steps=10)
    page.mouse.up()
    shots(page, "sign")
    drawn = page.evaluate(
        "() => { const b = document.querySelector('[data-signature-pad]');"
        " return document.getElementById(b.dataset.input).value; }"
    )
    assert drawn.startswith("data:image/png;base64,"), "the signature pad did not draw"
    assert violations.messages == []


def test_lockout_and_password_reset_in_the_browser(chrome, live_server, sam, shots):
    sam.email = "sam@example.com"
    sam.save(update_fields=["email"])
    base = live_server.url
    page = chrome.new_page()
    violations = Violations(page)

    for _ in range(4):
        log_in(page, base, "sam", "not-the-password", home=False)
        expect(page.locator(".alert-danger")).to_contain_text("correct username and password")
    shots(page, "wrong-password")
    log_in(page, base, "sam", "not-the-password", home=False)
    expect(page.locator(".alert-danger")).to_contain_text("Too many failed attempts")
    expect(page.locator(".alert-danger")).to_contain_text("locked for 15 minutes")
    shots(page, "locked-out")

    page.get_by_role("link", name="Reset your password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    page.fill("#id_email", "sam@example.com")
    shots(page, "reset-form")
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    shots(page, "reset-sent")

    assert len(mail.outbox) == 1
    link = re.search(r"/accounts/reset/\S+/", mail.outbox[0].body).group(0)
    page.goto(base + link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.fill("#id_new_password1", "too-short")
    page.fill("#id_new_password2", "too-short")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator(".invalid-feedback").first).to_contain_text("at least 12 characters")
    shots(page, "reset-too-short")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is changed")
    shots(page, "reset-done")
    assert violations.messages == []
