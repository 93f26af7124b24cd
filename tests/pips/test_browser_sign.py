"""Signing in a real browser, as people do it: the agent logs in, opens the plan waiting for
them, draws a signature (with the mouse, or with a finger on a phone), comments and signs; HR
countersigns; the plan is active. Screenshots go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from metrics import rollups
from metrics.models import Sample
from pips.models import Pip, Signature, SignerRole, Status
from tests.browser import log_in, log_out

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def draw_with_mouse(page: Page) -> None:
    canvas = page.locator("canvas.signature-pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 100
    x, y, h = box["x"], box["y"], box["height"]
    # A loop and a flourish, as a hand would.
    page.mouse.move(x + 30, y + h * 0.6)
    page.mouse.down()
    for dx, dy in [(20, -40), (45, -10), (60, 30), (90, -25), (130, 20), (170, -35), (220, 10)]:
        page.mouse.move(x + 30 + dx, y + h * 0.6 + dy, steps=6)
    page.mouse.up()
    page.mouse.move(x + 60, y + h * 0.75)
    page.mouse.down()
    page.mouse.move(x + 260, y + h * 0.72, steps=10)
    page.mouse.up()


def draw_with_finger(page: Page) -> None:
    """Real touch events through the browser's input pipeline, as a phone sends them."""
    canvas = page.locator("canvas.signature-pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    cdp = page.context.new_cdp_session(page)
    points = [
        (box["x"] + 20 + i * 12, box["y"] + box["height"] / 2 + (-1) ** i * 18) for i in range(15)
    ]
    first, *rest = points
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": [{"x": first[0], "y": first[1]}]},
    )
    for px, py in rest:
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": px, "y": py}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_agent_signs_with_the_mouse_and_hr_countersigns(
    chrome, live_server, shots, alex, harper, make_plan
):
    pip = make_plan(alex, "issued", hr=harper)
    base = live_server.url
    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Everything runs under the strict Content-Security-Policy: no violation is reported.
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and errors.append(message.text),
    )

    # The agent logs in and finds the plan waiting for them.
    log_in(page, base, "alex")
    todo = page.locator(".needs-you-now .todo-sign")
    expect(todo).to_contain_text(f"Read and sign {pip.reference}")
    shots(page, "agent-home")
    page.locator("section[aria-labelledby='h-own']").get_by_role("link", name=pip.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Rivera")
    shots(page, "agent-plan")
    page.get_by_role("link", name="Sign acknowledgment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Read and sign your plan")
    expect(page.get_by_text("it does not mean that I agree with it")).to_be_visible()
    shots(page, "agent-sign-page")

    # Submitting without consent: the form says what is missing and nothing is saved.
    page.fill("#id_typed_name", "Alex Rivera")
    page.get_by_label("I agree with this plan").check()
    page.get_by_role("button", name="Sign the acknowledgment").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Tick the box to agree to sign electronically.")
    expect(page.locator("#sign").get_by_text("Tick the box to agree")).to_be_visible()
    assert not Signature.objects.filter(version__pip=pip, role=SignerRole.AGENT).exists()

    # The signature pad appears (JavaScript is on), takes a drawing, and can be cleared.
    pad = page.locator("[data-signature-pad]")
    expect(pad).to_be_visible()
    draw_with_mouse(page)
    expect(page.locator("[data-signature-status]")).to_have_text("Signature drawn.")
    page.get_by_role("button", name="Clear the drawing").click()
    expect(page.locator("[data-signature-status]")).to_have_text("Nothing drawn yet.")
    assert page.input_value("#id_image") == ""
    draw_with_mouse(page)
    assert page.input_value("#id_image").startswith("data:image/png;base64,")

    page.fill("#id_comments", "I understand the targets and will use the call-flow checklist.")
    page.get_by_label("I agree with this plan").check()
    page.get_by_label(re.compile("I agree to sign this document electronically")).check()
    page.fill("#id_typed_name", "Alex Rivera")
    shots(page, "agent-filled-in")
    page.get_by_role("button", name="Sign the acknowledgment").click()
    expect(page.get_by_text("your acknowledgment is recorded")).to_be_visible()
    expect(page.locator("img.signature-img")).to_have_count(1)
    shots(page, "agent-signed")

    sig = Signature.objects.get(version__pip=pip, role=SignerRole.AGENT)
    assert sig.image.startswith("data:image/png;base64,") and len(sig.image) > 500
    assert sig.agrees is True and "call-flow checklist" in sig.comments
    assert "Chrome" in sig.user_agent and sig.ip_address == "127.0.0.1"
    log_out(page)

    # HR countersigns from the plan page.
    log_in(page, base, "harper")
    page.goto(f"{base}{pip.get_absolute_url()}")
    page.get_by_role("link", name="Countersign as HR").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Countersign as HR")
    shots(page, "hr-sign-page")
    draw_with_mouse(page)
    page.get_by_label(re.compile("I agree to sign this document electronically")).check()
    page.fill("#id_typed_name", "Harper Lee")
    page.get_by_role("button", name="Countersign as HR").click()
    expect(page.get_by_text("the plan is active")).to_be_visible()
    expect(page.locator(".status-badge").first).to_have_text("Active")
    expect(page.get_by_text("Valid: content unchanged since signing")).to_have_count(3)
    shots(page, "plan-active")

    # The audit trail shows the signatures with where they came from.
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    expect(page.get_by_text("Signed as employee")).to_be_visible()
    shots(page, "audit-trail")

    assert Pip.objects.get(pk=pip.pk).status == Status.ACTIVE
    assert Signature.objects.filter(version__pip=pip).count() == 3
    assert errors == []
    context.close()


def test_agent_signs_with_a_finger_on_a_phone(chrome, live_server, shots, alex, harper, make_plan):
    pip = make_plan(alex, "issued", hr=harper)
    context = chrome.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    log_in(page, live_server.url, "alex")
    page.goto(f"{live_server.url}/pips/{pip.pk}/sign/")
    draw_with_finger(page)
    expect(page.locator("[data-signature-status]")).to_have_text("Signature drawn.")
    page.get_by_label("I disagree with this plan").check()
    page.fill("#id_comments", "The AHT target does not fit the billing queue.")
    page.get_by_label(re.compile("I agree to sign this document electronically")).check()
    page.fill("#id_typed_name", "Alex Rivera")
    shots(page, "phone-filled-in")
    page.get_by_role("button", name="Sign the acknowledgment").click()
    expect(page.get_by_text("your acknowledgment is recorded")).to_be_visible()
    shots(page, "phone-signed")
    sig = Signature.objects.get(version__pip=pip, role=SignerRole.AGENT)
    assert sig.image.startswith("data:image/png;base64,") and sig.agrees is False
    context.close()


def test_without_javascript_the_typed_name_signs(
    chrome, live_server, shots, alex, harper, make_plan
):
    pip = make_plan(alex, "issued", hr=harper)
    context = chrome.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server.url, "alex")
    page.goto(f"{live_server.url}/pips/{pip.pk}/sign/")
    expect(page.locator("[data-signature-pad]")).to_be_hidden()
    page.get_by_label("I agree with this plan").check()
    page.get_by_label(re.compile("I agree to sign this document electronically")).check()
    page.fill("#id_typed_name", "Alex Rivera")
    page.get_by_role("button", name="Sign the acknowledgment").click()
    expect(page.get_by_text("your acknowledgment is recorded")).to_be_visible()
    shots(page, "signed-without-javascript")
    assert Signature.objects.get(version__pip=pip, role=SignerRole.AGENT).image == ""
    context.close()


