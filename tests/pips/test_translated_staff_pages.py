"""Every page a supervisor or HR uses, rendered for a Spanish-speaking supervisor or HR
representative, is in Spanish: none of the project's English strings in its text, titles, labels
or alt texts. The same check as the agent's pages (tests/pips/test_translated_pages.py); text a
person wrote is marked with its own language and is left out.

Each page is built with the data it needs (a draft, a plan waiting for HR, an amendment in
progress, a final review referred to HR), so that its forms, tables and messages all show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.urls import reverse
from django.utils import timezone

from metrics.models import Kpi
from pips import services
from pips.models import CheckIn, Outcome, Pip, Review
from tests.pips.test_translated_pages import english_left, spanish

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


class Staff:
    """What the builders need: the people, the plan factory and the rich plan, made on use."""

    def __init__(self, request):
        self.request = request

    def __getattr__(self, name):
        return self.request.getfixturevalue(name)

    def amendment(self, *, submitted: bool) -> Pip:
        pip = self.rich_plan
        services.amendment_start(actor=self.sam, pip=pip, change_summary="Coaching moves.")
        if submitted:
            services.amendment_submit(actor=self.sam, pip=pip)
        return Pip.objects.get(pk=pip.pk)

    def referred(self) -> Pip:
        pip = self.make_plan(self.alex, "active", hr=self.harper, start=days_ago(30), days=30)
        review, _created = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        services.final_record(
            actor=self.sam,
            review=review,
            items=[
                services.ReviewItemInput(expectation_id=e.pk, confirmed=False)
                for e in pip.current_version.expectations.all()
            ],
            outcome=Outcome.UNSUCCESSFUL,
            summary="Targets not met.",
            suggestions={},
        )
        return pip


def url(name: str, *args, query: str = "") -> str:
    return reverse(name, args=args) + (f"?{query}" if query else "")


def _checkin(s: Staff) -> str:
    pip = s.rich_plan
    return url("pips:checkin", pip.pk, CheckIn.objects.filter(pip=pip).first().pk)


def _review(s: Staff) -> str:
    pip = s.rich_plan
    return url("pips:review", pip.pk, Review.objects.filter(pip=pip).first().pk)


def _new_plan_form(s: Staff) -> str:
    kpi = Kpi.objects.first()
    query = f"agent={s.alex.pk}" + (f"&kpis={kpi.code}" if kpi else "")
    return url("pips:new", query=query)


# page → its address, given the data it needs (made by the builder on the way)
SUPERVISOR_PAGES: dict[str, Callable[[Staff], str]] = {
    "home": lambda s: (s.rich_plan, url("pips:home"))[1],
    "plan list": lambda s: (s.rich_plan, url("pips:plans"))[1],
    "new plan: pick": lambda s: url("pips:new"),
    "new plan: form": _new_plan_form,
    "new plan: agent has a plan": lambda s: url("pips:new", query=f"agent={s.rich_plan.agent.pk}"),
    "edit draft": lambda s: url("pips:edit", s.make_plan(s.alex).pk),
    "preview": lambda s: url("pips:preview", s.make_plan(s.alex).pk),
    "submit": lambda s: url("pips:submit", s.make_plan(s.alex).pk),
    "issue": lambda s: url("pips:issue", s.make_plan(s.alex, "approved", hr=s.harper).pk),
    "refusal": lambda s: url("pips:refusal", s.make_plan(s.alex, "issued", hr=s.harper).pk),
    "plan": lambda s: url("pips:detail", s.rich_plan.pk),
    "reviews": lambda s: url("pips:reviews", s.rich_plan.pk),
    "check-in form": lambda s: url("pips:checkin_new", s.rich_plan.pk),
    "missed check-in": lambda s: url("pips:checkin_missed", s.rich_plan.pk),
    "check-in": _checkin,
    "review": _review,
    "amend": lambda s: url("pips:amend", s.rich_plan.pk),
    "amendment": lambda s: url("pips:amendment", s.amendment(submitted=False).pk),
    "no amendment": lambda s: url("pips:amendment", s.rich_plan.pk),
    "version changes": lambda s: url("pips:version_changes", s.amendment(submitted=False).pk, 2),
    "pause": lambda s: url("pips:pause", s.rich_plan.pk),
    "cover": lambda s: url("pips:cover"),
    "notifications": lambda s: (s.rich_plan, url("pips:notifications"))[1],
    "profile": lambda s: url("pips:profile"),
}

HR_PAGES: dict[str, Callable[[Staff], str]] = {
    "home": lambda s: (s.make_plan(s.alex, "pending_hr"), url("pips:home"))[1],
    "plan list": lambda s: (s.rich_plan, url("pips:plans"))[1],
    "HR review": lambda s: url("pips:hr_review", s.make_plan(s.alex, "pending_hr").pk),
    "plan": lambda s: url("pips:detail", s.rich_plan.pk),
    "templates": lambda s: url("pips:templates"),
    "template form": lambda s: url("pips:template_edit", s.template.pk),
    "template copy": lambda s: url("pips:template_copy", s.template.pk),
    "stats": lambda s: (s.rich_plan, url("pips:stats"))[1],
    "amendment decision": lambda s: url("pips:amendment", s.amendment(submitted=True).pk),
    "outcome decision": lambda s: url("pips:hr_decide", s.referred().pk),
    "cancel": lambda s: url("pips:cancel", s.rich_plan.pk),
    "reassign": lambda s: url("pips:reassign", s.rich_plan.pk),
    "audit trail": lambda s: url("pips:audit", s.rich_plan.pk),
    "notifications": lambda s: (s.rich_plan, url("pips:notifications"))[1],
    "profile": lambda s: url("pips:profile"),
}


def check_page(client, user, address: str) -> list[str]:
    spanish(user)
    client.force_login(user)
    response = client.get(address)
    assert response.status_code == 200, address
    html = response.content.decode()
    assert '<html lang="es">' in html
    return english_left(html)


@pytest.mark.parametrize("name", SUPERVISOR_PAGES)
def test_the_supervisors_page_is_in_spanish(name, client, request, sam):
    address = SUPERVISOR_PAGES[name](Staff(request))
    assert check_page(client, sam, address) == []


@pytest.mark.parametrize("name", HR_PAGES)
def test_the_hr_page_is_in_spanish(name, client, request, harper):
    address = HR_PAGES[name](Staff(request))
    assert check_page(client, harper, address) == []


def test_a_refused_plan_form_shows_its_errors_in_spanish(client, sam, alex):
    """The plan form posted empty: the error summary and every field's error in Spanish."""
    spanish(sam)
    client.force_login(sam)
    response = client.post(url("pips:new", query=f"agent={alex.pk}"), {})
    assert response.status_code == 200
    assert english_left(response.content.decode()) == []
