"""Every lifecycle step: allowed for the right role from the right state, refused otherwise with
no change and no event written, an audit event for each transition (a step that also signs,
such as issuing, writes the signature's event too)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from pips import services
from pips.models import AuditEvent, Outcome, Pip, PipVersion, Review, SignerRole, Status
from pips.services import ReviewItemInput, SignatureInput, TransitionError

pytestmark = pytest.mark.django_db


def events(pip: Pip) -> list[str]:
    return list(AuditEvent.objects.filter(pip=pip).values_list("action", flat=True))


def assert_refused(pip: Pip, call, error=(PermissionDenied, TransitionError, ValidationError)):
    before_status = Pip.objects.get(pk=pip.pk).status
    before_events = AuditEvent.objects.filter(pip=pip).count()
    with pytest.raises(error):
        call()
    assert Pip.objects.get(pk=pip.pk).status == before_status
    assert AuditEvent.objects.filter(pip=pip).count() == before_events


def sig(user, **extra) -> SignatureInput:
    return SignatureInput(typed_name=user.get_full_name(), consent=True, **extra)


def items_for(pip: Pip, confirmed: bool = True) -> list[ReviewItemInput]:
    return [
        ReviewItemInput(expectation_id=e.pk, confirmed=confirmed)
        for e in pip.current_version.expectations.all()
    ]


class TestAuthoring:
    def test_supervisor_drafts_for_own_agent(self, alex, sam, make_plan):
        pip = make_plan(alex)
        assert pip.status == Status.DRAFT
        assert pip.current_version.number == 1
        assert events(pip) == ["created"]
        version = pip.current_version
        assert version.employee_id == "E1001"
        assert version.job_title == "Contact Center Agent"
        assert version.expectations.count() == 5
        assert version.actions.count() == 5

    def test_outsider_and_hr_and_agent_cannot_draft(self, alex, olivia, harper, template):
        from tests.conftest import plan_content

        for actor in (olivia, harper, alex.user):
            with pytest.raises(PermissionDenied):
                services.pip_create(actor=actor, agent=alex, content=plan_content(template))
        assert not Pip.objects.exists()
        assert not AuditEvent.objects.exists()

    def test_second_open_plan_refused(self, alex, make_plan, template, sam):
        from tests.conftest import plan_content

        make_plan(alex)
        with pytest.raises(ValidationError) as error:
            services.pip_create(actor=sam, agent=alex, content=plan_content(template))
        assert "already has an open plan" in str(error.value)
        assert Pip.objects.count() == 1

    def test_submit_return_resubmit_approve(self, alex, sam, harper, make_plan):
        pip = make_plan(alex)
        pip = services.pip_submit(actor=sam, pip=pip)
        assert pip.status == Status.PENDING_HR
        pip = services.pip_return(actor=harper, pip=pip, comment="Add the QA audit dates.")
        assert pip.status == Status.DRAFT
        assert pip.hr_comment == "Add the QA audit dates."
        pip = services.pip_submit(actor=sam, pip=pip)
        pip = services.pip_approve(actor=harper, pip=pip)
        assert pip.status == Status.APPROVED
        assert pip.approved_by == harper
        assert events(pip) == ["created", "submitted", "returned", "submitted", "approved"]
        returned = AuditEvent.objects.get(pip=pip, action="returned")
        assert (returned.from_status, returned.to_status) == ("pending_hr", "draft")
        assert returned.comment == "Add the QA audit dates."

    def test_refused_submit_and_approve(self, alex, sam, harper, olivia, make_plan):
        pip = make_plan(alex)
        assert_refused(pip, lambda: services.pip_submit(actor=olivia, pip=pip))
        assert_refused(pip, lambda: services.pip_submit(actor=harper, pip=pip))
        assert_refused(pip, lambda: services.pip_submit(actor=alex.user, pip=pip))
        # HR cannot approve or return a draft that was not submitted.
        assert_refused(pip, lambda: services.pip_approve(actor=harper, pip=pip))
        assert_refused(pip, lambda: services.pip_return(actor=harper, pip=pip, comment="x"))
        pip = services.pip_submit(actor=sam, pip=pip)
        assert_refused(pip, lambda: services.pip_submit(actor=sam, pip=pip))
        assert_refused(pip, lambda: services.pip_approve(actor=sam, pip=pip))
        assert_refused(pip, lambda: services.pip_approve(actor=alex.user, pip=pip))
        assert_refused(pip, lambda: services.pip_return(actor=olivia, pip=pip, comment="x"))
        assert_refused(pip, lambda: services.pip_return(actor=harper, pip=pip, comment=" "))

    def test_edit_refused_after_submit_and_after_issue(self, alex, sam, harper, make_plan):
        from pips.content import content_from_version

        pip = make_plan(alex, "pending_hr", hr=harper)
        content = content_from_version(pip.current_version)
        assert_refused(pip, lambda: services.pip_update_draft(actor=sam, pip=pip, content=content))
        pip = services.pip_approve(actor=harper, pip=pip)
        assert_refused(pip, lambda: services.pip_update_draft(actor=sam, pip=pip, content=content))

    def test_draft_edit_writes_event(self, alex, sam, make_plan):
        from pips.content import content_from_version

        pip = make_plan(alex)
        content = content_from_version(pip.current_version)
        content.description = "Changed."
        services.pip_update_draft(actor=sam, pip=pip, content=content)
        assert events(pip) == ["created", "edited"]
        assert Pip.objects.get(pk=pip.pk).current_version.description == "Changed."


class TestIssueAndSign:
    def test_issue_freezes_and_manager_signs(self, alex, sam, harper, make_plan):
        pip = make_plan(alex, "approved", hr=harper)
        assert_refused(
            pip,
            lambda: services.pip_issue(
                actor=harper, pip=pip, meeting_held_on=timezone.localdate(), signature=sig(harper)
            ),
        )
        pip = services.pip_issue(
            actor=sam, pip=pip, meeting_held_on=timezone.localdate(), signature=sig(sam)
        )
        assert pip.status == Status.ISSUED
        version = pip.current_version
        version.refresh_from_db()
        assert version.state == "issued" and len(version.content_sha256) == 64
        assert pip.ack_due_at > timezone.now()
        assert events(pip)[-2:] == ["issued", "signed"]

    def test_issue_with_wrong_name_changes_nothing(self, alex, sam, harper, make_plan):
        pip = make_plan(alex, "approved", hr=harper)
        assert_refused(
            pip,
            lambda: services.pip_issue(
                actor=sam,
                pip=pip,
                meeting_held_on=timezone.localdate(),
                signature=SignatureInput(typed_name="Samuel C", consent=True),
            ),
        )

    def test_full_signature_order_activates(self, alex, sam, harper, make_plan):
        pip = make_plan(alex, "issued", hr=harper)
        version = pip.current_version
        # HR cannot countersign before the employee.
        assert_refused(
            pip,
            lambda: services.signature_add(
                actor=harper, pip=pip, version=version, role=SignerRole.HR, data=sig(harper)
            ),
        )
        # Nobody else can sign as the employee.
        assert_refused(
            pip,
            lambda: services.signature_add(
                actor=sam, pip=pip, version=version, role=SignerRole.AGENT, data=sig(sam)
            ),
        )
        services.signature_add(
            actor=alex.user,
            pip=pip,
            version=version,
            role=SignerRole.AGENT,
            data=sig(alex.user, agrees=False, comments="AHT target is hard."),
        )
        assert Pip.objects.get(pk=pip.pk).status == Status.ISSUED
        services.signature_add(
            actor=harper, pip=pip, version=version, role=SignerRole.HR, data=sig(harper)
        )
        pip.refresh_from_db()
        assert pip.status == Status.ACTIVE
        assert events(pip)[-3:] == ["signed", "signed", "activated"]
        assert pip.schedule.filter(kind="final").count() == 1

    def test_refusal_with_witness_completes_acknowledgment(
        self, alex, sam, harper, olivia, make_plan
    ):
        pip = make_plan(alex, "issued", hr=harper)
        assert_refused(
            pip,
            lambda: services.refusal_record(actor=sam, pip=pip, witness=alex.user, note="Refused."),
        )
        assert_refused(
            pip,
            lambda: services.refusal_record(actor=olivia, pip=pip, witness=harper, note="Refused."),
        )
        services.refusal_record(
            actor=sam, pip=pip, witness=harper, note="Alex declined to sign after the meeting."
        )
        services.signature_add(
            actor=harper, pip=pip, version=pip.current_version, role=SignerRole.HR, data=sig(harper)
        )
        assert Pip.objects.get(pk=pip.pk).status == Status.ACTIVE


SPANISH_MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]


class TestReviewsAndOutcomes:
    def test_short_plan_final_successful(self, alex, sam, harper, make_plan):
        pip = make_plan(alex, "active", hr=harper)
        assert_refused(pip, lambda: services.review_open(pip=pip, kind=Review.Kind.MIDPOINT))
        review, created = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        assert created and Pip.objects.get(pk=pip.pk).status == Status.FINAL
        again, created_again = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        assert again.pk == review.pk and not created_again
        assert_refused(
            pip,
            lambda: services.final_record(
                actor=harper,
                review=review,
                items=items_for(pip),
                outcome="successful",
                summary="x",
                suggestions={},
            ),
        )
        services.final_record(
            actor=sam,
            review=review,
            items=items_for(pip),
            outcome=Outcome.SUCCESSFUL,
            summary="All met.",
            suggestions={},
        )
        pip.refresh_from_db()
        assert pip.status == Status.CLOSED_SUCCESSFUL and pip.closed_at
        assert events(pip)[-2:] == ["final_review_opened", "closed"]

    def test_long_plan_needs_midpoint_first(self, alex, sam, harper, make_plan):
        pip = make_plan(alex, "active", hr=harper, days=60)
        assert_refused(pip, lambda: services.review_open(pip=pip, kind=Review.Kind.FINAL))
        review, _ = services.review_open(pip=pip, kind=Review.Kind.MIDPOINT)
        services.midpoint_record(
            actor=sam, review=review, items=items_for(pip), summary="On track", suggestions={}
        )
        assert Pip.objects.get(pk=pip.pk).status == Status.MIDPOINT
        review, _ = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        assert Pip.objects.get(pk=pip.pk).status == Status.FINAL

    def test_unsuccessful_goes_to_hr(self, alex, sam, harper, make_plan):
        pip = make_plan(alex, "active", hr=harper)
        review, _ = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        services.final_record(
            actor=sam,
            review=review,
            items=items_for(pip, False),
            outcome=Outcome.UNSUCCESSFUL,
            summary="Not met.",
            suggestions={},
        )
        assert Pip.objects.get(pk=pip.pk).status == Status.FINAL
        assert_refused(
            pip,
            lambda: services.pip_decide(
                actor=sam,
                pip=pip,
                outcome=Outcome.UNSUCCESSFUL,
                decision="x",
                consequence="y",
                typed_name="Sam Carter",
            ),
        )
        services.pip_decide(
            actor=harper,
            pip=pip,
            outcome=Outcome.UNSUCCESSFUL,
            decision="Reviewed.",
            consequence="Written warning.",
            typed_name="Harper Lee",
        )
        pip.refresh_from_db()
        assert pip.status == Status.CLOSED_UNSUCCESSFUL
        assert pip.consequence == "Written warning."
        assert events(pip)[-2:] == ["referred_to_hr", "closed"]

    def test_extension_creates_amendment(self, alex, sam, harper, make_plan):
        pip = make_plan(alex, "active", hr=harper)
        review, _ = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        end = pip.current_version.period_end
        with pytest.raises(ValidationError):
            services.final_record(
                actor=sam,
                review=review,
                items=items_for(pip),
                outcome=Outcome.EXTENDED,
                summary="More time",
                suggestions={},
                new_end_date=end,
            )
        services.final_record(
            actor=sam,
            review=review,
            items=items_for(pip),
            outcome=Outcome.EXTENDED,
            summary="More time",
            suggestions={},
            new_end_date=end + dt.timedelta(days=14),
        )
        pip.refresh_from_db()
        assert pip.status == Status.EXTENDED
        amendment = pip.versions.get(number=2)
        assert amendment.state == "draft" and amendment.period_end == end + dt.timedelta(days=14)
        services.amendment_submit(actor=sam, pip=pip)
        services.amendment_decide(actor=harper, pip=pip, approve=True)
        pip.refresh_from_db()
        assert pip.current_version.number == 2 and pip.extension_count == 1
        assert pip.versions.get(number=1).state == "superseded"

    def test_extension_summary_is_written_in_the_plans_language(self, alex, sam, harper, make_plan):
        # Kept as the plan's own text (shown marked with its language): a Spanish plan's reads
        # in Spanish, whatever language the supervisor's page is in; an English one as before.
        pip = make_plan(alex, "active", hr=harper)
        PipVersion.objects.filter(pk=pip.current_version_id).update(language="es")
        review, _ = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        new_end = pip.current_version.period_end + dt.timedelta(days=14)
        with translation.override("fr"):
            services.final_record(
                actor=sam,
                review=review,
                items=items_for(pip),
                outcome=Outcome.EXTENDED,
                summary="Dos semanas más de acompañamiento.",
                suggestions={},
                new_end_date=new_end,
            )
        amendment = Pip.objects.get(pk=pip.pk).versions.get(number=2)
        assert amendment.language == "es"
        month = SPANISH_MONTHS[new_end.month - 1]
        assert amendment.change_summary == (
            f"Prorrogado hasta el {new_end.day} de {month} de {new_end.year} en la revisión "
            "final. Dos semanas más de acompañamiento."
        )

    def test_extension_summary_in_english_reads_as_before(self, alex, sam, harper, make_plan):
        pip = make_plan(alex, "active", hr=harper)
        review, _ = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        new_end = pip.current_version.period_end + dt.timedelta(days=14)
        services.final_record(
            actor=sam,
            review=review,
            items=items_for(pip),
            outcome=Outcome.EXTENDED,
            summary="More time",
            suggestions={},
            new_end_date=new_end,
        )
        amendment = pip.versions.get(number=2)
        assert amendment.change_summary == (
            f"Extended to {new_end:%d %b %Y} at the final review. More time"
        )

    def test_hr_cancels_any_open_state_with_reason(self, alex, sam, harper, make_plan):
        pip = make_plan(alex, "issued", hr=harper)
        assert_refused(pip, lambda: services.pip_cancel(actor=sam, pip=pip, reason="x"))
        assert_refused(pip, lambda: services.pip_cancel(actor=harper, pip=pip, reason=""))
        services.pip_cancel(actor=harper, pip=pip, reason="Moved to another role.")
        pip.refresh_from_db()
        assert pip.status == Status.CANCELLED
        assert_refused(pip, lambda: services.pip_cancel(actor=harper, pip=pip, reason="again"))


@pytest.mark.parametrize("state", ["draft", "pending_hr", "approved", "issued", "active"])
def test_each_state_refuses_steps_of_other_states(state, alex, sam, harper, make_plan):
    pip = make_plan(alex, state, hr=harper)
    today = timezone.localdate()
    attempts = {
        "submit": lambda: services.pip_submit(actor=sam, pip=pip),
        "approve": lambda: services.pip_approve(actor=harper, pip=pip),
        "issue": lambda: services.pip_issue(
            actor=sam, pip=pip, meeting_held_on=today, signature=sig(sam)
        ),
        "open_final": lambda: services.review_open(pip=pip, kind=Review.Kind.FINAL),
        "decide": lambda: services.pip_decide(
            actor=harper,
            pip=pip,
            outcome=Outcome.UNSUCCESSFUL,
            decision="d",
            consequence="c",
            typed_name="Harper Lee",
        ),
    }
    allowed = {
        "draft": {"submit"},
        "pending_hr": {"approve"},
        "approved": {"issue"},
        "issued": set(),
        "active": {"open_final"},
    }[state]
    for name, call in attempts.items():
        if name not in allowed:
            assert_refused(pip, call)
