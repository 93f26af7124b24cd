"""The wide tables on a phone (390×844), in a real browser on the demo data: HR's list of all
plans, the consistency statistics, a plan's schedule, reviews and audit trail, the KPI tables,
the KPI loads. Each stacks into one card per row: the page never scrolls sideways, no table
hides columns behind a scroll of its own, and every status badge is whole on the screen. The
screenshots are kept in test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from pips.models import Pip, Status
from tests.browser import Shots, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO_PASSWORD = "pipsystem-demo"
PHONE = {"width": 390, "height": 844}

# What runs off the screen: the page's own width, any element scrolling sideways inside it
# (a table in .table-responsive), and any status badge not wholly on the screen.
OVERFLOW = """(width) => {
  const found = [];
  if (document.documentElement.scrollWidth > width) {
    found.push(`page ${document.documentElement.scrollWidth}px wide`);
  }
  for (const el of document.querySelectorAll("main *")) {
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${el.tagName.toLowerCase()}.${el.className} scrolls ${el.scrollWidth}px`);
    }
  }
  for (const badge of document.querySelectorAll("main .badge")) {
    const box = badge.getBoundingClientRect();
    if (box.width && (box.left < 0 || box.right > width)) {
      found.push(`badge "${badge.textContent.trim()}" at ${box.left}-${box.right}px`);
    }
  }
  return found;
}"""


def test_wide_tables_stack_on_a_phone(chrome, live_server):
    call_command("seed_demo", verbosity=0)
    plan = Pip.objects.filter(status=Status.ACTIVE).order_by("pk").first()
    reviewed = Pip.objects.filter(status=Status.FINAL).order_by("pk").first() or plan
    pages = {
        "hr": [
            ("plan-list", reverse("pips:plans")),
            ("plan-list-sorted", reverse("pips:plans") + "?sort=-name"),
            ("stats", reverse("pips:stats")),
            ("home", reverse("pips:home")),
            ("audit-trail", reverse("pips:audit", args=[plan.pk])),
            ("reviews", reverse("pips:reviews", args=[reviewed.pk])),
            ("plan", reverse("pips:detail", args=[plan.pk])),
            ("kpi-loads", reverse("metrics:loads")),
        ],
        "supervisor": [
            ("home", reverse("pips:home")),
            ("plan-list", reverse("pips:plans")),
            ("reviews", reverse("pips:reviews", args=[plan.pk])),
        ],
    }
    shots = Shots("test_wide_tables_stack_on_a_phone")
    context = chrome.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=1
    )
    page = context.new_page()
    problems = {}
    for username, urls in pages.items():
        log_in(page, live_server.url, username, DEMO_PASSWORD)
        for name, url in urls:
            response = page.goto(live_server.url + url)
            assert response.status == 200, (username, url)
            shots(page, f"{username}-{name}")
            found = page.evaluate(OVERFLOW, PHONE["width"])
            if found:
                problems[username, name] = found
            # Each stacked cell names its column.
            unlabelled = page.evaluate(
                """() => [...document.querySelectorAll('table.table-stack tbody td')]
                    .filter(td => td.colSpan < 2 && !td.dataset.label && td.textContent.trim())
                    .length"""
            )
            assert unlabelled == 0, (username, name, unlabelled)
        context.clear_cookies()
    context.close()
    assert problems == {}


def test_the_plan_list_keeps_its_sorting_links_on_a_phone(chrome, live_server):
    call_command("seed_demo", verbosity=0)
    context = chrome.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url, "hr", DEMO_PASSWORD)
    page.goto(live_server.url + reverse("pips:plans"))
    sort_by_agent = page.locator("thead.stack-sort").get_by_role("link", name="Employee")
    assert sort_by_agent.is_visible()
    sort_by_agent.click()
    page.wait_for_url("**sort=name**")
    # The first card's agent column says whose plan it is; the list is sorted by it.
    names = page.locator("table.table-stack tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names, key=str.casefold)
    context.close()
