"""Check-ins: recorded by the plan's supervisor against the agent's data, or recorded as missed
with the reason; the agent receives a written summary and may comment once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics import rollups
from metrics.models import Sample
from pips import services, snapshots
from pips.models import (
    ActionSession,
    ActionStatus,
    Agent,
    AuditEvent,
    CheckIn,
    Notification,
    Pip,
    ScheduleItem,
)
from pips.selectors import version_with_sections
from pips.services import CheckInInput

pytestmark = pytest.mark.django_db


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture
def plan(alex, harper, make_plan) -> Pip:
    """Alex's active plan, started 20 days ago; Alex has an e-mail address."""
    alex.email = "alex@example.com"
    alex.save(update_fields=["email"])
    return make_plan(alex, "active", hr=harper, start=days_ago(20), days=30)


def url(plan: Pip, suffix: str = "new/") -> str:
    return f"/pips/{plan.pk}/checkins/{suffix}"


def due_checkin(plan: Pip) -> dt.date:
    """The first scheduled check-in whose day has come."""
    return (
        ScheduleItem.objects.filter(pip=plan, kind="checkin", due_on__lte=timezone.localdate())
        .order_by("due_on")
        .values_list("due_on", flat=True)
        .first()
    )


def actions_of(plan: Pip) -> dict[str, object]:
    return {a.action: a for a in plan.current_version.actions.all()}


def form_data(plan: Pip, **extra) -> dict[str, str]:
    """A complete check-in as the browser posts it."""
    data = {
        "scheduled_for": "",
        "held_on": timezone.localdate().isoformat(),
        "attendees": "Sam Carter, Alex Rivera",
        "snapshot_note": "",
        "coaching_done": "Call-flow coaching on hold etiquette.",
        "notes": "QA is improving; AHT still above target.",
        "next_steps": "Shadow Jordan on Thursday.",
    }
    for action in plan.current_version.actions.all():
        data[f"action-{action.pk}-status"] = ActionStatus.IN_PROGRESS
    data.update(extra)
    return data


def add_samples(kpis, days: int = 10) -> None:
    Sample.objects.bulk_create(
        [
            Sample(
                employee_id="E1001", kpi=kpis["qa_score"], date=days_ago(i), value=80 + i, weight=2
            )
            for i in range(1, days + 1)
        ]
        + [
            Sample(employee_id="E1001", kpi=kpis["aht"], date=days_ago(i), value=290.0, weight=5)
            for i in range(1, days + 1)
        ]
    )
    rollups.rebuild()  # written beside the loader: the weekly totals too


