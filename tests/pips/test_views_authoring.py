"""Supervisors draft plans in the browser: the new-plan page, editing drafts and amendments,
preview, submit to HR, issue; and the supervisor's and agent's home pages.

Each test posts what the page itself offers (its inputs parsed the way a browser submits them),
changed only where the test says so."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics import rollups
from metrics.models import Sample
from pips import services
from pips.models import (
    Agent,
    AuditEvent,
    Pip,
    PipTemplate,
    PipVersion,
    SignerRole,
    Status,
    TemplateAction,
    TemplateExpectation,
)
from tests.conftest import plan_content

pytestmark = pytest.mark.django_db


# --- a browser's view of a form -------------------------------------------------------------------


class _Forms(HTMLParser):
    """Every form on a page as the browser would submit it: disabled inputs, unticked boxes and
    the rows inside <template> (the JavaScript's blank row) are left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, list[str]]] = []
        self._form: dict[str, list[str]] | None = None
        self._template = 0
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def _add(self, name: str, value: str) -> None:
        if self._form is not None and not self._template:
            self._form.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._template += 1
        elif tag == "form":
            self._form = {}
            self.forms.append(self._form)
        elif "disabled" in a or not a.get("name") and tag != "option":
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button") or (
                kind in ("checkbox", "radio") and "checked" not in a
            ):
                return
            self._add(a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else ""))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "template":
            self._template -= 1
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [self._options[0][0]]
            self._add(self._select, chosen[0])
            self._select = None
        elif tag == "textarea" and self._textarea:
            self._add(self._textarea, self._text.removeprefix("\n"))
            self._textarea = None


def form_fields(response) -> dict[str, list[str]]:
    """The page's main form (the one with the most inputs)."""
    parser = _Forms()
    parser.feed(response.content.decode())
    return max(parser.forms, key=len)


def set_row(data: dict, prefix: str, index: int, **values) -> None:
    for name, value in values.items():
        data[f"{prefix}-{index}-{name}"] = value if isinstance(value, list) else [value]


def add_row(data: dict, prefix: str, **values) -> int:
    """Fill the blank row at the end (the one the page offers without JavaScript)."""
    index = int(data[f"{prefix}-TOTAL_FORMS"][0]) - 1
    set_row(data, prefix, index, **values)
    return index


def delete_all(data: dict, prefix: str) -> None:
    for index in range(int(data[f"{prefix}-TOTAL_FORMS"][0])):
        data[f"{prefix}-{index}-DELETE"] = ["on"]


def row_index(data: dict, prefix: str, field: str, value: str) -> int:
    for index in range(int(data[f"{prefix}-TOTAL_FORMS"][0])):
        if data.get(f"{prefix}-{index}-{field}") == [value]:
            return index
    raise AssertionError(f"no {prefix} row with {field}={value}")


def body(response) -> str:
    return response.content.decode()


def iso(day: dt.date) -> str:
    return day.isoformat()


def add_samples(employee_id: str, kpi, value: float, days: int = 30, weight: float = 10) -> None:
    today = timezone.localdate()
    Sample.objects.bulk_create(
        Sample(
            employee_id=employee_id,
            kpi=kpi,
            date=today - dt.timedelta(days=n),
            value=value,
            weight=weight,
        )
        for n in range(1, days + 1)
    )
    rollups.rebuild()  # written beside the loader: the weekly totals too


def nothing_saved(agent: Agent) -> bool:
    return not Pip.objects.filter(agent=agent).exists() and not AuditEvent.objects.exists()


@pytest.fixture
def new_url(alex):
    return f"/pips/new/?agent={alex.pk}"


@pytest.fixture
def sam_client(client, sam):
    client.force_login(sam)
    return client


@pytest.fixture
def new_form(sam_client, new_url):
    return form_fields(sam_client.get(new_url))


# --- new plan: choosing the agent and template ----------------------------------------------------


