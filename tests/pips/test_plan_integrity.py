"""Plans that hold up when challenged: an outcome consistent with the per-target verdicts, the
employee kept to what was issued to them, HR told when it is their turn and deciding any outcome
with a checked sign-off, and HR actions refused to whoever did the supervisor's part."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import formats, timezone, translation

from pips import services
from pips.models import (
    Agent,
    AuditEvent,
    Notification,
    Outcome,
    Pip,
    PipVersion,
    Review,
    SignerRole,
    Status,
)
from pips.services import ReviewItemInput, SignatureInput
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture
def with_email(alex):
    alex.email = "alex@example.com"
    alex.save(update_fields=["email"])
    return alex


@pytest.fixture
def final_review(with_email, harper, make_plan) -> Review:
    pip = make_plan(with_email, "active", hr=harper, start=days_ago(30), days=30)
    review, _ = services.review_open(pip=pip, kind=Review.Kind.FINAL)
    return review


def items(review: Review, met: bool) -> list[ReviewItemInput]:
    return [
        ReviewItemInput(expectation_id=e.pk, confirmed=met, evidence="Weekly QA report")
        for e in review.version.expectations.all()
    ]


def record(review: Review, sam, *, met: bool, outcome: str, **extra) -> Review:
    return services.final_record(
        actor=sam,
        review=review,
        items=items(review, met),
        outcome=outcome,
        summary="The final review with Alex.",
        suggestions={},
        **extra,
    )


# --- Defect 1: "Successful" with every target not met -----------------------------------------


class TestOutcomeConsistentWithVerdicts:
    def test_successful_with_targets_not_met_is_refused_without_a_justification(
        self, final_review, sam
    ):
        with pytest.raises(ValidationError) as caught:
            record(final_review, sam, met=False, outcome=Outcome.SUCCESSFUL)
        assert "justification" in caught.value.message_dict
        assert "5 of 5 targets are marked not met" in caught.value.message_dict["justification"][0]
        assert Pip.objects.get(pk=final_review.pip_id).status == Status.FINAL
        assert Review.objects.get(pk=final_review.pk).state == Review.State.OPEN

    def test_with_a_justification_it_waits_for_hr_and_congratulates_nobody(
        self, final_review, sam, harper, alex, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            record(
                final_review,
                sam,
                met=False,
                outcome=Outcome.SUCCESSFUL,
                justification="The targets were set before the product launch doubled AHT.",
            )
        pip = Pip.objects.get(pk=final_review.pip_id)
        assert pip.status == Status.FINAL and pip.outcome == ""
        event = pip.events.filter(action="referred_to_hr").get()
        assert event.changes["proposed_outcome"] == Outcome.SUCCESSFUL
        assert not any("Congratulations" in m.subject for m in mail.outbox)
        assert Notification.objects.filter(user=harper, pip=pip, url__endswith="/decide/").exists()

    def test_hr_approval_closes_it_and_the_email_tells_the_truth(
        self, final_review, sam, harper, django_capture_on_commit_callbacks
    ):
        record(
            final_review,
            sam,
            met=False,
            outcome=Outcome.SUCCESSFUL,
            justification="The targets were set before the product launch doubled AHT.",
        )
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.pip_decide(
                actor=harper,
                pip=final_review.pip,
                outcome=Outcome.SUCCESSFUL,
                decision="Agreed: the launch changed what could be reached.",
                typed_name="Harper Lee",
            )
        pip = Pip.objects.get(pk=final_review.pip_id)
        assert pip.status == Status.CLOSED_SUCCESSFUL
        [message] = [m for m in mail.outbox if "alex@example.com" in m.to]
        assert not message.subject.startswith("Congratulations")
        assert "not met" in message.body and "5 of 5 targets" in message.body

    def test_all_met_still_closes_at_once(self, final_review, sam):
        record(final_review, sam, met=True, outcome=Outcome.SUCCESSFUL)
        assert Pip.objects.get(pk=final_review.pip_id).status == Status.CLOSED_SUCCESSFUL

    def test_data_that_contradicts_a_met_verdict_also_needs_a_justification(
        self, final_review, sam
    ):
        expectation = final_review.version.expectations.filter(kpi__isnull=False).first()
        with pytest.raises(ValidationError) as caught:
            services.final_record(
                actor=sam,
                review=final_review,
                items=items(final_review, True),
                outcome=Outcome.SUCCESSFUL,
                summary="Done.",
                suggestions={expectation.pk: (70.0, False)},
            )
        assert "the data says" in caught.value.message_dict["justification"][0]


# --- Defect 5: HR decides any outcome, and the service checks and records the sign-off -------


@pytest.fixture
def referred(final_review, sam) -> Pip:
    record(final_review, sam, met=False, outcome=Outcome.UNSUCCESSFUL)
    return Pip.objects.get(pk=final_review.pip_id)


class TestHrDecidesAnyOutcome:
    def test_unsuccessful_with_signoff_on_record(self, referred, harper):
        services.pip_decide(
            actor=harper,
            pip=referred,
            outcome=Outcome.UNSUCCESSFUL,
            decision="Reviewed with the supervisor.",
            consequence="Written warning.",
            typed_name="Harper Lee",
        )
        pip = Pip.objects.get(pk=referred.pk)
        assert pip.status == Status.CLOSED_UNSUCCESSFUL and pip.consequence == "Written warning."
        event = pip.events.get(action="closed")
        assert event.changes["typed_name"] == "Harper Lee"
        assert event.changes["outcome"] == Outcome.UNSUCCESSFUL

    def test_successful(self, referred, harper):
        services.pip_decide(
            actor=harper,
            pip=referred,
            outcome=Outcome.SUCCESSFUL,
            decision="The data since the review shows every target met.",
            typed_name="Harper Lee",
        )
        assert Pip.objects.get(pk=referred.pk).status == Status.CLOSED_SUCCESSFUL

    def test_extend(self, referred, harper):
        new_end = referred.current_version.period_end + dt.timedelta(days=14)
        services.pip_decide(
            actor=harper,
            pip=referred,
            outcome=Outcome.EXTENDED,
            decision="Two more weeks of coaching.",
            typed_name="Harper Lee",
            new_end_date=new_end,
        )
        pip = Pip.objects.get(pk=referred.pk)
        assert pip.status == Status.EXTENDED
        assert pip.versions.get(number=2).period_end == new_end
        assert pip.events.get(action="extended").changes["typed_name"] == "Harper Lee"

    def test_a_refused_end_date_is_written_as_the_readers_language_writes_dates(
        self, referred, harper
    ):
        end = referred.current_version.period_end
        with translation.override("fr"), pytest.raises(ValidationError) as caught:
            services.pip_decide(
                actor=harper,
                pip=referred,
                outcome=Outcome.EXTENDED,
                decision="Deux semaines de plus.",
                typed_name="Harper Lee",
                new_end_date=end,
            )
        message = caught.value.message_dict["new_end_date"][0]
        # The French long date ("14 décembre 2026"), not the English pattern's "14 déc. 2026".
        with translation.override("fr"):
            assert formats.date_format(end, "DATE_FORMAT") in message
            assert formats.date_format(end, "d M Y") not in message

    def test_extend_writes_the_summary_in_the_plans_language(self, referred, harper):
        PipVersion.objects.filter(pk=referred.current_version_id).update(language="pt-br")
        new_end = referred.current_version.period_end + dt.timedelta(days=14)
        services.pip_decide(
            actor=harper,
            pip=referred,
            outcome=Outcome.EXTENDED,
            decision="Mais duas semanas de acompanhamento.",
            typed_name="Harper Lee",
            new_end_date=new_end,
        )
        amendment = Pip.objects.get(pk=referred.pk).versions.get(number=2)
        summary = amendment.change_summary
        assert summary.startswith(f"Prorrogado até {new_end.day} de ")  # "14 de Dezembro de 2026"
        assert summary.endswith(
            f" de {new_end.year} por decisão do RH. Mais duas semanas de acompanhamento."
        )

    def test_the_service_checks_the_typed_name(self, referred, harper):
        with pytest.raises(ValidationError) as caught:
            services.pip_decide(
                actor=harper,
                pip=referred,
                outcome=Outcome.UNSUCCESSFUL,
                decision="d",
                consequence="c",
                typed_name="Someone Else",
            )
        assert "Harper Lee" in caught.value.message_dict["typed_name"][0]
        assert Pip.objects.get(pk=referred.pk).status == Status.FINAL

    def test_the_page_offers_every_outcome(self, client, referred, harper):
        client.force_login(harper)
        page = client.get(f"/pips/{referred.pk}/decide/").content.decode()
        for label in ("Close as successful", "Extend", "Close as unsuccessful"):
            assert label in page
        response = client.post(
            f"/pips/{referred.pk}/decide/",
            {
                "outcome": "successful",
                "decision": "Met since.",
                "consequence": "",
                "typed_name": "Harper Lee",
            },
        )
        assert response.status_code == 302
        assert Pip.objects.get(pk=referred.pk).status == Status.CLOSED_SUCCESSFUL


# --- Defect 2: the employee sees only what was issued to them -----------------------------------


class TestEmployeeSeesOnlyIssued:
    @pytest.mark.parametrize("state", ["pending_hr", "approved"])
    def test_a_plan_cancelled_before_issue_stays_invisible(
        self, client, alex, harper, make_plan, state
    ):
        pip = make_plan(alex, state, hr=harper)
        services.pip_cancel(actor=harper, pip=pip, reason="Wrong agent.")
        client.force_login(alex.user)
        assert pip.reference not in client.get("/").content.decode()
        for path in ("", "sign/", "reviews/", "pdf/", "v1/"):
            assert client.get(f"/pips/{pip.pk}/{path}").status_code == 404, path

    def test_a_plan_cancelled_after_issue_stays_visible(self, client, alex, harper, make_plan):
        pip = make_plan(alex, "issued", hr=harper)
        services.pip_cancel(actor=harper, pip=pip, reason="Agent moved to another site.")
        client.force_login(alex.user)
        assert client.get(f"/pips/{pip.pk}/").status_code == 200


# --- Defect 4: HR is told when it is their turn ----------------------------------------------


class TestHrToldWhenItIsTheirTurn:
    def sign(self, pip: Pip, alex, **kwargs) -> None:
        services.signature_add(
            actor=alex.user,
            pip=pip,
            version=pip.current_version,
            role=SignerRole.AGENT,
            data=SignatureInput(typed_name="Alex Rivera", consent=True, **kwargs),
        )

    def test_hr_home_lists_plans_waiting_for_countersignature_and_flags_disagreement(
        self, client, alex, harper, make_plan
    ):
        pip = make_plan(alex, "issued", hr=harper)
        self.sign(pip, alex, agrees=False, comments="The AHT target ignores the new product.")
        client.force_login(harper)
        page = client.get("/").content.decode()
        assert "Waiting for your countersignature" in page
        section = page.split("Waiting for your countersignature", 1)[1]
        assert pip.reference in section.split("</section>", 1)[0]
        assert "Disagrees" in section.split("</section>", 1)[0]
        assert "The AHT target ignores the new product." in section.split("</section>", 1)[0]

    def test_hr_and_the_supervisor_are_told_of_a_disagreement_with_the_comment(
        self, alex, harper, sam, make_plan, django_capture_on_commit_callbacks
    ):
        pip = make_plan(alex, "issued", hr=harper)
        with django_capture_on_commit_callbacks(execute=True):
            self.sign(pip, alex, agrees=False, comments="The AHT target ignores the new product.")
        for user in (harper, sam):
            note = Notification.objects.get(user=user, pip=pip)
            assert "disagree" in note.text.lower()
            [message] = [m for m in mail.outbox if user.email in m.to]
            assert "The AHT target ignores the new product." in message.body
            assert "disagree" in message.subject.lower()

    def test_hr_is_told_of_an_acknowledgment_too(
        self, alex, harper, make_plan, django_capture_on_commit_callbacks
    ):
        pip = make_plan(alex, "issued", hr=harper)
        with django_capture_on_commit_callbacks(execute=True):
            self.sign(pip, alex, agrees=True)
        note = Notification.objects.get(user=harper, pip=pip)
        assert "countersign" in note.text.lower()


# --- Defect 8: a recurring action with no weekday; the typed-name rule ------------------------


class TestSmallRules:
    def test_recurring_action_needs_a_weekday(self, template):
        from tests.conftest import plan_content

        content = plan_content(template)
        recurring = next(a for a in content.actions if a.recurrence_weekdays)
        recurring.recurrence_weekdays = []
        recurring.deadline_text = ""
        with pytest.raises(ValidationError) as caught:
            services.validate_content(content)
        index = content.actions.index(recurring)
        assert "tick at least one weekday" in caught.value.message_dict[f"actions-{index}"][0]
        # "Weekly", with no fixed day, says when it recurs.
        recurring.deadline_text = "Weekly"
        services.validate_content(content)

    def test_typed_name_is_exactly_the_account_name(self, alex, harper, make_plan):
        pip = make_plan(alex, "issued", hr=harper)
        with pytest.raises(ValidationError) as caught:
            services.signature_add(
                actor=alex.user,
                pip=pip,
                version=pip.current_version,
                role=SignerRole.AGENT,
                data=SignatureInput(typed_name="alex rivera", consent=True, agrees=True),
            )
        assert "“Alex Rivera”" in caught.value.message_dict["typed_name"][0]
        # Spaces are not a difference anyone could see on paper.
        services.signature_add(
            actor=alex.user,
            pip=pip,
            version=pip.current_version,
            role=SignerRole.AGENT,
            data=SignatureInput(typed_name="  Alex   Rivera ", consent=True, agrees=True),
        )

    def test_sign_page_prints_what_the_account_holds(self, client, alex, harper, make_plan):
        pip = make_plan(alex, "issued", hr=harper)
        client.force_login(alex.user)
        page = client.get(f"/pips/{pip.pk}/sign/").content.decode()
        assert "exactly as your account holds it" in page and "Alex Rivera" in page


# --- Issue 20, item 1: separation of duties --------------------------------------------------


@pytest.fixture
def dana(db):
    """A supervisor who is also in the HR group."""
    return make_user("dana", "Dana", "Okafor", "supervisor", "hr")


@pytest.fixture
def casey(billing, dana) -> Agent:
    user = make_user("casey", "Casey", "Nguyen")
    return Agent.objects.create(
        employee_id="E1002", full_name="Casey Nguyen", team=billing, supervisor=dana, user=user
    )


class TestSeparationOfDuties:
    def test_owner_who_is_hr_cannot_approve_their_own_plan(self, casey, dana, make_plan):
        pip = make_plan(casey, "pending_hr")
        with pytest.raises(PermissionDenied):
            services.pip_approve(actor=dana, pip=pip)

    def test_manager_signer_who_is_hr_cannot_countersign(self, casey, dana, harper, make_plan):
        pip = make_plan(casey, "issued", hr=harper)
        services.signature_add(
            actor=casey.user,
            pip=pip,
            version=pip.current_version,
            role=SignerRole.AGENT,
            data=SignatureInput(typed_name="Casey Nguyen", consent=True, agrees=True),
        )
        with pytest.raises(PermissionDenied):
            services.signature_add(
                actor=dana,
                pip=pip,
                version=pip.current_version,
                role=SignerRole.HR,
                data=SignatureInput(typed_name="Dana Okafor", consent=True),
            )

    def test_manager_signer_still_refused_after_the_plan_moved_on(
        self, casey, dana, harper, sam, make_plan
    ):
        """Dana signed as manager, then the plan went to Sam: she is still not HR for it."""
        pip = make_plan(casey, "issued", hr=harper)
        services.pip_reassign(actor=harper, pip=pip, supervisor=sam, reason="Dana moved team.")
        services.signature_add(
            actor=casey.user,
            pip=pip,
            version=pip.current_version,
            role=SignerRole.AGENT,
            data=SignatureInput(typed_name="Casey Nguyen", consent=True, agrees=True),
        )
        with pytest.raises(PermissionDenied):
            services.signature_add(
                actor=dana,
                pip=pip,
                version=pip.current_version,
                role=SignerRole.HR,
                data=SignatureInput(typed_name="Dana Okafor", consent=True),
            )

    def test_author_of_an_amendment_cannot_decide_it(self, casey, dana, harper, sam, make_plan):
        pip = make_plan(casey, "active", hr=harper)
        services.amendment_start(actor=dana, pip=pip, change_summary="Lower the AHT target.")
        services.amendment_submit(actor=dana, pip=pip)
        services.pip_reassign(actor=harper, pip=pip, supervisor=sam, reason="Dana moved team.")
        with pytest.raises(PermissionDenied):
            services.amendment_decide(actor=dana, pip=pip, approve=True)

    def test_owner_who_is_hr_cannot_decide_the_outcome(self, casey, dana, harper, make_plan):
        pip = make_plan(casey, "active", hr=harper, start=days_ago(30), days=30)
        review, _ = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        record(review, dana, met=False, outcome=Outcome.UNSUCCESSFUL)
        with pytest.raises(PermissionDenied):
            services.pip_decide(
                actor=dana,
                pip=pip,
                outcome=Outcome.UNSUCCESSFUL,
                decision="d",
                consequence="c",
                typed_name="Dana Okafor",
            )

    def test_the_plan_page_offers_dana_no_hr_step_on_her_own_plan(
        self, client, casey, dana, harper, make_plan
    ):
        pip = make_plan(casey, "issued", hr=harper)
        services.signature_add(
            actor=casey.user,
            pip=pip,
            version=pip.current_version,
            role=SignerRole.AGENT,
            data=SignatureInput(typed_name="Casey Nguyen", consent=True, agrees=True),
        )
        client.force_login(dana)
        assert "Countersign as HR" not in client.get(f"/pips/{pip.pk}/").content.decode()
        client.force_login(harper)
        assert "Countersign as HR" in client.get(f"/pips/{pip.pk}/").content.decode()

    def test_another_hr_user_still_can(self, casey, dana, harper, make_plan):
        pip = make_plan(casey, "pending_hr")
        services.pip_approve(actor=harper, pip=pip)
        assert AuditEvent.objects.filter(pip=pip, action="approved", actor=harper).exists()