class TestRecord:
    def test_form_shows_the_snapshot_and_each_action(self, client, plan, sam, kpis):
        add_samples(kpis, 3)  # QA 81, 82, 83 with equal weights: 82 %
        client.force_login(sam)
        response = client.get(url(plan))
        assert response.status_code == 200
        body = response.content.decode()
        assert "82 %" in body and "4:50" in body
        for action in plan.current_version.actions.all():
            assert f'name="action-{action.pk}-status"' in body
        # A scheduled check-in recorded late is taken as held on its day, with that window.
        day = due_checkin(plan)
        response = client.get(url(plan) + f"?date={day.isoformat()}")
        assert f'value="{day.isoformat()}" selected' in response.content.decode()
        assert response.context["form"].initial["held_on"] == day
        assert response.context["window"] == (plan.current_version.period_start, day)

    def test_records_snapshot_statuses_sessions_and_tells_the_agent(
        self, client, plan, sam, alex, kpis, django_capture_on_commit_callbacks
    ):
        add_samples(kpis)
        day = due_checkin(plan)
        actions = actions_of(plan)
        coaching = actions["One-on-one coaching sessions (twice weekly)"]
        training = actions["Attend refresher training on call etiquette"]
        tuesday = days_ago((timezone.localdate().weekday() - 1) % 7 or 7)
        other = days_ago(9)
        data = form_data(
            plan,
            scheduled_for=day.isoformat(),
            **{
                f"action-{training.pk}-status": ActionStatus.DONE,
                f"action-{coaching.pk}-sessions": [tuesday.isoformat()],
                f"action-{coaching.pk}-other_sessions": other.isoformat(),
            },
        )
        client.force_login(sam)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url(plan), data)
        checkin = CheckIn.objects.get(pip=plan)
        assert response.status_code == 302
        assert response["Location"] == f"/pips/{plan.pk}/checkins/{checkin.pk}/"
        assert checkin.scheduled_for == day and checkin.held_on == timezone.localdate()
        assert checkin.recorded_by == sam and checkin.state == CheckIn.State.HELD
        # The snapshot is the data's, for the period since the plan started.
        version = version_with_sections(plan.current_version_id)
        expected = snapshots.checkin_snapshot(
            pip=plan, version=version, start=version.period_start, end=timezone.localdate()
        )
        assert checkin.kpi_snapshot == expected
        qa = next(e for e in checkin.kpi_snapshot if e["kpi"] == "qa_score")
        assert qa["value"] == pytest.approx(85.5) and qa["met"] is True
        # Each action's status, and the coaching sessions actually held.
        assert checkin.action_updates.count() == len(actions)
        training.refresh_from_db()
        assert training.status == ActionStatus.DONE
        assert sorted(ActionSession.objects.values_list("held_on", flat=True)) == sorted(
            {tuesday, other}
        )
        assert ScheduleItem.objects.get(pip=plan, kind="checkin", due_on=day).done_at
        # The audit event and the written summary to the agent.
        event = AuditEvent.objects.get(pip=plan, action="checkin_recorded")
        assert event.actor == sam and event.changes["checkin"] == checkin.pk
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["alex@example.com"]
        assert "summary of your check-in" in message.subject
        assert "QA score: 85.5 %" in message.body and "Shadow Jordan" in message.body
        assert f"/pips/{plan.pk}/checkins/{checkin.pk}/" in message.body
        assert Notification.objects.filter(user=alex.user, pip=plan).exists()

    def test_from_the_plan_page_the_latest_due_check_in_is_chosen(self, client, plan, sam):
        latest = (
            ScheduleItem.objects.filter(pip=plan, kind="checkin", due_on__lte=days_ago(0))
            .order_by("-due_on")
            .first()
            .due_on
        )
        client.force_login(sam)
        response = client.get(url(plan))
        assert response.context["form"].initial["scheduled_for"] == latest.isoformat()
        assert response.context["form"].initial["held_on"] == timezone.localdate()
        response = client.get(url(plan) + "?date=extra")
        assert response.context["form"].initial["scheduled_for"] == ""

    def test_an_extra_check_in(self, client, plan, sam):
        client.force_login(sam)
        response = client.post(url(plan), form_data(plan))
        assert response.status_code == 302
        assert CheckIn.objects.get(pip=plan).scheduled_for is None

    def test_wrong_method(self, client, plan, sam):
        client.force_login(sam)
        assert client.put(url(plan)).status_code == 405
        assert client.delete(url(plan)).status_code == 405

    @pytest.mark.parametrize("who", ["olivia", "blake"])
    def test_outsiders_get_404(self, client, plan, olivia, blake, who):
        client.force_login({"olivia": olivia, "blake": blake.user}[who])
        assert client.get(url(plan)).status_code == 404
        assert client.post(url(plan), form_data(plan)).status_code == 404
        assert not CheckIn.objects.exists()

    @pytest.mark.parametrize("who", ["harper", "alex"])
    def test_only_the_supervisor_records(self, client, plan, harper, alex, who):
        client.force_login({"harper": harper, "alex": alex.user}[who])
        assert client.get(url(plan)).status_code == 403
        assert client.post(url(plan), form_data(plan)).status_code == 403
        assert not CheckIn.objects.exists()
        assert not AuditEvent.objects.filter(action="checkin_recorded").exists()

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"held_on": "2099-01-01"}, "cannot be recorded before it is held"),
            ({"held_on": "2001-01-01"}, "a check-in cannot be held before that"),
            ({"held_on": "not a date"}, "Enter a valid date"),
            ({"notes": ""}, "This field is required"),
            ({"scheduled_for": "2001-01-01"}, "Select a valid choice"),
        ],
    )
    def test_bad_input_is_shown_and_nothing_saved(self, client, plan, sam, change, message):
        client.force_login(sam)
        response = client.post(url(plan), form_data(plan, **change))
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not CheckIn.objects.exists() and not ActionSession.objects.exists()

    @pytest.mark.parametrize(
        ("sessions", "message"),
        [
            ("last tuesday", "is not a date; write it as YYYY-MM-DD"),
            ("2001-01-01", "must fall between the start of the plan and the day of the check-in"),
        ],
    )
    def test_bad_sessions_are_refused(self, client, plan, sam, sessions, message):
        coaching = actions_of(plan)["One-on-one coaching sessions (twice weekly)"]
        data = form_data(plan, **{f"action-{coaching.pk}-other_sessions": sessions})
        client.force_login(sam)
        response = client.post(url(plan), data)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not CheckIn.objects.exists() and not ActionSession.objects.exists()

    def test_a_session_is_recorded_once(self, client, plan, sam):
        coaching = actions_of(plan)["One-on-one coaching sessions (twice weekly)"]
        day = days_ago(2).isoformat()
        data = form_data(plan, **{f"action-{coaching.pk}-other_sessions": day})
        client.force_login(sam)
        assert client.post(url(plan), data).status_code == 302
        response = client.post(url(plan), data)
        assert "is already recorded" in response.content.decode()
        assert CheckIn.objects.count() == 1 and ActionSession.objects.count() == 1

    def test_a_plan_that_is_not_running_refuses(self, client, alex, sam, harper, make_plan):
        plan = make_plan(alex, "issued", hr=harper)
        client.force_login(sam)
        response = client.get(url(plan), follow=True)
        assert "You cannot record a check-in on a plan that is issued" in response.content.decode()
        response = client.post(url(plan), form_data(plan))
        assert response.status_code == 302 and not CheckIn.objects.exists()

    def test_queries_do_not_grow_with_check_ins_and_data(self, client, plan, sam, kpis):
        client.force_login(sam)

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url(plan)).status_code == 200
            return len(ctx.captured_queries)

        services.checkin_record(
            actor=sam, pip=plan, data=CheckInInput(held_on=days_ago(15)), snapshot=[]
        )
        small = count()
        add_samples(kpis, 15)
        for n in range(2, 14):
            services.checkin_record(
                actor=sam,
                pip=plan,
                data=CheckInInput(held_on=days_ago(15 - n)),
                snapshot=[],
            )
        coaching = actions_of(plan)["One-on-one coaching sessions (twice weekly)"]
        ActionSession.objects.bulk_create(
            ActionSession(action_item=coaching, held_on=days_ago(i), recorded_by=sam)
            for i in range(1, 10)
        )
        assert count() == small


