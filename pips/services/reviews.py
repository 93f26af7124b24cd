"""Check-ins, the midpoint and final reviews, and HR's decision on an unsuccessful plan."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from pips import roles, rules
from pips.inputs import (
    CheckInInput,
    RequestMeta,
    ReviewItemInput,
)
from pips.models import (
    RUNNING_STATUSES,
    ActionItem,
    ActionSession,
    ActionStatus,
    CheckIn,
    CheckInActionUpdate,
    Outcome,
    Pip,
    PipVersion,
    Review,
    ReviewItem,
    ScheduleItem,
    Status,
)
from pips.services.amendments import amendment_start
from pips.services.common import (
    TransitionError,
    lock,
    require,
    require_state,
    transition,
    write_audit,
)


def checkin_record(
    *,
    actor,
    pip: Pip,
    data: CheckInInput,
    snapshot: list[dict],
    meta: RequestMeta | None = None,
) -> CheckIn:
    """Record a check-in held with the agent: the KPI snapshot, each action's status and the
    support sessions actually given."""
    if data.held_on > timezone.localdate():
        raise ValidationError({"held_on": "A check-in cannot be recorded before it is held."})
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.is_plan_supervisor(actor, pip), "Only the plan's supervisor records check-ins."
        )
        require_state(pip, RUNNING_STATUSES, "record a check-in on")
        version = pip.current_version
        items = {a.pk: a for a in version.actions.all()}
        unknown = (set(data.action_statuses) | set(data.sessions_held)) - set(items)
        if unknown:
            raise ValidationError({"actions": "Unknown action item."})
        if any(s not in ActionStatus.values for s in data.action_statuses.values()):
            raise ValidationError({"actions": "Unknown action status."})
        _check_sessions(version, items, data)
        try:
            with transaction.atomic():
                checkin = CheckIn.objects.create(
                    pip=pip,
                    version=version,
                    scheduled_for=data.scheduled_for,
                    held_on=data.held_on,
                    attendees=data.attendees.strip(),
                    notes=data.notes.strip(),
                    coaching_done=data.coaching_done.strip(),
                    next_steps=data.next_steps.strip(),
                    snapshot_note=data.snapshot_note.strip(),
                    kpi_snapshot=snapshot,
                    recorded_by=actor,
                )
        except IntegrityError:
            raise ValidationError(
                {"scheduled_for": "That scheduled check-in has already been recorded."}
            ) from None
        CheckInActionUpdate.objects.bulk_create(
            CheckInActionUpdate(checkin=checkin, action_item_id=pk, status=status)
            for pk, status in data.action_statuses.items()
        )
        for pk, status in data.action_statuses.items():
            if items[pk].status != status:
                items[pk].status = status
                items[pk].save(update_fields=["status"])
        ActionSession.objects.bulk_create(
            ActionSession(action_item_id=pk, checkin=checkin, held_on=day, recorded_by=actor)
            for pk, days in data.sessions_held.items()
            for day in sorted(set(days))
        )
        _complete_schedule(pip, ScheduleItem.Kind.CHECKIN, data.scheduled_for)
        write_audit(
            pip=pip,
            actor=actor,
            action="checkin_recorded",
            meta=meta,
            version=version,
            changes={"held_on": data.held_on.isoformat(), "checkin": checkin.pk},
        )
    return checkin


def _check_sessions(version: PipVersion, items: dict[int, ActionItem], data: CheckInInput) -> None:
    """Sessions are recorded for support that records them, inside the plan, not after the
    check-in, and once per day."""
    for pk, days in data.sessions_held.items():
        item = items[pk]
        if not item.records_sessions:
            raise ValidationError({"sessions": f"{item.action}: no sessions are recorded for it."})
        for day in days:
            if not version.period_start <= day <= data.held_on:
                raise ValidationError(
                    {
                        "sessions": f"{item.action}: a session on {day:%d %b %Y} must fall "
                        "between the start of the plan and the day of the check-in."
                    }
                )
    wanted = {(pk, day) for pk, days in data.sessions_held.items() for day in days}
    if wanted:
        existing = ActionSession.objects.filter(
            action_item_id__in={pk for pk, _ in wanted},
            held_on__in={day for _, day in wanted},
        ).values_list("action_item_id", "held_on")
        for pk, day in existing:
            if (pk, day) in wanted:
                raise ValidationError(
                    {
                        "sessions": f"{items[pk].action}: the session on {day:%d %b %Y} is "
                        "already recorded."
                    }
                )


def checkin_missed(
    *, actor, pip: Pip, scheduled_for: dt.date, reason: str, meta: RequestMeta | None = None
) -> CheckIn:
    if not reason.strip():
        raise ValidationError({"missed_reason": "Say why the check-in did not happen."})
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.is_plan_supervisor(actor, pip), "Only the plan's supervisor records check-ins."
        )
        require_state(pip, RUNNING_STATUSES, "record a check-in on")
        try:
            with transaction.atomic():
                checkin = CheckIn.objects.create(
                    pip=pip,
                    version=pip.current_version,
                    scheduled_for=scheduled_for,
                    held_on=scheduled_for,
                    state=CheckIn.State.MISSED,
                    missed_reason=reason.strip(),
                    recorded_by=actor,
                )
        except IntegrityError:
            raise ValidationError(
                {"scheduled_for": "That scheduled check-in has already been recorded."}
            ) from None
        _complete_schedule(pip, ScheduleItem.Kind.CHECKIN, scheduled_for)
        write_audit(
            pip=pip,
            actor=actor,
            action="checkin_missed",
            meta=meta,
            version=pip.current_version,
            comment=reason.strip(),
            changes={"scheduled_for": scheduled_for.isoformat()},
        )
    return checkin


def checkin_agent_comment(
    *, actor, checkin: CheckIn, comment: str, meta: RequestMeta | None = None
) -> CheckIn:
    if not comment.strip():
        raise ValidationError({"agent_comment": "Write your comment."})
    with transaction.atomic():
        pip = lock(checkin.pip)
        require(pip.agent.user_id == actor.pk, "Only the employee can comment here.")
        checkin = CheckIn.objects.select_for_update().get(pk=checkin.pk)
        if checkin.agent_comment:
            raise TransitionError("You have already commented on this check-in.")
        checkin.agent_comment = comment.strip()
        checkin.save(update_fields=["agent_comment"])
        write_audit(
            pip=pip,
            actor=actor,
            action="checkin_commented",
            meta=meta,
            comment=comment.strip(),
            changes={"checkin": checkin.pk},
        )
    return checkin


def _complete_schedule(pip: Pip, kind: str, due_on: dt.date | None) -> None:
    if due_on is not None:
        pip.schedule.filter(kind=kind, due_on=due_on, done_at__isnull=True).update(
            done_at=timezone.now()
        )


def review_open(
    *, pip: Pip, kind: str, actor=None, meta: RequestMeta | None = None
) -> tuple[Review, bool]:
    """Open the midpoint or final review for the version in force. Safe to call again: the
    second call finds the review already open and changes nothing."""
    with transaction.atomic():
        pip = lock(pip)
        if actor is not None:
            require(
                rules.is_plan_supervisor(actor, pip) or roles.is_hr(actor),
                "Only the plan's supervisor or HR opens a review.",
            )
        version = pip.current_version
        existing = Review.objects.filter(pip=pip, kind=kind, version=version).first()
        if existing is not None:
            return existing, False
        if kind == Review.Kind.MIDPOINT:
            require_state(pip, [Status.ACTIVE], "open the midpoint review of")
            if not version.midpoint_date:
                raise TransitionError("This plan has no midpoint review.")
            due = version.midpoint_date
        elif kind == Review.Kind.FINAL:
            require_state(
                pip, [Status.ACTIVE, Status.MIDPOINT, Status.EXTENDED], "open the final review of"
            )
            if (
                version.midpoint_date
                and not pip.reviews.filter(
                    kind=Review.Kind.MIDPOINT, state=Review.State.DONE
                ).exists()
            ):
                raise TransitionError("Complete the midpoint review first.")
            due = version.final_review_date
        else:
            raise ValidationError({"kind": "Unknown review."})
        # The schedule opens a review on its day; by hand, it can be opened from that day on.
        if actor is not None and due > timezone.localdate():
            raise TransitionError(
                f"This review is due on {due:%d %b %Y}; it can be opened from that day."
            )
        review = Review.objects.create(pip=pip, version=version, kind=kind, due_on=due)
        if kind == Review.Kind.FINAL:
            transition(pip, actor=actor, to=Status.FINAL, action="final_review_opened", meta=meta)
        else:
            write_audit(
                pip=pip, actor=actor, action="midpoint_review_opened", meta=meta, version=version
            )
    return review, True


def _review_items(review: Review, items: list[ReviewItemInput], suggestions: dict) -> None:
    expectations = {e.pk: e for e in review.version.expectations.all()}
    given = {i.expectation_id for i in items}
    if given != set(expectations):
        raise ValidationError({"items": "Judge every expectation of the plan, and only those."})
    ReviewItem.objects.bulk_create(
        ReviewItem(
            review=review,
            expectation_id=i.expectation_id,
            current_value=suggestions.get(i.expectation_id, (None, None))[0],
            suggested=suggestions.get(i.expectation_id, (None, None))[1],
            confirmed=i.confirmed,
            evidence=i.evidence.strip(),
            adjustment=i.adjustment.strip(),
        )
        for i in items
    )


def midpoint_record(
    *,
    actor,
    review: Review,
    items: list[ReviewItemInput],
    summary: str,
    suggestions: dict[int, tuple[float | None, bool | None]],
    meta: RequestMeta | None = None,
) -> Review:
    with transaction.atomic():
        pip = lock(review.pip)
        require(
            rules.is_plan_supervisor(actor, pip),
            "Only the plan's supervisor records the midpoint review.",
        )
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.kind != Review.Kind.MIDPOINT or review.state != Review.State.OPEN:
            raise TransitionError("This midpoint review is not open.")
        require_state(pip, [Status.ACTIVE], "record the midpoint review of")
        _review_items(review, items, suggestions)
        review.state = Review.State.DONE
        review.summary = summary.strip()
        review.held_on = timezone.localdate()
        review.completed_by = actor
        review.completed_at = timezone.now()
        review.save(update_fields=["state", "summary", "held_on", "completed_by", "completed_at"])
        _complete_schedule(pip, ScheduleItem.Kind.MIDPOINT, pip.current_version.midpoint_date)
        transition(
            pip,
            actor=actor,
            to=Status.MIDPOINT,
            action="midpoint_recorded",
            meta=meta,
            comment=summary.strip(),
        )
    return review


def final_record(
    *,
    actor,
    review: Review,
    items: list[ReviewItemInput],
    outcome: str,
    summary: str,
    suggestions: dict[int, tuple[float | None, bool | None]],
    new_end_date: dt.date | None = None,
    meta: RequestMeta | None = None,
) -> Review:
    """The final review: each expectation met or not, then the outcome. Successful closes the
    plan; extended starts an amendment with the new end date; unsuccessful goes to HR."""
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Choose an outcome."})
    with transaction.atomic():
        pip = lock(review.pip)
        require(
            rules.is_plan_supervisor(actor, pip),
            "Only the plan's supervisor records the final review.",
        )
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.kind != Review.Kind.FINAL or review.state != Review.State.OPEN:
            raise TransitionError("This final review is not open.")
        require_state(pip, [Status.FINAL], "record the final review of")
        if outcome == Outcome.EXTENDED:
            if pip.extension_count >= settings.PIP_MAX_EXTENSIONS:
                raise ValidationError({"outcome": "This plan has already been extended."})
            version = pip.current_version
            limit = version.period_start + dt.timedelta(days=settings.PIP_MAX_PERIOD_DAYS)
            if new_end_date is None or not version.period_end < new_end_date <= limit:
                raise ValidationError(
                    {
                        "new_end_date": f"Give a new end date after {version.period_end:%d %b %Y} "
                        f"and no later than {limit:%d %b %Y}."
                    }
                )
        _review_items(review, items, suggestions)
        review.state = Review.State.DONE
        review.outcome = outcome
        review.summary = summary.strip()
        review.supervisor_comments = summary.strip()
        review.new_end_date = new_end_date if outcome == Outcome.EXTENDED else None
        review.held_on = timezone.localdate()
        review.completed_by = actor
        review.completed_at = timezone.now()
        review.save(
            update_fields=[
                "state",
                "outcome",
                "summary",
                "supervisor_comments",
                "new_end_date",
                "held_on",
                "completed_by",
                "completed_at",
            ]
        )
        _complete_schedule(pip, ScheduleItem.Kind.FINAL, review.due_on)
        if outcome == Outcome.SUCCESSFUL:
            transition(
                pip,
                actor=actor,
                to=Status.CLOSED_SUCCESSFUL,
                action="closed",
                meta=meta,
                comment=summary.strip(),
                outcome=outcome,
                closed_at=timezone.now(),
            )
        elif outcome == Outcome.EXTENDED:
            transition(
                pip,
                actor=actor,
                to=Status.EXTENDED,
                action="extended",
                meta=meta,
                comment=summary.strip(),
            )
        else:
            write_audit(
                pip=pip,
                actor=actor,
                action="referred_to_hr",
                meta=meta,
                version=pip.current_version,
                comment=summary.strip(),
            )
        if outcome == Outcome.EXTENDED:
            amendment_start(
                actor=actor,
                pip=pip,
                meta=meta,
                new_end_date=new_end_date,
                change_summary=f"Extended to {new_end_date:%d %b %Y} at the final review. "
                f"{summary.strip()}",
            )
    return review


def pip_decide_unsuccessful(
    *, actor, pip: Pip, decision: str, consequence: str, meta: RequestMeta | None = None
) -> Pip:
    """HR records the decision and the consequence of an unsuccessful plan, and signs it off."""
    errors = {}
    if not decision.strip():
        errors["decision"] = "Record HR's decision."
    if not consequence.strip():
        errors["consequence"] = "Record the consequence."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pip = lock(pip)
        require(roles.is_hr(actor), "Only HR decides on an unsuccessful plan.")
        require_state(pip, [Status.FINAL], "decide on")
        review = pip.reviews.filter(
            kind=Review.Kind.FINAL, state=Review.State.DONE, version=pip.current_version
        ).first()
        if review is None or review.outcome != Outcome.UNSUCCESSFUL:
            raise TransitionError("The final review has not found the plan unsuccessful.")
        review.hr_comments = decision.strip()
        review.save(update_fields=["hr_comments"])
        transition(
            pip,
            actor=actor,
            to=Status.CLOSED_UNSUCCESSFUL,
            action="closed",
            meta=meta,
            comment=decision.strip(),
            outcome=Outcome.UNSUCCESSFUL,
            hr_decision=decision.strip(),
            consequence=consequence.strip(),
            closed_at=timezone.now(),
        )
    return pip