def test_hr_reads_the_differences_and_approves_an_amendment(
    chrome, live_server, shots, alex, sam, harper, make_plan
):
    from pips import services
    from pips.models import VersionState
    from tests.pips.test_amendments import edit_amendment

    pip = make_plan(alex, "active", hr=harper)
    services.amendment_start(actor=sam, pip=pip, change_summary="Tighter AHT, QA side-by-sides.")
    edit_amendment(pip, sam)
    services.amendment_submit(actor=sam, pip=pip)
    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "harper")
    page.goto(f"{live_server.url}{pip.get_absolute_url()}")
    page.get_by_role("link", name="Review the amendment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amendment: version 2")
    expect(page.locator("del.diff-del", has_text="5:00")).to_be_visible()
    expect(page.locator("ins.diff-ins", has_text="4:45")).to_be_visible()
    shots(page, "amendment-differences")
    page.get_by_role("button", name="Approve the amendment").click()
    expect(page.get_by_text("Version 2 is approved and in force")).to_be_visible()
    shots(page, "amendment-approved")
    assert pip.versions.get(number=2).state == VersionState.ISSUED
    context.close()


def test_on_a_phone_a_failed_signature_shows_its_errors_first(
    chrome, live_server, shots, alex, harper, make_plan, kpis
):
    """390×844: after a failed submit the error summary is on the screen with the focus (not
    3,900 px further down), each error links to its field, no table runs off the screen and the
    sign button can be reached."""
    pip = make_plan(alex, "issued", hr=harper, start=timezone.localdate() - dt.timedelta(days=21))
    # Three weeks of QA scores and handle times, so the plan shows its progress table.
    for n in range(21):
        day = timezone.localdate() - dt.timedelta(days=n + 1)
        Sample.objects.create(employee_id="E1001", kpi=kpis["qa_score"], date=day, value=80)
        Sample.objects.create(employee_id="E1001", kpi=kpis["aht"], date=day, value=400)
    rollups.rebuild()  # written beside the loader: the weekly totals too
    context = chrome.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    log_in(page, live_server.url, "alex")
    # The plan page: nothing is wider than the phone; the KPI table stacks, each cell named by
    # its column, with its status badge on the screen.
    page.goto(f"{live_server.url}/pips/{pip.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    badge = page.locator(".progress-table .progress-status").first
    badge.scroll_into_view_if_needed()
    box = badge.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shots(page, "phone-plan-page")

    page.goto(f"{live_server.url}/pips/{pip.pk}/sign/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for cell in page.locator("td[data-label='Status']").all():
        cell.scroll_into_view_if_needed()
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
    shots(page, "phone-sign-page")

    button = page.get_by_role("button", name="Sign the acknowledgment")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390 and box["height"] >= 36
    button.click()  # no name, no consent

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    box = summary.bounding_box()
    assert box is not None and -2 < box["y"] < 844, box  # on the screen
    expect(summary).to_contain_text("Type your full name to sign.")
    assert summary.get_by_role("link").count() >= 2
    shots(page, "phone-sign-errors")
    summary.get_by_role("link", name=re.compile("Type your full name to sign")).click()
    expect(page.locator("#id_typed_name")).to_be_focused()
    box = page.locator("#id_typed_name").bounding_box()
    assert box is not None and 0 <= box["y"] < 844
    assert not Signature.objects.filter(version__pip=pip, role=SignerRole.AGENT).exists()
    context.close()