class TestMissed:
    def test_records_the_reason_and_tells_the_agent(
        self, client, plan, sam, alex, django_capture_on_commit_callbacks
    ):
        day = due_checkin(plan)
        client.force_login(sam)
        assert client.get(url(plan, "missed/") + f"?date={day}").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url(plan, "missed/"),
                {"scheduled_for": day.isoformat(), "missed_reason": "Alex was on sick leave."},
            )
        assert response.status_code == 302 and response["Location"] == f"/pips/{plan.pk}/reviews/"
        checkin = CheckIn.objects.get(pip=plan)
        assert checkin.state == CheckIn.State.MISSED and checkin.scheduled_for == day
        assert checkin.missed_reason == "Alex was on sick leave."
        event = AuditEvent.objects.get(pip=plan, action="checkin_missed")
        assert event.comment == "Alex was on sick leave."
        assert len(mail.outbox) == 1
        assert "did not take place" in mail.outbox[0].subject
        assert "Alex was on sick leave." in mail.outbox[0].body
        assert Notification.objects.filter(user=alex.user, pip=plan).exists()

    def test_a_reason_is_required(self, client, plan, sam):
        client.force_login(sam)
        response = client.post(
            url(plan, "missed/"), {"scheduled_for": due_checkin(plan), "missed_reason": " "}
        )
        assert response.status_code == 200
        assert "This field is required" in response.content.decode()
        assert not CheckIn.objects.exists()

    def test_only_a_check_in_whose_day_has_come(self, client, plan, sam):
        future = ScheduleItem.objects.filter(pip=plan, kind="checkin", due_on__gt=days_ago(0))
        client.force_login(sam)
        response = client.post(
            url(plan, "missed/"),
            {"scheduled_for": future.first().due_on.isoformat(), "missed_reason": "x"},
        )
        assert "Select a valid choice" in response.content.decode()
        assert not CheckIn.objects.exists()

    def test_access(self, client, plan, olivia, harper, alex):
        data = {"scheduled_for": due_checkin(plan).isoformat(), "missed_reason": "x"}
        client.force_login(olivia)
        assert client.post(url(plan, "missed/"), data).status_code == 404
        for user in (harper, alex.user):
            client.force_login(user)
            assert client.get(url(plan, "missed/")).status_code == 403
            assert client.post(url(plan, "missed/"), data).status_code == 403
        client.force_login(plan.supervisor)
        assert client.put(url(plan, "missed/")).status_code == 405
        assert not CheckIn.objects.exists()