class TestNewPlanPick:
    def test_lists_only_own_agents_and_active_templates(self, sam_client, alex, blake, template):
        PipTemplate.objects.create(name="Retired", slug="retired", is_active=False)
        response = sam_client.get("/pips/new/")
        assert response.status_code == 200
        page = body(response)
        assert "Alex Rivera (E1001)" in page and "Blake Moreau" not in page
        assert "Contact Center Agent" in page and "Retired" not in page

    def test_another_template_can_be_chosen(self, sam_client, alex, template, new_url):
        page = body(sam_client.get(new_url))
        link = f"/pips/new/?agent={alex.pk}&amp;template={template.pk}&amp;choose=1"
        assert link in page
        picker = form_fields(sam_client.get(link.replace("&amp;", "&")))
        assert picker == {"agent": [str(alex.pk)], "template": [str(template.pk)]}

    def test_an_agent_with_an_open_plan_is_sent_to_it(self, sam_client, alex, new_url, make_plan):
        pip = make_plan(alex)
        page = body(sam_client.get(new_url))
        assert "already has an open plan" in page and pip.reference in page
        assert 'name="period_start"' not in page

    @pytest.mark.parametrize("who", ["harper", "alex"])
    def test_only_supervisors_draft(self, client, harper, alex, new_url, who):
        client.force_login({"harper": harper, "alex": alex.user}[who])
        assert client.get("/pips/new/").status_code == 403
        assert client.get(new_url).status_code == 403

    def test_another_teams_agent_is_404(self, client, olivia, alex, blake, new_url, sam):
        client.force_login(olivia)
        assert client.get(new_url).status_code == 404
        client.force_login(sam)
        assert client.get(f"/pips/new/?agent={blake.pk}").status_code == 404
        assert client.get("/pips/new/?agent=abc").status_code == 404
        assert client.get(f"/pips/new/?agent={alex.pk}&template=999").status_code == 404

    def test_wrong_method(self, sam_client, new_url):
        assert sam_client.put(new_url).status_code == 405
        assert sam_client.delete("/pips/new/").status_code == 405

    def test_login_required(self, client, new_url):
        response = client.get(new_url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- new plan: the form ---------------------------------------------------------------------------


class TestNewPlanForm:
    def test_every_section_in_the_templates_order(self, sam_client, new_url):
        page = body(sam_client.get(new_url))
        headings = [
            "Employee and review period",
            "1. Reason for Performance Improvement Plan",
            "2. Performance Expectations",
            "3. Improvement Action Plan",
            "4. Monitoring and Evaluation",
            "5. Expected Outcomes &amp; Consequences",
            "6. Acknowledgment",
        ]
        positions = [page.index(h) for h in headings]
        assert positions == sorted(positions)

    def test_prefilled_from_the_agent_and_the_template(self, sam_client, new_url, new_form):
        page = body(sam_client.get(new_url))
        # Employee fields are read-only: shown, disabled, never posted.
        assert 'value="Alex Rivera"' in page and 'value="E1001"' in page
        assert "employee_name" not in new_form and "employee_id" not in new_form
        start = dt.date.fromisoformat(new_form["period_start"][0])
        end = dt.date.fromisoformat(new_form["period_end"][0])
        assert start == timezone.localdate() and (end - start).days == 30
        assert new_form["outcome_success"] == [
            "PIP will be closed, and the employee will return to regular performance monitoring."
        ]
        aht = row_index(new_form, "expectations", "area", "AHT (Avg. Handle Time)")
        assert new_form[f"expectations-{aht}-target"] == ["5:00"]
        qa = row_index(new_form, "expectations", "area", "QA Score")
        assert new_form[f"expectations-{qa}-target"] == ["85"]
        assert new_form["expectations-TOTAL_FORMS"] == ["6"]  # five rows and a blank one
        coaching = row_index(
            new_form, "actions", "action", "One-on-one coaching sessions (twice weekly)"
        )
        assert new_form[f"actions-{coaching}-recurrence_weekdays"] == ["1", "4"]

    def test_current_performance_from_the_agents_data(self, sam_client, alex, kpis, new_url):
        add_samples("E1001", kpis["qa_score"], 70)
        add_samples("E1001", kpis["aht"], 420)
        page = body(sam_client.get(new_url))
        assert 'value="70 %"' in page and 'value="7:00"' in page
        end = timezone.localdate() - dt.timedelta(days=1)
        start = end - dt.timedelta(days=29)
        assert f"Last 30 days: {start:%d %b} – {end:%d %b %Y}" in page
        # A KPI without data says so plainly.
        assert 'value="no data"' in page

    def test_save_as_draft(self, sam_client, alex, kpis, new_url, new_form):
        add_samples("E1001", kpis["qa_score"], 70)
        data = dict(new_form)
        data["description"] = ["QA and AHT have been below standard since March."]
        add_row(
            data,
            "expectations",
            area="First contact resolution",
            kpi=str(kpis["fcr"].pk),
            comparator="gte",
            target="75",
            improvement_needed="Resolve on first contact",
        )
        add_row(
            data,
            "actions",
            action="Review three recorded calls with QA",
            responsible="QA analyst",
            deadline_kind="recurring",
            recurrence_weekdays=["2"],
            deadline_text="Every Wednesday",
        )
        response = sam_client.post(new_url, data)
        pip = Pip.objects.get(agent=alex)
        assert response.status_code == 302 and response["Location"] == pip.get_absolute_url()
        assert pip.status == Status.DRAFT and pip.supervisor == pip.created_by
        version = pip.current_version
        assert version.description == "QA and AHT have been below standard since March."
        assert [e.area for e in version.expectations.all()][-1] == "First contact resolution"
        assert version.expectations.count() == 6 and version.actions.count() == 6
        aht = version.expectations.get(kpi=kpis["aht"])
        assert aht.target == 300.0 and aht.comparator == "lte"
        qa = version.expectations.get(kpi=kpis["qa_score"])
        assert qa.baseline_value == 70.0 and qa.baseline_source.startswith("KPI data")
        review = version.actions.get(action="Review three recorded calls with QA")
        assert review.recurrence_weekdays == [2] and review.deadline_display() == "Every Wednesday"
        event = AuditEvent.objects.get(pip=pip)
        assert event.action == "created" and event.actor.username == "sam"
        assert event.ip_address == "127.0.0.1"

    def test_removing_rows(self, sam_client, alex, new_url, new_form):
        data = dict(new_form)
        wrapup = row_index(data, "expectations", "area", "Call Wrap-Up Notes")
        data[f"expectations-{wrapup}-DELETE"] = ["on"]
        assert sam_client.post(new_url, data).status_code == 302
        areas = [e.area for e in Pip.objects.get(agent=alex).current_version.expectations.all()]
        assert "Call Wrap-Up Notes" not in areas and len(areas) == 4

    def test_adding_a_row_without_javascript_saves_nothing(
        self, sam_client, alex, new_url, new_form
    ):
        data = dict(new_form, add_row=["expectations"])
        response = sam_client.post(new_url, data)
        assert response.status_code == 200
        assert form_fields(response)["expectations-TOTAL_FORMS"] == ["7"]
        assert nothing_saved(alex)

    def test_the_issue_is_escaped(self, sam_client, alex, new_url, new_form, harper):
        data = dict(new_form, description=["<script>alert(1)</script>"])
        sam_client.post(new_url, data)
        pip = Pip.objects.get(agent=alex)
        page = body(sam_client.get(f"/pips/{pip.pk}/preview/"))
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def post_invalid(client, url, data, agent):
    response = client.post(url, data)
    assert response.status_code == 200
    assert "The plan was not saved." in body(response)
    assert nothing_saved(agent)
    return response


def row_errors(response, prefix: str, index: int) -> list[str]:
    """The messages on a row, counted among the rows saved (not deleted, not blank)."""
    return list(response.context["page"].rows(prefix)[index].non_field_errors())


def field_errors(response, form: str, field: str) -> list[str]:
    return list(response.context["page"].forms[form].errors.get(field, []))


class TestNewPlanValidation:
    """Each rule of a plan, with its message on the field or row, and nothing saved."""

    def test_end_after_start(self, sam_client, alex, new_url, new_form):
        data = dict(new_form, period_end=new_form["period_start"])
        response = post_invalid(sam_client, new_url, data, alex)
        assert field_errors(response, "header", "period_end") == [
            "The review period must end after it starts."
        ]

    @pytest.mark.parametrize("days", [10, 100])
    def test_period_within_14_to_90_days(self, sam_client, alex, new_url, new_form, days):
        start = timezone.localdate()
        end = start + dt.timedelta(days=days)
        data = dict(new_form, period_end=[iso(end)], final_review_date=[iso(end)])
        if days > 30:
            data["midpoint_date"] = [iso(start + dt.timedelta(days=days // 2))]
        response = post_invalid(sam_client, new_url, data, alex)
        assert field_errors(response, "header", "period_end") == [
            f"The review period must be 14 to 90 days long; this one is {days}."
        ]

    def test_midpoint_required_over_30_days(self, sam_client, alex, new_url, new_form):
        end = timezone.localdate() + dt.timedelta(days=45)
        data = dict(new_form, period_end=[iso(end)], midpoint_date=[""], final_review_date=[""])
        response = post_invalid(sam_client, new_url, data, alex)
        assert field_errors(response, "monitoring", "midpoint_date") == [
            "A period over 30 days needs a midpoint review date."
        ]

    def test_midpoint_inside_the_period(self, sam_client, alex, new_url, new_form):
        outside = timezone.localdate() + dt.timedelta(days=40)
        data = dict(new_form, midpoint_date=[iso(outside)])
        response = post_invalid(sam_client, new_url, data, alex)
        assert field_errors(response, "monitoring", "midpoint_date") == [
            "The midpoint review must fall inside the review period."
        ]

    def test_final_review_inside_the_period(self, sam_client, alex, new_url, new_form):
        data = dict(new_form, final_review_date=[iso(timezone.localdate() + dt.timedelta(days=60))])
        response = post_invalid(sam_client, new_url, data, alex)
        assert field_errors(response, "monitoring", "final_review_date") == [
            "The final review must fall inside the review period."
        ]

    def test_target_already_met(self, sam_client, alex, kpis, new_url, new_form):
        add_samples("E1001", kpis["qa_score"], 90)
        response = post_invalid(sam_client, new_url, dict(new_form), alex)
        qa = row_index(new_form, "expectations", "area", "QA Score")
        assert row_errors(response, "expectations", qa) == [
            "QA Score: the current value 90 % already meets the target 85 %."
        ]
        assert "QA Score: the current value 90 % already meets the target 85 %." in body(response)

    def test_percentage_target_within_0_to_100(self, sam_client, alex, new_url, new_form):
        data = dict(new_form)
        csat = row_index(data, "expectations", "area", "CSAT Score")
        set_row(data, "expectations", csat, target="120")
        response = post_invalid(sam_client, new_url, data, alex)
        assert row_errors(response, "expectations", csat) == [
            "CSAT Score: the target must be between 0 % and 100 %."
        ]

    def test_aht_target_a_positive_duration(self, sam_client, alex, new_url, new_form):
        data = dict(new_form)
        aht = row_index(data, "expectations", "area", "AHT (Avg. Handle Time)")
        set_row(data, "expectations", aht, target="0:00")
        response = post_invalid(sam_client, new_url, data, alex)
        assert row_errors(response, "expectations", aht) == [
            "AHT (Avg. Handle Time): the target must be a positive duration."
        ]

    def test_aht_target_typed_as_m_ss(self, sam_client, alex, new_url, new_form):
        data = dict(new_form)
        aht = row_index(data, "expectations", "area", "AHT (Avg. Handle Time)")
        set_row(data, "expectations", aht, target="300")
        response = post_invalid(sam_client, new_url, data, alex)
        errors = response.context["page"].formsets["expectations"].forms[aht].errors
        assert errors["target"] == ["Type the duration as m:ss, for example 5:00."]

    def test_row_errors_land_on_the_right_row_after_a_removal(
        self, sam_client, alex, new_url, new_form
    ):
        data = dict(new_form)
        data["expectations-0-DELETE"] = ["on"]  # QA Score
        csat = row_index(data, "expectations", "area", "CSAT Score")
        set_row(data, "expectations", csat, target="120")
        response = post_invalid(sam_client, new_url, data, alex)
        forms = response.context["page"].formsets["expectations"].forms
        assert list(forms[csat].non_field_errors()) == [
            "CSAT Score: the target must be between 0 % and 100 %."
        ]
        assert not [f for i, f in enumerate(forms) if i != csat and f.non_field_errors()]

    def test_at_least_one_expectation(self, sam_client, alex, new_url, new_form):
        data = dict(new_form)
        delete_all(data, "expectations")
        response = post_invalid(sam_client, new_url, data, alex)
        assert "Add at least one expectation." in body(response)

    def test_at_least_one_action(self, sam_client, alex, new_url, new_form):
        data = dict(new_form)
        delete_all(data, "actions")
        response = post_invalid(sam_client, new_url, data, alex)
        assert "Add at least one action item." in body(response)

    def test_action_deadline_inside_the_period(self, sam_client, alex, new_url, new_form):
        data = dict(new_form)
        training = row_index(
            data, "actions", "action", "Attend refresher training on call etiquette"
        )
        set_row(
            data,
            "actions",
            training,
            deadline_date=iso(timezone.localdate() + dt.timedelta(days=50)),
        )
        response = post_invalid(sam_client, new_url, data, alex)
        assert row_errors(response, "actions", training) == [
            "Attend refresher training on call etiquette: the deadline must fall inside the "
            "review period."
        ]

    def test_no_second_open_plan(self, sam_client, alex, new_url, new_form, template):
        services.pip_create(actor=alex.supervisor, agent=alex, content=plan_content(template))
        before = AuditEvent.objects.count()
        response = sam_client.post(new_url, dict(new_form))
        assert response.status_code == 200
        assert "Alex Rivera already has an open plan; finish or cancel it first." in body(response)
        assert Pip.objects.filter(agent=alex).count() == 1
        assert AuditEvent.objects.count() == before

    def test_a_missing_required_field(self, sam_client, alex, new_url, new_form):
        data = dict(new_form, period_start=[""])
        response = post_invalid(sam_client, new_url, data, alex)
        assert field_errors(response, "header", "period_start") == ["This field is required."]

    def test_a_tampered_formset_is_a_message_not_a_500(self, sam_client, alex, new_url, new_form):
        data = {k: v for k, v in new_form.items() if not k.startswith("actions-")}
        response = post_invalid(sam_client, new_url, data, alex)
        assert "ManagementForm data is missing or has been tampered with" in body(response)


# --- editing a draft ------------------------------------------------------------------------------


class TestEditDraft:
    def test_edit_and_save(self, sam_client, alex, make_plan):
        pip = make_plan(alex)
        url = f"/pips/{pip.pk}/edit/"
        data = form_fields(sam_client.get(url))
        assert data["description"] == ["QA and AHT have been below standard for three months."]
        data["description"] = ["Updated after the team meeting."]
        wrapup = row_index(data, "expectations", "area", "Call Wrap-Up Notes")
        lineage = data[f"expectations-{wrapup}-lineage"][0]
        set_row(data, "expectations", wrapup, standard_text="100% complete, every contact")
        response = sam_client.post(url, data)
        assert response.status_code == 302 and response["Location"] == pip.get_absolute_url()
        version = PipVersion.objects.get(pk=pip.current_version_id)
        assert version.description == "Updated after the team meeting."
        row = version.expectations.get(area="Call Wrap-Up Notes")
        assert row.standard_text == "100% complete, every contact" and str(row.lineage) == lineage
        assert list(pip.events.values_list("action", flat=True)) == ["created", "edited"]

    def test_invalid_edit_saves_nothing(self, sam_client, alex, make_plan):
        pip = make_plan(alex)
        url = f"/pips/{pip.pk}/edit/"
        data = form_fields(sam_client.get(url))
        delete_all(data, "actions")
        data["description"] = ["Should not be saved."]
        response = sam_client.post(url, data)
        assert response.status_code == 200 and "Add at least one action item." in body(response)
        version = PipVersion.objects.get(pk=pip.current_version_id)
        assert version.description != "Should not be saved." and version.actions.count() == 5
        assert list(pip.events.values_list("action", flat=True)) == ["created"]

    def test_hrs_comments_shown_on_the_returned_draft(self, sam_client, alex, harper, make_plan):
        pip = make_plan(alex, "pending_hr", hr=harper)
        services.pip_return(actor=harper, pip=pip, comment="Tie the AHT target to the team's.")
        page = body(sam_client.get(f"/pips/{pip.pk}/edit/"))
        assert "HR returned this plan:" in page and "Tie the AHT target to the team" in page
        assert "History of submissions and comments" in page

    def test_not_editable_once_submitted(self, sam_client, alex, harper, make_plan):
        pip = make_plan(alex, "pending_hr", hr=harper)
        response = sam_client.get(f"/pips/{pip.pk}/edit/")
        assert response.status_code == 302 and response["Location"] == pip.get_absolute_url()
        response = sam_client.post(f"/pips/{pip.pk}/edit/", {}, follow=True)
        assert "its content cannot be edited now" in body(response)
        actions = pip.events.exclude(action="viewed").values_list("action", flat=True)
        assert list(actions) == ["created", "submitted"]

    def test_access(self, client, alex, harper, olivia, make_plan):
        pip = make_plan(alex)
        url = f"/pips/{pip.pk}/edit/"
        client.force_login(olivia)
        assert client.get(url).status_code == 404
        client.force_login(alex.user)  # the agent does not see drafts at all
        assert client.get(url).status_code == 404
        client.force_login(harper)  # HR sees the plan but does not write it
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
        client.force_login(alex.supervisor)
        assert client.put(url).status_code == 405

    def test_amendment_draft(self, sam_client, alex, harper, kpis, make_plan):
        add_samples("E1001", kpis["qa_score"], 70)
        pip = make_plan(alex, "active", hr=harper, days=45)
        first = pip.current_version
        qa_before = first.expectations.get(kpi=kpis["qa_score"])
        services.amendment_start(
            actor=alex.supervisor, pip=pip, change_summary="Extend by two weeks"
        )
        Sample.objects.all().delete()  # the data moves on; the amendment keeps the first baseline
        rollups.rebuild()
        url = f"/pips/{pip.pk}/edit/"
        page = sam_client.get(url)
        assert "Amendment to version 1" in body(page)
        data = form_fields(page)
        assert data["change_summary"] == ["Extend by two weeks"]
        data["change_summary"] = ["Extend by two weeks: AHT training moved."]
        response = sam_client.post(url, data)
        assert response.status_code == 302
        draft = pip.versions.get(number=2)
        assert draft.state == "draft" and draft.change_summary.endswith("AHT training moved.")
        qa = draft.expectations.get(kpi=kpis["qa_score"])
        assert qa.lineage == qa_before.lineage and qa.baseline_value == 70.0
        assert pip.events.filter(action="edited", version=draft).exists()
        # Submitting sends the amendment to HR; the plan stays running.
        response = sam_client.post(f"/pips/{pip.pk}/submit/")
        assert response.status_code == 302
        assert pip.versions.get(number=2).state == "pending_hr"
        assert Pip.objects.get(pk=pip.pk).status == Status.ACTIVE
        assert pip.events.filter(action="amendment_submitted").exists()


# --- preview --------------------------------------------------------------------------------------


class TestPreview:
    def test_owner_sees_it_as_the_agent_will(self, sam_client, alex, make_plan):
        pip = make_plan(alex)
        response = sam_client.get(f"/pips/{pip.pk}/preview/")
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        page = body(response)
        assert "This is how Alex Rivera will see the plan once it is issued" in page
        assert "2. Performance Expectations" in page and "6. Acknowledgment" in page
        assert "Timeline" not in page and "Submit to HR" not in page
        assert pip.events.filter(action="viewed", actor=alex.supervisor).exists()

    def test_access(self, client, alex, harper, olivia, admin_user, make_plan):
        pip = make_plan(alex)
        url = f"/pips/{pip.pk}/preview/"
        client.force_login(harper)
        assert client.get(url).status_code == 200
        client.force_login(admin_user)  # sees every plan, is not HR nor its supervisor
        assert client.get(url).status_code == 403
        client.force_login(olivia)
        assert client.get(url).status_code == 404
        client.force_login(alex.user)
        assert client.get(url).status_code == 404
        client.force_login(alex.supervisor)
        assert client.post(url).status_code == 405


# --- submit to HR ---------------------------------------------------------------------------------


class TestSubmit:
    def test_confirm_then_submit(self, sam_client, alex, make_plan):
        pip = make_plan(alex)
        url = f"/pips/{pip.pk}/submit/"
        page = body(sam_client.get(url))
        assert "Submit PIP-" in page and 'method="post"' in page
        assert Pip.objects.get(pk=pip.pk).status == Status.DRAFT  # a GET changes nothing
        response = sam_client.post(url, follow=True)
        pip.refresh_from_db()
        assert pip.status == Status.PENDING_HR and pip.submitted_at is not None
        assert "was submitted to HR for approval" in body(response)
        event = pip.events.get(action="submitted")
        assert event.actor == alex.supervisor and event.to_status == Status.PENDING_HR

    def test_content_invalid_at_submission(self, sam_client, alex, make_plan):
        pip = make_plan(alex)
        pip.current_version.actions.all().delete()
        response = sam_client.post(f"/pips/{pip.pk}/submit/", follow=True)
        assert "The plan was not submitted: Add at least one action item." in body(response)
        assert Pip.objects.get(pk=pip.pk).status == Status.DRAFT
        assert not pip.events.filter(action="submitted").exists()

    def test_only_a_draft(self, sam_client, alex, harper, make_plan):
        pip = make_plan(alex, "pending_hr", hr=harper)
        response = sam_client.post(f"/pips/{pip.pk}/submit/", follow=True)
        assert "there is no draft to submit" in body(response)
        assert pip.events.filter(action="submitted").count() == 1

    def test_access(self, client, alex, harper, olivia, make_plan):
        pip = make_plan(alex)
        url = f"/pips/{pip.pk}/submit/"
        client.force_login(olivia)
        assert client.post(url).status_code == 404
        client.force_login(harper)
        assert client.post(url).status_code == 403
        client.force_login(alex.supervisor)
        assert client.put(url).status_code == 405
        assert Pip.objects.get(pk=pip.pk).status == Status.DRAFT


# --- issue ----------------------------------------------------------------------------------------


def issue_data(**overrides) -> dict:
    data = {
        "meeting_held_on": iso(timezone.localdate()),
        "typed_name": "Sam Carter",
        "consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


class TestIssue:
    def test_page_shows_the_consent_and_the_signature_fields(
        self, sam_client, alex, harper, make_plan
    ):
        pip = make_plan(alex, "approved", hr=harper)
        page = body(sam_client.get(f"/pips/{pip.pk}/issue/"))
        assert str(services.CONSENT_TEXT) in page
        assert 'name="typed_name"' in page and 'name="consent"' in page
        assert (
            'name="image"' in page
            and "Manager&#x27;s signature" in page
            or "Manager's signature" in page
        )

    def test_issue(self, sam_client, alex, harper, make_plan, django_capture_on_commit_callbacks):
        pip = make_plan(alex, "approved", hr=harper)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = sam_client.post(f"/pips/{pip.pk}/issue/", issue_data(), follow=True)
        assert "is issued. Alex Rivera has been asked to read and sign it." in body(response)
        pip.refresh_from_db()
        assert pip.status == Status.ISSUED and pip.meeting_held_on == timezone.localdate()
        version = pip.current_version
        assert version.state == "issued" and version.content_sha256
        signature = version.signatures.get()
        assert signature.role == SignerRole.MANAGER and signature.typed_name == "Sam Carter"
        assert signature.consent_text == str(services.CONSENT_TEXT)
        assert signature.ip_address == "127.0.0.1"
        assert [e.action for e in pip.events.exclude(action="viewed")][-2:] == ["issued", "signed"]
        assert [m.to for m in mail.outbox] == [["alex@example.com"]]

    @pytest.mark.parametrize(
        "overrides, field, message",
        [
            (
                {"typed_name": "Sam"},
                "typed_name",
                "Type your full name exactly as your account holds it: “Sam Carter”.",
            ),
            ({"consent": None}, "consent", "Tick the box to agree to sign electronically."),
            (
                {"meeting_held_on": iso(timezone.localdate() + dt.timedelta(days=2))},
                "meeting_held_on",
                "The meeting date cannot be in the future.",
            ),
            ({"meeting_held_on": ""}, "meeting_held_on", "This field is required."),
            (
                {"image": "data:image/gif;base64,AAAA"},
                "image",
                "The drawn signature was not a PNG image.",
            ),
        ],
    )
    def test_bad_input(self, sam_client, alex, harper, make_plan, overrides, field, message):
        pip = make_plan(alex, "approved", hr=harper)
        before = pip.events.count()
        response = sam_client.post(f"/pips/{pip.pk}/issue/", issue_data(**overrides))
        assert response.status_code == 200
        assert response.context["form"].errors[field] == [message]
        pip.refresh_from_db()
        assert pip.status == Status.APPROVED and not pip.current_version.signatures.exists()
        assert pip.current_version.state == "approved" and pip.events.count() == before

    def test_only_an_approved_plan(self, sam_client, alex, make_plan):
        pip = make_plan(alex)
        response = sam_client.get(f"/pips/{pip.pk}/issue/", follow=True)
        assert "Only a plan approved by HR can be issued" in body(response)
        sam_client.post(f"/pips/{pip.pk}/issue/", issue_data())
        assert Pip.objects.get(pk=pip.pk).status == Status.DRAFT

    def test_access(self, client, alex, harper, olivia, make_plan):
        pip = make_plan(alex, "approved", hr=harper)
        url = f"/pips/{pip.pk}/issue/"
        client.force_login(olivia)
        assert client.post(url, issue_data()).status_code == 404
        client.force_login(alex.user)
        assert client.get(url).status_code == 404
        client.force_login(harper)
        assert client.post(url, issue_data(typed_name="Harper Lee")).status_code == 403
        client.force_login(alex.supervisor)
        assert client.delete(url).status_code == 405
        assert Pip.objects.get(pk=pip.pk).status == Status.APPROVED


# --- the plan page's buttons ----------------------------------------------------------------------


class TestPlanPageActions:
    def test_owner_of_a_draft(self, sam_client, alex, make_plan):
        pip = make_plan(alex)
        page = body(sam_client.get(pip.get_absolute_url()))
        for url in ("edit", "preview", "submit"):
            assert f'href="/pips/{pip.pk}/{url}/"' in page
        assert f"/pips/{pip.pk}/hr-review/" not in page and f"/pips/{pip.pk}/issue/" not in page

    def test_hr_on_a_pending_plan_and_owner_on_an_approved_one(
        self, client, alex, harper, make_plan
    ):
        pip = make_plan(alex, "pending_hr", hr=harper)
        client.force_login(harper)
        page = body(client.get(pip.get_absolute_url()))
        assert f'href="/pips/{pip.pk}/hr-review/"' in page
        assert f"/pips/{pip.pk}/edit/" not in page
        services.pip_approve(actor=harper, pip=pip)
        client.force_login(alex.supervisor)
        page = body(client.get(pip.get_absolute_url()))
        assert f'href="/pips/{pip.pk}/issue/"' in page and f"/pips/{pip.pk}/edit/" not in page


# --- constant queries -----------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def add_agents(n: int, team, supervisor, kpis, start: int = 0) -> list[Agent]:
    agents = [
        Agent.objects.create(
            employee_id=f"T{i:04d}", full_name=f"Agent {i:04d}", team=team, supervisor=supervisor
        )
        for i in range(start, start + n)
    ]
    for agent in agents:
        add_samples(agent.employee_id, kpis["qa_score"], 80, days=5)
        add_samples(agent.employee_id, kpis["aht"], 330, days=5)
    return agents


def template_with_rows(n: int, kpis) -> PipTemplate:
    template = PipTemplate.objects.create(name=f"Wide {n}", slug=f"wide-{n}", period_days=30)
    TemplateExpectation.objects.bulk_create(
        TemplateExpectation(
            template=template,
            area=f"Area {i}",
            kpi=kpis["csat"] if i % 2 else None,
            comparator="gte" if i % 2 else "",
            target=80.0 if i % 2 else None,
            standard_text="" if i % 2 else "Always",
            position=i,
        )
        for i in range(n)
    )
    TemplateAction.objects.bulk_create(
        TemplateAction(
            template=template,
            action=f"Action {i}",
            responsible="Supervisor",
            deadline_kind="ongoing",
            position=i,
        )
        for i in range(n)
    )
    return template


class TestConstantQueries:
    def test_new_plan_page_at_5_and_50_agents_and_rows(self, sam_client, sam, alex, billing, kpis):
        add_agents(5, billing, sam, kpis)
        small = template_with_rows(5, kpis)
        at_5 = count_queries(sam_client, f"/pips/new/?agent={alex.pk}&template={small.pk}")
        pick_5 = count_queries(sam_client, "/pips/new/")
        add_agents(45, billing, sam, kpis, start=5)
        large = template_with_rows(50, kpis)
        at_50 = count_queries(sam_client, f"/pips/new/?agent={alex.pk}&template={large.pk}")
        assert at_50 == at_5
        assert count_queries(sam_client, "/pips/new/") == pick_5

    def test_plan_page_at_5_and_50_rows(self, sam_client, sam, alex, blake, harper, kpis, template):
        def plan_with_rows(agent, n):
            content = plan_content(template)
            content.expectations = (content.expectations * n)[:n]
            content.actions = (content.actions * n)[:n]
            content.reasons = (content.reasons * n)[:n]
            pip = services.pip_create(actor=agent.supervisor, agent=agent, content=content)
            return pip

        small = plan_with_rows(alex, 5)
        at_5 = count_queries(sam_client, small.get_absolute_url())
        other = Agent.objects.create(
            employee_id="E1002", full_name="Jordan Patel", team=alex.team, supervisor=sam
        )
        large = plan_with_rows(other, 50)
        at_50 = count_queries(sam_client, large.get_absolute_url())
        assert at_50 == at_5
        edit_5 = count_queries(sam_client, f"/pips/{small.pk}/edit/")
        assert count_queries(sam_client, f"/pips/{large.pk}/edit/") == edit_5
        preview_5 = count_queries(sam_client, f"/pips/{small.pk}/preview/")
        assert count_queries(sam_client, f"/pips/{large.pk}/preview/") == preview_5

    def test_supervisor_home_at_5_and_50_agents(
        self, sam_client, sam, billing, kpis, make_plan, harper
    ):
        agents = add_agents(5, billing, sam, kpis)
        make_plan(agents[0], "issued", hr=harper)
        make_plan(agents[1], "pending_hr", hr=harper)
        at_5 = count_queries(sam_client, "/")
        more = add_agents(45, billing, sam, kpis, start=5)
        for agent in more[:20]:
            make_plan(agent, "approved", hr=harper)
        at_50 = count_queries(sam_client, "/")
        assert at_50 == at_5


# --- home pages -----------------------------------------------------------------------------------


class TestSupervisorHome:
    def test_team_with_kpis_against_the_standard(self, sam_client, sam, alex, billing, kpis, blake):
        jordan = Agent.objects.create(
            employee_id="E1002", full_name="Jordan Patel", team=billing, supervisor=sam
        )
        Agent.objects.create(
            employee_id="E1003", full_name="Aaron New", team=billing, supervisor=sam
        )
        add_samples("E1001", kpis["qa_score"], 88)  # meets the standard
        add_samples("E1002", kpis["qa_score"], 70)  # below
        add_samples("E1002", kpis["aht"], 420)  # 7:00, below (≤ 5:00)
        page = body(sam_client.get("/"))
        assert "Your team" in page and "Blake Moreau" not in page
        # Below standard first, then by name; no data shown plainly.
        assert page.index("Jordan Patel") < page.index("Aaron New") < page.index("Alex Rivera")
        assert "7:00" in page and "≤ 5:00" in page and "≥ 85 %" in page
        assert "below standard on 2" in page and "no data" in page
        assert f'href="/pips/new/?agent={jordan.pk}"' in page

    def test_plans_grouped_by_state_with_what_they_wait_for(
        self, sam_client, sam, alex, billing, harper, make_plan
    ):
        jordan = Agent.objects.create(
            employee_id="E1002", full_name="Jordan Patel", team=billing, supervisor=sam
        )
        make_plan(alex, "issued", hr=harper)
        make_plan(jordan, "pending_hr", hr=harper)
        page = body(sam_client.get("/"))
        assert "Waiting for HR" in page and "Issued, awaiting signatures" in page
        assert "approve or return the draft" in page and "sign the acknowledgment" in page

    def test_agent_sees_only_their_issued_plans(self, client, alex, harper, blake, make_plan):
        make_plan(blake, "issued", hr=harper)
        client.force_login(alex.user)
        page = body(client.get("/"))
        assert "You have no plans." in page
        pip = make_plan(alex, "issued", hr=harper)
        page = body(client.get("/"))
        assert f"Read and sign {pip.reference}" in page
        assert "Blake Moreau" not in page and "Your team" not in page
