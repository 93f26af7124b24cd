"""HR's pages: approving or returning a plan with comments, the plan templates, and HR's home
(the approval queue and every plan, filtered)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pips import services
from pips.models import Agent, AuditEvent, Pip, PipTemplate, ScheduleItem, Status, Team
from tests.pips.test_views_authoring import (
    add_row,
    body,
    form_fields,
    row_index,
    set_row,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_client(client, harper):
    client.force_login(harper)
    return client


def review_url(pip: Pip) -> str:
    return f"/pips/{pip.pk}/hr-review/"


# --- approve or return ----------------------------------------------------------------------------


class TestHrReview:
    def test_page_shows_the_plan_the_history_and_the_decision(self, hr_client, alex, make_plan):
        pip = make_plan(alex, "pending_hr")
        response = hr_client.get(review_url(pip))
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        page = body(response)
        assert "2. Performance Expectations" in page and "Your decision" in page
        assert "Submitted to HR" in page and "Approve the plan" in page

    def test_approve(self, hr_client, alex, harper, make_plan):
        pip = make_plan(alex, "pending_hr")
        data = {"decision": "approve", "comment": "Clear and fair."}
        response = hr_client.post(review_url(pip), data, follow=True)
        assert "is approved; Sam Carter can issue it." in body(response)
        pip.refresh_from_db()
        assert pip.status == Status.APPROVED and pip.approved_by == harper
        assert pip.current_version.state == "approved"
        event = pip.events.get(action="approved")
        assert event.actor == harper and event.comment == "Clear and fair."

    def test_return_with_comments_the_supervisor_sees(self, client, alex, harper, make_plan):
        pip = make_plan(alex, "pending_hr")
        client.force_login(harper)
        comment = "The AHT target should be the team's 5:00, not 4:30."
        response = client.post(review_url(pip), {"decision": "return", "comment": comment})
        assert response.status_code == 302 and response["Location"] == "/"
        pip.refresh_from_db()
        assert pip.status == Status.DRAFT and pip.hr_comment == comment
        assert pip.events.get(action="returned").comment == comment
        client.force_login(alex.supervisor)
        assert "not 4:30." in body(client.get(pip.get_absolute_url()))
        assert "not 4:30." in body(client.get(f"/pips/{pip.pk}/edit/"))

    def test_return_needs_a_comment(self, hr_client, alex, make_plan):
        pip = make_plan(alex, "pending_hr")
        response = hr_client.post(review_url(pip), {"decision": "return", "comment": "  "})
        assert response.status_code == 200
        assert response.context["form"].errors["comment"] == [
            "Say what needs to change before returning the plan."
        ]
        pip.refresh_from_db()
        assert pip.status == Status.PENDING_HR and not pip.events.filter(action="returned")

    def test_a_decision_is_required(self, hr_client, alex, make_plan):
        pip = make_plan(alex, "pending_hr")
        response = hr_client.post(review_url(pip), {"comment": "Looks fine"})
        assert response.context["form"].errors["decision"] == ["This field is required."]
        response = hr_client.post(review_url(pip), {"decision": "maybe"})
        assert "Select a valid choice" in response.context["form"].errors["decision"][0]
        assert Pip.objects.get(pk=pip.pk).status == Status.PENDING_HR

    def test_only_a_plan_waiting_for_hr(self, hr_client, alex, make_plan):
        pip = make_plan(alex)
        response = hr_client.post(review_url(pip), {"decision": "approve"}, follow=True)
        assert "is not waiting for HR; it is draft." in body(response)
        assert Pip.objects.get(pk=pip.pk).status == Status.DRAFT
        assert not pip.events.filter(action="approved").exists()

    def test_access(self, client, alex, olivia, make_plan):
        pip = make_plan(alex, "pending_hr")
        url = review_url(pip)
        client.force_login(alex.supervisor)  # sees the plan, does not decide on it
        assert client.get(url).status_code == 403
        assert client.post(url, {"decision": "approve"}).status_code == 403
        client.force_login(olivia)
        assert client.get(url).status_code == 404
        client.force_login(alex.user)
        assert client.get(url).status_code == 404
        assert Pip.objects.get(pk=pip.pk).status == Status.PENDING_HR

    def test_wrong_method(self, hr_client, alex, make_plan):
        pip = make_plan(alex, "pending_hr")
        assert hr_client.put(review_url(pip)).status_code == 405
        assert hr_client.delete(review_url(pip)).status_code == 405

    def test_return_edit_resubmit_keeps_the_history(self, client, alex, harper, kpis, make_plan):
        pip = make_plan(alex, "pending_hr")
        client.force_login(harper)
        client.post(review_url(pip), {"decision": "return", "comment": "Add the FCR target."})
        client.force_login(alex.supervisor)
        data = form_fields(client.get(f"/pips/{pip.pk}/edit/"))
        add_row(
            data,
            "expectations",
            area="First contact resolution",
            kpi=str(kpis["fcr"].pk),
            target="75",
        )
        assert client.post(f"/pips/{pip.pk}/edit/", data).status_code == 302
        assert client.post(f"/pips/{pip.pk}/submit/").status_code == 302
        client.force_login(harper)
        page = body(client.get(review_url(pip)))
        assert page.count("Submitted to HR") == 2 and "Add the FCR target." in page
        client.post(review_url(pip), {"decision": "approve"})
        actions = pip.events.exclude(action="viewed").values_list("action", flat=True)
        assert list(actions) == [
            "created",
            "submitted",
            "returned",
            "edited",
            "submitted",
            "approved",
        ]


# --- templates ------------------------------------------------------------------------------------


class TestTemplates:
    def test_list(self, hr_client, template):
        response = hr_client.get("/pips/templates/")
        assert response.status_code == 200
        page = body(response)
        assert "Contact Center Agent" in page and "default" in page
        assert f"/pips/templates/{template.pk}/edit/" in page

    def test_copy_then_edit(self, hr_client, template, kpis, harper):
        url = f"/pips/templates/{template.pk}/copy/"
        assert form_fields(hr_client.get(url))["name"] == ["Copy of Contact Center Agent"]
        response = hr_client.post(url, {"name": "Chat Agent"})
        copy = PipTemplate.objects.get(name="Chat Agent")
        assert response["Location"] == f"/pips/templates/{copy.pk}/edit/"
        assert copy.expectations.count() == 5 and copy.actions.count() == 5
        assert not copy.is_default and copy.slug == "chat-agent"
        event = AuditEvent.objects.get(action="template_created")
        assert event.actor == harper and event.changes["template_id"] == copy.pk

        edit = f"/pips/templates/{copy.pk}/edit/"
        data = form_fields(hr_client.get(edit))
        data["period_days"] = ["45"]
        data["outcome_failure"] = ["A written warning may follow."]
        aht = row_index(data, "expectations", "area", "AHT (Avg. Handle Time)")
        set_row(data, "expectations", aht, target="6:30")
        data["reasons-0-DELETE"] = ["on"]
        add_row(
            data,
            "actions",
            action="Chat etiquette e-learning",
            responsible="Agent",
            deadline_kind="date",
            within_days="10",
        )
        response = hr_client.post(edit, data)
        assert response.status_code == 302 and response["Location"] == "/pips/templates/"
        copy.refresh_from_db()
        assert copy.period_days == 45 and copy.outcome_failure == "A written warning may follow."
        assert copy.expectations.get(kpi=kpis["aht"]).target == 390.0
        assert copy.reasons.count() == 3
        assert copy.actions.get(action="Chat etiquette e-learning").within_days == 10
        assert AuditEvent.objects.filter(action="template_edited").count() == 1
        # The source is untouched, and supervisors can start from the copy.
        assert template.expectations.get(kpi=kpis["aht"]).target == 300.0

    def test_copy_needs_a_new_name(self, hr_client, template):
        response = hr_client.post(
            f"/pips/templates/{template.pk}/copy/", {"name": "contact center agent"}
        )
        assert response.context["form"].errors["name"] == [
            "A template named “contact center agent” already exists."
        ]
        assert PipTemplate.objects.count() == 1 and not AuditEvent.objects.exists()

    @pytest.mark.parametrize(
        "change, key, message",
        [
            ({"period_days": ["120"]}, "period_days", "The review period must be 14 to 90 days"),
            ({"name": [""]}, "name", "This field is required."),
        ],
    )
    def test_edit_bad_input_saves_nothing(self, hr_client, template, change, key, message):
        edit = f"/pips/templates/{template.pk}/edit/"
        data = form_fields(hr_client.get(edit))
        data.update(change)
        response = hr_client.post(edit, data)
        assert response.status_code == 200 and "The template was not saved." in body(response)
        errors = response.context["page"].forms["template"].errors[key]
        assert errors[0].startswith(message)
        template.refresh_from_db()
        assert template.period_days == 30 and template.name == "Contact Center Agent"
        assert not AuditEvent.objects.exists()

    def test_edit_row_errors(self, hr_client, template):
        edit = f"/pips/templates/{template.pk}/edit/"
        data = form_fields(hr_client.get(edit))
        csat = row_index(data, "expectations", "area", "CSAT Score")
        set_row(data, "expectations", csat, target="180")
        index = add_row(
            data, "actions", action="Side-by-side", responsible="Supervisor", deadline_kind="date"
        )
        response = hr_client.post(edit, data)
        forms = response.context["page"].formsets
        assert list(forms["expectations"].forms[csat].non_field_errors()) == [
            "CSAT Score: the target must be between 0 % and 100 %."
        ]
        assert "Side-by-side: give the number of days from the start." in list(
            forms["actions"].forms[index].non_field_errors()
        )
        assert template.expectations.get(area="CSAT Score").target == 80.0

    def test_deactivate_and_reactivate(self, client, harper, template, sam, alex):
        client.force_login(harper)
        copy = services.template_copy(actor=harper, template=template, name="Chat Agent")
        url = f"/pips/templates/{copy.pk}/active/"
        response = client.post(url, {"active": "0"}, follow=True)
        assert "is deactivated" in body(response)
        copy.refresh_from_db()
        assert not copy.is_active
        assert AuditEvent.objects.filter(action="template_deactivated").count() == 1
        client.force_login(sam)
        assert "Chat Agent" not in body(client.get("/pips/new/"))
        assert client.get(f"/pips/new/?agent={alex.pk}&template={copy.pk}").status_code == 404
        client.force_login(harper)
        client.post(url, {"active": "1"})
        copy.refresh_from_db()
        assert copy.is_active

    def test_the_default_template_stays_active(self, hr_client, template):
        url = f"/pips/templates/{template.pk}/active/"
        response = hr_client.post(url, {"active": "0"}, follow=True)
        assert "The default template cannot be deactivated" in body(response)
        template.refresh_from_db()
        assert template.is_active

    def test_access(self, client, sam, template):
        client.force_login(sam)
        assert client.get("/pips/templates/").status_code == 403
        assert client.get(f"/pips/templates/{template.pk}/edit/").status_code == 403
        assert client.post(f"/pips/templates/{template.pk}/copy/", {"name": "X"}).status_code == 403
        assert client.post(f"/pips/templates/{template.pk}/active/").status_code == 403
        client.logout()
        assert client.get("/pips/templates/").status_code == 302

    def test_wrong_method(self, hr_client, template):
        assert hr_client.post("/pips/templates/").status_code == 405
        assert hr_client.get(f"/pips/templates/{template.pk}/active/").status_code == 405
        assert hr_client.put(f"/pips/templates/{template.pk}/edit/").status_code == 405
        assert hr_client.get("/pips/templates/999/edit/").status_code == 404


# --- HR's home ------------------------------------------------------------------------------------


def home_plans(response) -> list[str]:
    return [pip.reference for pip, _ in response.context["all_plans"]]


class TestHrHome:
    def test_approval_queue_oldest_first(self, hr_client, alex, billing, sam, make_plan):
        jordan = Agent.objects.create(
            employee_id="E1002", full_name="Jordan Patel", team=billing, supervisor=sam
        )
        first = make_plan(alex, "pending_hr")
        second = make_plan(jordan, "pending_hr")
        Pip.objects.filter(pk=second.pk).update(submitted_at=timezone.now() - dt.timedelta(days=2))
        response = hr_client.get("/")
        queue = [pip.reference for pip, _ in response.context["queue"]]
        assert queue == [second.reference, first.reference]
        assert f"/pips/{second.pk}/hr-review/" in body(response)

    def test_an_administrator_sees_the_lists_but_does_not_decide(
        self, client, admin_user, alex, make_plan
    ):
        pip = make_plan(alex, "pending_hr")
        client.force_login(admin_user)
        page = body(client.get("/"))
        assert pip.reference in page and "Approval queue" in page
        assert "/hr-review/" not in page and "/pips/templates/" not in page
        assert client.get(review_url(pip)).status_code == 403

    def test_filters(self, hr_client, alex, blake, harper, olivia, sam, make_plan):
        draft = make_plan(alex)
        issued = make_plan(blake, "issued", hr=harper)

        def listed(query: str) -> list[str]:
            return home_plans(hr_client.get("/?" + query))

        assert set(listed("")) == {draft.reference, issued.reference}
        assert listed("status=draft") == [draft.reference]
        assert listed(f"team={Team.objects.get(name='Retention').pk}") == [issued.reference]
        assert listed(f"supervisor={sam.pk}") == [draft.reference]
        assert listed("overdue=on") == []
        Pip.objects.filter(pk=issued.pk).update(ack_due_at=timezone.now() - dt.timedelta(hours=1))
        assert listed("overdue=on") == [issued.reference]
        # A bad filter value is a message on the filter, not a 500.
        response = hr_client.get("/?team=abc")
        assert response.status_code == 200 and response.context["filter_form"].errors

    def test_overdue_check_in(self, hr_client, alex, harper, make_plan):
        pip = make_plan(alex, "active", hr=harper)
        assert home_plans(hr_client.get("/?overdue=on")) == []
        first = ScheduleItem.objects.filter(pip=pip).order_by("due_at").first()
        ScheduleItem.objects.filter(pk=first.pk).update(
            due_on=timezone.localdate() - dt.timedelta(days=2)
        )
        response = hr_client.get("/?overdue=on")
        assert home_plans(response) == [pip.reference]
        assert "(overdue)" in body(response)

    def test_pages(self, hr_client, alex, billing, sam, make_plan):
        for i in range(52):
            agent = Agent.objects.create(
                employee_id=f"P{i:03d}", full_name=f"Agent {i}", team=billing, supervisor=sam
            )
            Pip.objects.create(agent=agent, supervisor=sam, created_by=sam)
        first = hr_client.get("/")
        assert len(first.context["all_plans"]) == 50 and first.context["has_next"]
        second = hr_client.get("/?page=2")
        assert len(second.context["all_plans"]) == 2 and not second.context["has_next"]
        assert hr_client.get("/?page=x").status_code == 200

    def test_home_queries_constant_at_5_and_50_plans(
        self, hr_client, billing, sam, harper, make_plan
    ):
        def add(n, start):
            for i in range(start, start + n):
                agent = Agent.objects.create(
                    employee_id=f"H{i:04d}", full_name=f"Agent {i}", team=billing, supervisor=sam
                )
                make_plan(agent, ["draft", "pending_hr", "approved", "issued"][i % 4], hr=harper)

        def count(url):
            with CaptureQueriesContext(connection) as ctx:
                assert hr_client.get(url).status_code == 200
            return len(ctx.captured_queries)

        add(5, 0)
        plain, filtered = count("/"), count(f"/?team={billing.pk}&supervisor={sam.pk}&overdue=on")
        add(45, 5)
        assert count("/") == plain
        assert count(f"/?team={billing.pk}&supervisor={sam.pk}&overdue=on") == filtered