class TestDetailAndAgentComment:
    @pytest.fixture
    def checkin(self, plan, sam) -> CheckIn:
        coaching = actions_of(plan)["One-on-one coaching sessions (twice weekly)"]
        return services.checkin_record(
            actor=sam,
            pip=plan,
            data=CheckInInput(
                held_on=days_ago(1),
                notes="Good week & <b>progress</b>.",
                action_statuses={coaching.pk: "in_progress"},
                sessions_held={coaching.pk: [days_ago(2)]},
            ),
            snapshot=[],
        )

    def test_everyone_on_the_plan_reads_it(self, client, plan, checkin, sam, harper, alex):
        for user in (sam, harper, alex.user):
            client.force_login(user)
            response = client.get(url(plan, f"{checkin.pk}/"))
            assert response.status_code == 200
            assert "Good week &amp; &lt;b&gt;progress&lt;/b&gt;." in response.content.decode()
        assert response.context["form"] is not None  # the agent may comment

    def test_agent_comments_once(self, client, plan, checkin, alex):
        client.force_login(alex.user)
        response = client.post(url(plan, f"{checkin.pk}/"), {"agent_comment": "I agree."})
        assert response.status_code == 302
        checkin.refresh_from_db()
        assert checkin.agent_comment == "I agree."
        event = AuditEvent.objects.get(pip=plan, action="checkin_commented")
        assert event.actor == alex.user
        response = client.post(url(plan, f"{checkin.pk}/"), {"agent_comment": "Again."})
        assert "You have already commented on this check-in." in response.content.decode()
        checkin.refresh_from_db()
        assert checkin.agent_comment == "I agree."

    def test_bad_comment(self, client, plan, checkin, alex):
        client.force_login(alex.user)
        response = client.post(url(plan, f"{checkin.pk}/"), {"agent_comment": ""})
        assert "This field is required" in response.content.decode()
        assert CheckIn.objects.get(pk=checkin.pk).agent_comment == ""

    def test_only_the_agent_comments(self, client, plan, checkin, sam, harper, olivia):
        for user, status in ((sam, 403), (harper, 403), (olivia, 404)):
            client.force_login(user)
            response = client.post(url(plan, f"{checkin.pk}/"), {"agent_comment": "x"})
            assert response.status_code == status
        assert CheckIn.objects.get(pk=checkin.pk).agent_comment == ""
        client.force_login(sam)
        assert client.put(url(plan, f"{checkin.pk}/")).status_code == 405

    def test_a_check_in_of_another_plan_is_404(self, client, plan, checkin, billing, make_plan):
        casey = Agent.objects.create(
            employee_id="E1002", full_name="Casey Kim", team=billing, supervisor=plan.supervisor
        )
        other = make_plan(casey, "draft")
        client.force_login(plan.supervisor)
        assert client.get(f"/pips/{other.pk}/checkins/{checkin.pk}/").status_code == 404

    def test_queries_are_constant(self, client, plan, checkin, sam, alex):
        coaching = actions_of(plan)["One-on-one coaching sessions (twice weekly)"]
        client.force_login(alex.user)

        def count(target: CheckIn) -> int:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url(plan, f"{target.pk}/")).status_code == 200
            return len(ctx.captured_queries)

        small = count(checkin)
        big = services.checkin_record(
            actor=sam,
            pip=plan,
            data=CheckInInput(
                held_on=timezone.localdate(),
                action_statuses={a.pk: "in_progress" for a in plan.current_version.actions.all()},
                sessions_held={coaching.pk: [days_ago(i) for i in range(3, 10)]},
            ),
            snapshot=[],
        )
        assert count(big) == small
