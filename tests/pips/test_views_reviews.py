"""The reviews page, the midpoint and final reviews recorded against the agent's data, the
outcomes (closed, extended through an amendment, referred to HR), HR's decision and
cancelling a plan. Each step writes its audit event and sends the agent a written summary."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics import rollups
from metrics.models import Sample
from pips import services
from pips.models import (
    AuditEvent,
    CheckIn,
    Notification,
    Outcome,
    Pip,
    Review,
    ReviewItem,
    ScheduleItem,
    Status,
)
from pips.services import CheckInInput

pytestmark = pytest.mark.django_db


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def actions(pip: Pip) -> list[str]:
    return list(AuditEvent.objects.filter(pip=pip).values_list("action", flat=True))


@pytest.fixture
def with_email(alex):
    alex.email = "alex@example.com"
    alex.save(update_fields=["email"])
    return alex


@pytest.fixture
def due_final(with_email, harper, make_plan) -> Pip:
    """A 30-day plan whose final review is due today (not opened yet)."""
    return make_plan(with_email, "active", hr=harper, start=days_ago(30), days=30)


@pytest.fixture
def final_review(due_final) -> Review:
    review, _ = services.review_open(pip=due_final, kind=Review.Kind.FINAL)
    return review


@pytest.fixture
def midpoint_review(with_email, harper, make_plan) -> Review:
    """A 60-day plan at its midpoint, today, with the review opened by the schedule."""
    pip = make_plan(with_email, "active", hr=harper, start=days_ago(30), days=60)
    review, _ = services.review_open(pip=pip, kind=Review.Kind.MIDPOINT)
    return review


def review_url(review: Review) -> str:
    return f"/pips/{review.pip_id}/reviews/{review.pk}/"


def review_data(review: Review, confirmed: str = "yes", **extra) -> dict:
    data = {"summary": "QA has improved steadily; keep the call-flow checklist going."}
    for e in review.version.expectations.all():
        data[f"expectation-{e.pk}-confirmed"] = confirmed
        data[f"expectation-{e.pk}-evidence"] = "Weekly QA report"
        data[f"expectation-{e.pk}-adjustment"] = ""
    data.update(extra)
    return data


def add_samples(kpis, code: str, value: float, days: range) -> None:
    Sample.objects.bulk_create(
        Sample(employee_id="E1001", kpi=kpis[code], date=days_ago(i), value=value, weight=3)
        for i in days
    )
    rollups.rebuild()  # written beside the loader: the weekly totals too


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


class TestReviewsPage:
    def test_lists_the_schedule_with_what_can_be_done(self, client, due_final, sam):
        client.force_login(sam)
        response = client.get(f"/pips/{due_final.pk}/reviews/")
        assert response.status_code == 200
        body = response.content.decode()
        assert f"/pips/{due_final.pk}/checkins/new/?date=" in body
        assert f"/pips/{due_final.pk}/checkins/missed/?date=" in body
        assert "Start the final review" in body
        assert "no-store" in response["Cache-Control"]

    def test_everyone_on_the_plan_reads_it_outsiders_do_not(
        self, client, due_final, harper, alex, olivia, blake
    ):
        for user in (harper, alex.user):
            client.force_login(user)
            response = client.get(f"/pips/{due_final.pk}/reviews/")
            assert response.status_code == 200
        assert "Record</a>" not in response.content.decode()  # the agent records nothing
        for user in (olivia, blake.user):
            client.force_login(user)
            assert client.get(f"/pips/{due_final.pk}/reviews/").status_code == 404
        client.force_login(harper)
        assert client.post(f"/pips/{due_final.pk}/reviews/").status_code == 405

    def test_queries_do_not_grow(self, client, due_final, sam):
        client.force_login(sam)
        path = f"/pips/{due_final.pk}/reviews/"
        services.checkin_record(
            actor=sam, pip=due_final, data=CheckInInput(held_on=days_ago(28)), snapshot=[]
        )
        small = count_queries(client, path)
        for item in ScheduleItem.objects.filter(pip=due_final, kind="checkin")[:3]:
            services.checkin_missed(actor=sam, pip=due_final, scheduled_for=item.due_on, reason="x")
        for n in range(1, 10):
            services.checkin_record(
                actor=sam, pip=due_final, data=CheckInInput(held_on=days_ago(n)), snapshot=[]
            )
        services.review_open(pip=due_final, kind=Review.Kind.FINAL)
        assert count_queries(client, path) == small


class TestOpenReview:
    def test_supervisor_opens_a_due_review(self, client, due_final, sam):
        client.force_login(sam)
        response = client.post(f"/pips/{due_final.pk}/reviews/open/", {"kind": "final"})
        review = Review.objects.get(pip=due_final)
        assert response.status_code == 302 and response["Location"] == review_url(review)
        assert Pip.objects.get(pk=due_final.pk).status == Status.FINAL
        event = AuditEvent.objects.get(pip=due_final, action="final_review_opened")
        assert event.actor == sam
        body = client.get(f"/pips/{due_final.pk}/reviews/").content.decode()
        assert review_url(review) in body and "Start the final review" not in body

    def test_not_before_its_day(self, client, with_email, harper, make_plan, sam):
        pip = make_plan(with_email, "active", hr=harper, start=days_ago(10), days=30)
        client.force_login(sam)
        response = client.post(f"/pips/{pip.pk}/reviews/open/", {"kind": "final"}, follow=True)
        assert "it can be opened from that day" in response.content.decode()
        assert not Review.objects.exists()
        assert Pip.objects.get(pk=pip.pk).status == Status.ACTIVE

    def test_bad_kind(self, client, due_final, sam):
        client.force_login(sam)
        response = client.post(f"/pips/{due_final.pk}/reviews/open/", {"kind": "x"}, follow=True)
        assert "Choose the midpoint or the final review." in response.content.decode()
        assert not Review.objects.exists()

    def test_access(self, client, due_final, harper, alex, olivia):
        path = f"/pips/{due_final.pk}/reviews/open/"
        client.force_login(olivia)
        assert client.post(path, {"kind": "final"}).status_code == 404
        client.force_login(alex.user)
        assert client.post(path, {"kind": "final"}).status_code == 403
        assert client.get(path).status_code == 405
        assert not Review.objects.exists()
        client.force_login(harper)
        assert client.post(path, {"kind": "final"}).status_code == 302
        assert Review.objects.count() == 1


class TestMidpoint:
    def test_form_shows_baseline_current_target_and_suggestion(
        self, client, midpoint_review, sam, kpis
    ):
        add_samples(kpis, "qa_score", 87.0, range(1, 8))
        add_samples(kpis, "aht", 360.0, range(1, 8))
        client.force_login(sam)
        response = client.get(review_url(midpoint_review))
        assert response.status_code == 200
        body = response.content.decode()
        assert "87 %" in body and "6:00" in body
        forms = {f.row.expectation.area: f for f in response.context["item_forms"]}
        assert forms["QA Score"].initial["confirmed"] == "yes"
        assert forms["AHT (Avg. Handle Time)"].initial["confirmed"] == "no"
        assert "confirmed" not in forms["Call Wrap-Up Notes"].initial

    def test_records_it_and_sends_the_summary(
        self, client, midpoint_review, sam, alex, kpis, django_capture_on_commit_callbacks
    ):
        add_samples(kpis, "qa_score", 87.0, range(1, 8))
        pip = midpoint_review.pip
        client.force_login(sam)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(review_url(midpoint_review), review_data(midpoint_review))
        assert response.status_code == 302 and response["Location"] == review_url(midpoint_review)
        review = Review.objects.get(pk=midpoint_review.pk)
        assert review.state == Review.State.DONE and review.completed_by == sam
        assert Pip.objects.get(pk=pip.pk).status == Status.MIDPOINT
        qa = ReviewItem.objects.get(review=review, expectation__kpi__code="qa_score")
        assert qa.current_value == 87.0 and qa.suggested is True and qa.confirmed is True
        assert ReviewItem.objects.filter(review=review).count() == 5
        assert actions(pip)[-1] == "midpoint_recorded"
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["alex@example.com"] and "midpoint review" in message.subject
        assert "QA has improved steadily" in message.body and "87 %" in message.body
        assert Notification.objects.filter(user=alex.user, pip=pip).exists()
        # Read-only afterwards, for everyone on the plan.
        response = client.get(review_url(review))
        assert "form" not in response.context and "QA has improved steadily" in (
            response.content.decode()
        )
        client.force_login(alex.user)
        assert client.get(review_url(review)).status_code == 200

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"summary": ""}, "This field is required"),
            ({"confirmed": ""}, "This field is required"),
        ],
    )
    def test_bad_input(self, client, midpoint_review, sam, change, message):
        data = review_data(midpoint_review)
        if "confirmed" in change:
            first = midpoint_review.version.expectations.first()
            data[f"expectation-{first.pk}-confirmed"] = ""
        else:
            data.update(change)
        client.force_login(sam)
        response = client.post(review_url(midpoint_review), data)
        assert response.status_code == 200 and message in response.content.decode()
        assert not ReviewItem.objects.exists()
        assert Review.objects.get(pk=midpoint_review.pk).state == Review.State.OPEN

    def test_only_the_supervisor_records(self, client, midpoint_review, harper, alex, olivia):
        path = review_url(midpoint_review)
        for user, status in ((harper, 403), (alex.user, 403), (olivia, 404)):
            client.force_login(user)
            assert client.post(path, review_data(midpoint_review)).status_code == status
        client.force_login(harper)
        response = client.get(path)
        assert response.status_code == 200 and "supervisor records it" in response.content.decode()
        client.force_login(olivia)
        assert client.get(path).status_code == 404
        client.force_login(midpoint_review.pip.supervisor)
        assert client.put(path).status_code == 405
        assert not ReviewItem.objects.exists()

    def test_links_adjustments_to_an_amendment_when_available(self, client, midpoint_review, sam):
        client.force_login(sam)
        body = client.get(review_url(midpoint_review)).content.decode()
        assert "amending the plan" in body

    def test_queries_do_not_grow_with_data(self, client, midpoint_review, sam, kpis):
        client.force_login(sam)
        add_samples(kpis, "qa_score", 80.0, range(1, 3))
        small = count_queries(client, review_url(midpoint_review))
        add_samples(kpis, "qa_score", 80.0, range(3, 30))
        add_samples(kpis, "aht", 320.0, range(1, 30))
        for n in range(1, 8):
            services.checkin_record(
                actor=sam,
                pip=midpoint_review.pip,
                data=CheckInInput(held_on=days_ago(n)),
                snapshot=[],
            )
        assert count_queries(client, review_url(midpoint_review)) == small


class TestFinal:
    def test_successful_closes_and_congratulates(
        self, client, final_review, sam, alex, kpis, django_capture_on_commit_callbacks
    ):
        add_samples(kpis, "qa_score", 90.0, range(0, 10))
        pip = final_review.pip
        client.force_login(sam)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                review_url(final_review), review_data(final_review, outcome="successful")
            )
        assert response.status_code == 302
        pip.refresh_from_db()
        assert pip.status == Status.CLOSED_SUCCESSFUL and pip.outcome == Outcome.SUCCESSFUL
        assert actions(pip)[-1] == "closed"
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.subject.startswith("Congratulations")
        assert "return to regular performance monitoring" in message.body
        assert "90 %" in message.body
        item = ReviewItem.objects.get(review=final_review, expectation__kpi__code="qa_score")
        assert item.current_value == 90.0 and item.suggested is True
        assert Notification.objects.filter(user=alex.user, pip=pip).exists()

    def test_extension_creates_an_amendment(
        self, client, final_review, sam, django_capture_on_commit_callbacks
    ):
        pip = final_review.pip
        new_end = pip.current_version.period_end + dt.timedelta(days=14)
        client.force_login(sam)
        data = review_data(final_review, "no", outcome="extended", new_end_date=new_end)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(review_url(final_review), data)
        assert response.status_code == 302
        pip.refresh_from_db()
        assert pip.status == Status.EXTENDED
        amendment = pip.versions.get(number=2)
        assert amendment.state == "draft" and amendment.period_end == new_end
        assert amendment.final_review_date == new_end
        assert actions(pip)[-2:] == ["extended", "amendment_started"]
        assert Review.objects.get(pk=final_review.pk).new_end_date == new_end
        assert len(mail.outbox) == 1 and "is extended" in mail.outbox[0].subject
        assert new_end.strftime("%d %b %Y") in mail.outbox[0].body

    @pytest.mark.parametrize(
        ("new_end", "message"),
        [
            (None, "Give the new end date of the extended plan."),
            (0, "Give a new end date after"),
            (200, "Give a new end date after"),
        ],
    )
    def test_extension_needs_a_valid_end_date(self, client, final_review, sam, new_end, message):
        pip = final_review.pip
        data = review_data(final_review, outcome="extended")
        if new_end is not None:
            data["new_end_date"] = pip.current_version.period_end + dt.timedelta(days=new_end)
        client.force_login(sam)
        response = client.post(review_url(final_review), data)
        assert response.status_code == 200 and message in response.content.decode()
        assert Pip.objects.get(pk=pip.pk).status == Status.FINAL
        assert pip.versions.count() == 1 and not ReviewItem.objects.exists()

    def test_extended_at_most_once(self, client, final_review, sam):
        pip = final_review.pip
        Pip.objects.filter(pk=pip.pk).update(extension_count=1)
        new_end = pip.current_version.period_end + dt.timedelta(days=7)
        client.force_login(sam)
        response = client.post(
            review_url(final_review),
            review_data(final_review, outcome="extended", new_end_date=new_end),
        )
        assert "This plan has already been extended." in response.content.decode()
        assert pip.versions.count() == 1

    def test_unsuccessful_goes_to_hr(
        self, client, final_review, sam, alex, harper, django_capture_on_commit_callbacks
    ):
        pip = final_review.pip
        client.force_login(sam)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                review_url(final_review), review_data(final_review, "no", outcome="unsuccessful")
            )
        assert response.status_code == 302
        assert Pip.objects.get(pk=pip.pk).status == Status.FINAL
        assert actions(pip)[-1] == "referred_to_hr"
        assert len(mail.outbox) == 1
        assert "final review" in mail.outbox[0].subject
        assert "goes to HR" in mail.outbox[0].body
        assert Notification.objects.filter(user=alex.user, pip=pip).exists()
        hr_note = Notification.objects.get(user=harper, pip=pip)
        assert hr_note.url == f"/pips/{pip.pk}/decide/"

    def test_outcome_is_required(self, client, final_review, sam):
        client.force_login(sam)
        response = client.post(review_url(final_review), review_data(final_review))
        assert response.status_code == 200
        assert "This field is required" in response.content.decode()
        assert Review.objects.get(pk=final_review.pk).state == Review.State.OPEN


@pytest.fixture
def referred(final_review, sam) -> Pip:
    pip = final_review.pip
    services.final_record(
        actor=sam,
        review=final_review,
        items=[
            services.ReviewItemInput(expectation_id=e.pk, confirmed=False)
            for e in pip.current_version.expectations.all()
        ],
        outcome=Outcome.UNSUCCESSFUL,
        summary="Targets not met despite weekly coaching.",
        suggestions={},
    )
    return Pip.objects.get(pk=pip.pk)


class TestHrDecide:
    def decide(self, pip: Pip) -> str:
        return f"/pips/{pip.pk}/decide/"

    def test_hr_decides_and_the_plan_closes(
        self, client, referred, harper, sam, django_capture_on_commit_callbacks
    ):
        client.force_login(harper)
        response = client.get(self.decide(referred))
        assert response.status_code == 200
        failure = referred.current_version.outcome_failure
        assert response.context["form"].initial["consequence"] == failure
        assert "Targets not met despite weekly coaching." in response.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                self.decide(referred),
                {
                    "outcome": "unsuccessful",
                    "decision": "Reviewed the plan and the data with the supervisor.",
                    "consequence": "Written warning.",
                    "typed_name": "Harper Lee",
                },
            )
        assert response.status_code == 302 and response["Location"] == f"/pips/{referred.pk}/"
        pip = Pip.objects.get(pk=referred.pk)
        assert pip.status == Status.CLOSED_UNSUCCESSFUL and pip.consequence == "Written warning."
        event = AuditEvent.objects.filter(pip=pip).last()
        assert (event.action, event.actor) == ("closed", harper)
        assert len(mail.outbox) == 1
        assert "outcome of your Performance Improvement Plan" in mail.outbox[0].subject
        assert "Written warning." in mail.outbox[0].body
        assert Notification.objects.filter(user=sam, pip=pip).exists()

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"typed_name": "Someone Else"}, "Type your full name exactly as your account holds"),
            ({"consequence": ""}, "Record the consequence."),
            ({"decision": "   "}, "This field is required"),
        ],
    )
    def test_bad_input(self, client, referred, harper, change, message):
        data = {
            "outcome": "unsuccessful",
            "decision": "Reviewed.",
            "consequence": "Warning.",
            "typed_name": "Harper Lee",
        }
        data.update(change)
        client.force_login(harper)
        response = client.post(self.decide(referred), data)
        assert response.status_code == 200 and message in response.content.decode()
        assert Pip.objects.get(pk=referred.pk).status == Status.FINAL

    def test_only_hr_decides(self, client, referred, sam, alex, olivia, harper):
        data = {"decision": "d", "consequence": "c", "typed_name": "Sam Carter"}
        for user, status in ((sam, 403), (alex.user, 403), (olivia, 404)):
            client.force_login(user)
            assert client.get(self.decide(referred)).status_code == status
            assert client.post(self.decide(referred), data).status_code == status
        client.force_login(harper)
        assert client.put(self.decide(referred)).status_code == 405
        assert Pip.objects.get(pk=referred.pk).status == Status.FINAL

    def test_a_plan_not_waiting_for_hr(self, client, final_review, harper):
        client.force_login(harper)
        response = client.get(self.decide(final_review.pip), follow=True)
        assert "not waiting for HR" in response.content.decode()

    def test_queries_are_constant(self, client, referred, harper, kpis):
        client.force_login(harper)
        small = count_queries(client, self.decide(referred))
        add_samples(kpis, "qa_score", 70.0, range(1, 30))
        assert count_queries(client, self.decide(referred)) == small


class TestCancel:
    def cancel(self, pip: Pip) -> str:
        return f"/pips/{pip.pk}/cancel/"

    def test_hr_cancels_with_a_reason(self, client, due_final, harper):
        client.force_login(harper)
        assert client.get(self.cancel(due_final)).status_code == 200
        response = client.post(self.cancel(due_final), {"reason": "Moved to another team."})
        assert response.status_code == 302
        pip = Pip.objects.get(pk=due_final.pk)
        assert pip.status == Status.CANCELLED and pip.cancel_reason == "Moved to another team."
        assert actions(pip)[-1] == "cancelled"
        assert not ScheduleItem.objects.filter(pip=pip, cancelled_at__isnull=True, done_at=None)
        response = client.get(self.cancel(pip), follow=True)
        assert "already cancelled" in response.content.decode()

    def test_at_any_stage(self, client, alex, harper, make_plan):
        pip = make_plan(alex, "draft")
        client.force_login(harper)
        client.post(self.cancel(pip), {"reason": "Raised in error."})
        assert Pip.objects.get(pk=pip.pk).status == Status.CANCELLED

    def test_reason_required(self, client, due_final, harper):
        client.force_login(harper)
        response = client.post(self.cancel(due_final), {"reason": ""})
        assert "This field is required" in response.content.decode()
        assert Pip.objects.get(pk=due_final.pk).status == Status.ACTIVE

    def test_only_hr(self, client, due_final, sam, alex, olivia, harper):
        for user, status in ((sam, 403), (alex.user, 403), (olivia, 404)):
            client.force_login(user)
            assert client.post(self.cancel(due_final), {"reason": "x"}).status_code == status
        client.force_login(harper)
        assert client.delete(self.cancel(due_final)).status_code == 405
        assert Pip.objects.get(pk=due_final.pk).status == Status.ACTIVE
        assert client.get(self.cancel(due_final)).status_code == 200
        assert "Cancel the plan" in client.get(self.cancel(due_final)).content.decode()


class TestPlanPageLog:
    def test_shows_check_ins_reviews_and_outcome(self, client, referred, sam, harper):
        pip = referred
        CheckIn.objects.create(
            pip=pip,
            version=pip.current_version,
            held_on=days_ago(20),
            scheduled_for=days_ago(20),
            state=CheckIn.State.MISSED,
            missed_reason="Public holiday.",
            recorded_by=sam,
        )
        services.pip_decide(
            actor=harper,
            pip=pip,
            outcome=Outcome.UNSUCCESSFUL,
            decision="Reviewed.",
            consequence="Written warning.",
            typed_name="Harper Lee",
        )
        client.force_login(pip.agent.user)
        body = client.get(f"/pips/{pip.pk}/").content.decode()
        assert "Check-in log" in body and "Public holiday." in body
        assert "Final review" in body and "Closed: unsuccessful" in body
        assert "Written warning." in body

    def test_plan_page_queries_do_not_grow_with_check_ins(self, client, due_final, sam):
        client.force_login(sam)
        path = f"/pips/{due_final.pk}/"
        services.checkin_record(
            actor=sam, pip=due_final, data=CheckInInput(held_on=days_ago(25)), snapshot=[]
        )
        small = count_queries(client, path)
        for n in range(1, 12):
            services.checkin_record(
                actor=sam, pip=due_final, data=CheckInInput(held_on=days_ago(n)), snapshot=[]
            )
        services.review_open(pip=due_final, kind=Review.Kind.FINAL)
        assert count_queries(client, path) == small
