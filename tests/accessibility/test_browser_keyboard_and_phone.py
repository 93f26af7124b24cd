"""What axe-core does not check on its own: the skip link is the first thing the keyboard
reaches, it shows, and it moves the focus to the page's content; the focus ring is visible; and
the pages with wide tables, stacked at phone size (390×844), have no WCAG violation either."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.accessibility.test_browser_accessibility import browser_as, violations_on

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}


def test_the_skip_link_comes_first_shows_and_leads_to_the_content(
    chrome, live_server, build_world, signing
):
    world = build_world("active")
    context = browser_as(chrome, world.clients()["supervisor"], live_server.url)
    page = context.new_page()
    page.goto(live_server.url + reverse("pips:detail", args=[world.plan.pk]))
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
            const el = document.activeElement;
            const box = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            return {text: el.textContent.trim(), href: el.getAttribute('href'),
                    visible: box.width > 0 && box.height > 0 && box.top >= 0,
                    outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};
        }"""
    )
    assert focused["text"] == "Skip to main content" and focused["href"] == "#main", focused
    assert focused["visible"], focused
    # The focus ring: a solid outline at least 2 px wide.
    assert focused["outline"] == "solid" and focused["outlineWidth"] >= 2, focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The next Tab lands inside the content, not back in the menu.
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert ring == "solid", ring
    context.close()


def test_stacked_tables_on_a_phone_have_no_wcag_violation(
    chrome, live_server, build_world, signing
):
    world = build_world("active")
    clients = world.clients()
    plan = world.plan.pk
    pages = {
        "supervisor": [
            reverse("pips:home"),
            reverse("pips:plans"),
            reverse("pips:detail", args=[plan]),
            reverse("pips:reviews", args=[plan]),
        ],
        "hr": [
            reverse("pips:home"),
            reverse("pips:plans"),
            reverse("pips:stats"),
            reverse("pips:audit", args=[plan]),
        ],
        "agent": [reverse("pips:home"), reverse("pips:detail", args=[plan])],
    }
    failures = []
    for role, urls in pages.items():
        context = browser_as(
            chrome,
            clients[role],
            live_server.url,
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
        )
        page = context.new_page()
        for url in urls:
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == 200, (role, url)
            failures += [f"{role} {url}: {v}" for v in violations_on(page)]
        context.close()
    assert not failures, "axe-core violations:\n" + "\n".join(failures)
