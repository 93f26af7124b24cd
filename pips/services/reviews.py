"""Check-ins, the midpoint and final reviews, and HR's decision on the outcome.

Check-ins and reviews are recorded by the plan's supervisor, or by their delegate on a day of
cover (recorded as the delegate's, on behalf of the supervisor); none while the plan is paused.
An outcome the per-target verdicts do not support waits for HR, who decides any outcome with a
typed-name sign-off."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from pips import limits, rules
from pips.audit import AuditAction
from pips.inputs import (
    CheckInInput,
    RequestMeta,
    ReviewItemInput,
)
from pips.models import (
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
from pips.services.amendments import create_amendment
from pips.services.common import (
    TransitionError,
    lock,
    require,
    require_state,
    transition,
    write_audit,
)
from pipsystem import l10n


def _require_recorder(actor, pip: Pip, doing: str) -> dict:
    """The plan's supervisor, or their delegate today; the plan not paused. Returns what the
    audit event says of a delegate: on whose behalf they recorded."""
    require(
        rules.may_record_meetings(actor, pip),
        gettext("Only the plan's supervisor, or their delegate, %(doing)s.") % {"doing": doing},
    )
    if pip.paused_since is not None:
        raise TransitionError(
            gettext("This plan is paused for leave since %(date)s; resume it first.")
            % {"date": l10n.date(pip.paused_since, long=True)}
        )
    if rules.is_plan_supervisor(actor, pip):
        return {}
    return {"on_behalf_of": pip.supervisor.get_full_name() or pip.supervisor.get_username()}


def _on_behalf_of(actor, pip: Pip):
    return None if rules.is_plan_supervisor(actor, pip) else pip.supervisor


def _locked_for_checkin(actor, pip: Pip) -> tuple[Pip, dict]:
    """The plan, locked, once the actor may record a check-in (held or missed) on it, and what
    the audit event says of a delegate."""
    pip = lock(pip)
    behalf = _require_recorder(actor, pip, gettext("records check-ins"))
    require_state(pip, rules.RECORDABLE, gettext("record a check-in on"))
    return pip, behalf


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
        raise ValidationError(
            {"held_on": gettext("A check-in cannot be recorded before it is held.")}
        )
    limits.check(
        {
            "attendees": (data.attendees.strip(), limits.SHORT_TEXT),
            "notes": (data.notes.strip(), limits.LONG_TEXT),
            "coaching_done": (data.coaching_done.strip(), limits.LONG_TEXT),
            "next_steps": (data.next_steps.strip(), limits.LONG_TEXT),
            "snapshot_note": (data.snapshot_note.strip(), limits.MEDIUM_TEXT),
        }
    )
    with transaction.atomic():
        pip, behalf = _locked_for_checkin(actor, pip)
        version = pip.current_version
        items = {a.pk: a for a in version.actions.all()}
        unknown = (set(data.action_statuses) | set(data.sessions_held)) - set(items)
        if unknown:
            raise ValidationError({"actions": gettext("Unknown action item.")})
        if any(s not in ActionStatus.values for s in data.action_statuses.values()):
            raise ValidationError({"actions": gettext("Unknown action status.")})
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
                    on_behalf_of=_on_behalf_of(actor, pip),
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
            action=AuditAction.CHECKIN_RECORDED,
            meta=meta,
            version=version,
            changes={"held_on": data.held_on.isoformat(), "checkin": checkin.pk, **behalf},
        )
    return checkin


def _check_sessions(version: PipVersion, items: dict[int, ActionItem], data: CheckInInput) -> None:
    """Sessions are recorded for support that records them, inside the plan, not after the
    check-in, and once per day."""
    for pk, days in data.sessions_held.items():
        item = items[pk]
        if not item.records_sessions:
            raise ValidationError(
                {
                    "sessions": gettext("%(action)s: no sessions are recorded for it.")
                    % {"action": item.action}
                }
            )
        for day in days:
            if not version.period_start <= day <= data.held_on:
                raise ValidationError(
                    {
                        "sessions": gettext(
                            "%(action)s: a session on %(date)s must fall between the start of "
                            "the plan and the day of the check-in."
                        )
                        % {"action": item.action, "date": l10n.date(day, long=True)}
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
                        "sessions": gettext(
                            "%(action)s: the session on %(date)s is already recorded."
                        )
                        % {"action": items[pk].action, "date": l10n.date(day, long=True)}
                    }
                )


def checkin_missed(
    *, actor, pip: Pip, scheduled_for: dt.date, reason: str, meta: RequestMeta | None = None
) -> CheckIn:
    if not reason.strip():
        raise ValidationError({"missed_reason": gettext("Say why the check-in did not happen.")})
    limits.check({"missed_reason": (reason.strip(), limits.MEDIUM_TEXT)})
    with transaction.atomic():
        pip, behalf = _locked_for_checkin(actor, pip)
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
                    on_behalf_of=_on_behalf_of(actor, pip),
                )
        except IntegrityError:
            raise ValidationError(
                {"scheduled_for": "That scheduled check-in has already been recorded."}
            ) from None
        _complete_schedule(pip, ScheduleItem.Kind.CHECKIN, scheduled_for)
        write_audit(
            pip=pip,
            actor=actor,
            action=AuditAction.CHECKIN_MISSED,
            meta=meta,
            version=pip.current_version,
            comment=reason.strip(),
            changes={"scheduled_for": scheduled_for.isoformat(), **behalf},
        )
    return checkin


def checkin_agent_comment(
    *, actor, checkin: CheckIn, comment: str, meta: RequestMeta | None = None
) -> CheckIn:
    if not comment.strip():
        raise ValidationError({"agent_comment": gettext("Write your comment.")})
    with transaction.atomic():
        pip = lock(checkin.pip)
        require(rules.is_plan_employee(actor, pip), gettext("Only the employee can comment here."))
        checkin = CheckIn.objects.select_for_update().get(pk=checkin.pk)
        if checkin.agent_comment:
            raise TransitionError(gettext("You have already commented on this check-in."))
        checkin.agent_comment = comment.strip()
        checkin.save(update_fields=["agent_comment"])
        write_audit(
            pip=pip,
            actor=actor,
            action=AuditAction.CHECKIN_COMMENTED,
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
                rules.may_record_meetings(actor, pip) or rules.is_hr(actor),
                gettext("Only the plan's supervisor, their delegate or HR opens a review."),
            )
        if pip.paused_since is not None:
            raise TransitionError(
                gettext("This plan is paused for leave since %(date)s; resume it first.")
                % {"date": l10n.date(pip.paused_since, long=True)}
            )
        version = pip.current_version
        existing = Review.objects.filter(pip=pip, kind=kind, version=version).first()
        if existing is not None:
            return existing, False
        if kind == Review.Kind.MIDPOINT:
            require_state(pip, rules.MIDPOINT_OPENABLE, gettext("open the midpoint review of"))
            if not version.midpoint_date:
                raise TransitionError(gettext("This plan has no midpoint review."))
            due = pip.shifted(version.midpoint_date)
        elif kind == Review.Kind.FINAL:
            require_state(pip, rules.FINAL_OPENABLE, gettext("open the final review of"))
            if (
                version.midpoint_date
                and not pip.reviews.filter(
                    kind=Review.Kind.MIDPOINT, state=Review.State.DONE
                ).exists()
            ):
                raise TransitionError(gettext("Complete the midpoint review first."))
            due = pip.shifted(version.final_review_date)
        else:
            raise ValidationError({"kind": gettext("Unknown review.")})
        # The schedule opens a review on its day; by hand, it can be opened from that day on.
        if actor is not None and due > timezone.localdate():
            raise TransitionError(
                gettext("This review is due on %(date)s; it can be opened from that day.")
                % {"date": l10n.date(due, long=True)}
            )
        review = Review.objects.create(pip=pip, version=version, kind=kind, due_on=due)
        if kind == Review.Kind.FINAL:
            transition(
                pip, actor=actor, to=Status.FINAL, action=AuditAction.FINAL_REVIEW_OPENED, meta=meta
            )
        else:
            write_audit(
                pip=pip,
                actor=actor,
                action=AuditAction.MIDPOINT_REVIEW_OPENED,
                meta=meta,
                version=version,
            )
    return review, True


def _review_items(review: Review, items: list[ReviewItemInput], suggestions: dict) -> None:
    for item in items:
        limits.check(
            {
                "items": (item.evidence.strip(), limits.MEDIUM_TEXT),
                "adjustment": (item.adjustment.strip(), limits.MEDIUM_TEXT),
            }
        )
    expectations = {e.pk: e for e in review.version.expectations.all()}
    given = {i.expectation_id for i in items}
    if given != set(expectations):
        raise ValidationError(
            {"items": gettext("Judge every expectation of the plan, and only those.")}
        )
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


def _locked_for_review(actor, review: Review, kind: str) -> tuple[Pip, Review, dict]:
    """The plan and the review, locked, once the actor may record this open review on it, and
    what the audit event says of a delegate."""
    pip = lock(review.pip)
    midpoint = kind == Review.Kind.MIDPOINT
    behalf = _require_recorder(
        actor,
        pip,
        gettext("records the midpoint review") if midpoint else gettext("records the final review"),
    )
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.kind != kind or review.state != Review.State.OPEN:
        raise TransitionError(
            gettext("This midpoint review is not open.")
            if midpoint
            else gettext("This final review is not open.")
        )
    require_state(
        pip,
        [rules.REVIEW_RECORDABLE[kind]],
        gettext("record the midpoint review of")
        if midpoint
        else gettext("record the final review of"),
    )
    return pip, review, behalf


def _mark_done(review: Review, *, actor, pip: Pip, fields: list[str]) -> None:
    """A review recorded: held today, by the actor (on behalf of the plan's supervisor when a
    delegate records it), saved with the fields the caller filled."""
    review.state = Review.State.DONE
    review.held_on = timezone.localdate()
    review.completed_by = actor
    review.on_behalf_of = _on_behalf_of(actor, pip)
    review.completed_at = timezone.now()
    review.save(
        update_fields=[
            "state",
            *fields,
            "held_on",
            "completed_by",
            "on_behalf_of",
            "completed_at",
        ]
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
        pip, review, behalf = _locked_for_review(actor, review, Review.Kind.MIDPOINT)
        _review_items(review, items, suggestions)
        review.summary = summary.strip()
        _mark_done(review, actor=actor, pip=pip, fields=["summary"])
        _complete_schedule(pip, ScheduleItem.Kind.MIDPOINT, review.due_on)
        transition(
            pip,
            actor=actor,
            to=Status.MIDPOINT,
            action=AuditAction.MIDPOINT_RECORDED,
            meta=meta,
            comment=summary.strip(),
            changes=behalf or None,
        )
    return review


def _not_met(
    review: Review, items: list[ReviewItemInput], suggestions: dict
) -> tuple[int, int, list[str]]:
    """How many targets the verdicts mark not met, of how many, and which met verdicts the
    data contradicts (by area)."""
    areas = {e.pk: e.area for e in review.version.expectations.all()}
    not_met = sum(1 for i in items if not i.confirmed)
    contradicted = [
        areas.get(i.expectation_id, "")
        for i in items
        if i.confirmed and suggestions.get(i.expectation_id, (None, None))[1] is False
    ]
    return not_met, len(items), contradicted


def final_record(
    *,
    actor,
    review: Review,
    items: list[ReviewItemInput],
    outcome: str,
    summary: str,
    suggestions: dict[int, tuple[float | None, bool | None]],
    new_end_date: dt.date | None = None,
    justification: str = "",
    meta: RequestMeta | None = None,
) -> Review:
    """The final review: each expectation met or not, then the outcome. Successful closes the
    plan when the verdicts and the data support it; when a target is not met, or the data
    contradicts a "met", it needs a written justification and goes to HR, who decides. Extended
    starts an amendment with the new end date; unsuccessful goes to HR."""
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": gettext("Choose an outcome.")})
    limits.check(
        {
            "summary": (summary.strip(), limits.LONG_TEXT),
            "justification": (justification.strip(), limits.MEDIUM_TEXT),
        }
    )
    with transaction.atomic():
        pip, review, behalf = _locked_for_review(actor, review, Review.Kind.FINAL)
        if outcome == Outcome.EXTENDED:
            _check_extension(pip, new_end_date)
        not_met, judged, contradicted = _not_met(review, items, suggestions)
        to_hr = outcome == Outcome.SUCCESSFUL and (not_met or contradicted)
        if to_hr and not justification.strip():
            problems = []
            if not_met:
                problems.append(
                    ngettext(
                        "%(not_met)s of %(judged)s target is marked not met",
                        "%(not_met)s of %(judged)s targets are marked not met",
                        judged,
                    )
                    % {"not_met": not_met, "judged": judged}
                )
            if contradicted:
                problems.append(
                    gettext("the data says %(kpis)s not met although marked met")
                    % {"kpis": ", ".join(contradicted)}
                )
            raise ValidationError(
                {
                    "justification": gettext(
                        "A successful outcome must agree with the verdicts: %(problems)s. Write "
                        "why the plan should close as successful all the same; HR decides "
                        "before it takes effect. Or choose another outcome."
                    )
                    % {"problems": "; ".join(problems)}
                }
            )
        _review_items(review, items, suggestions)
        review.outcome = outcome
        review.summary = summary.strip()
        review.supervisor_comments = summary.strip()
        review.justification = justification.strip() if to_hr else ""
        review.new_end_date = new_end_date if outcome == Outcome.EXTENDED else None
        _mark_done(
            review,
            actor=actor,
            pip=pip,
            fields=["outcome", "summary", "supervisor_comments", "justification", "new_end_date"],
        )
        _complete_schedule(pip, ScheduleItem.Kind.FINAL, review.due_on)
        if outcome == Outcome.SUCCESSFUL and not to_hr:
            transition(
                pip,
                actor=actor,
                to=Status.CLOSED_SUCCESSFUL,
                action=AuditAction.CLOSED,
                meta=meta,
                comment=summary.strip(),
                changes=behalf or None,
                outcome=outcome,
                closed_at=timezone.now(),
            )
        elif outcome == Outcome.EXTENDED:
            transition(
                pip,
                actor=actor,
                to=Status.EXTENDED,
                action=AuditAction.EXTENDED,
                meta=meta,
                comment=summary.strip(),
                changes=behalf or None,
            )
            create_amendment(
                actor=actor,
                pip=pip,
                meta=meta,
                new_end_date=new_end_date,
                change_summary=_extension_summary(
                    pip,
                    new_end_date,
                    summary,
                    by_hr=False,
                ),
            )
        else:
            write_audit(
                pip=pip,
                actor=actor,
                action=AuditAction.REFERRED_TO_HR,
                meta=meta,
                version=pip.current_version,
                comment=summary.strip(),
                changes={
                    "proposed_outcome": outcome,
                    "not_met": not_met,
                    "judged": judged,
                    **behalf,
                },
            )
    return review


def _extension_summary(pip: Pip, new_end_date: dt.date, reasons: str, *, by_hr: bool) -> str:
    """The amendment's change summary for an extension, in the plan's own language: it is kept
    as the plan's text and shown marked with that language, whatever the reader's page is in."""
    with translation.override(pip.current_version.language or settings.LANGUAGE_CODE):
        date = l10n.date(new_end_date, long=True)
        if by_hr:
            sentence = gettext("Extended to %(date)s by HR's decision.") % {"date": date}
        else:
            sentence = gettext("Extended to %(date)s at the final review.") % {"date": date}
    return f"{sentence} {reasons.strip()}"


def _check_extension(pip: Pip, new_end_date: dt.date | None) -> None:
    if pip.extension_count >= settings.PIP_MAX_EXTENSIONS:
        raise ValidationError({"outcome": gettext("This plan has already been extended.")})
    version = pip.current_version
    limit = version.period_start + dt.timedelta(days=settings.PIP_MAX_PERIOD_DAYS)
    if new_end_date is None or not version.period_end < new_end_date <= limit:
        raise ValidationError(
            {
                "new_end_date": gettext(
                    "Give a new end date after %(end)s and no later than %(limit)s."
                )
                % {
                    "end": l10n.date(version.period_end, long=True),
                    "limit": l10n.date(limit, long=True),
                }
            }
        )


def awaiting_hr_decision(pip: Pip) -> Review | None:
    """The final review of the version in force when it waits for HR: recorded, and the plan
    still in its final review (an unsuccessful outcome, or a successful one the verdicts do not
    support)."""
    if pip.status != Status.FINAL:
        return None
    return pip.reviews.filter(
        kind=Review.Kind.FINAL, state=Review.State.DONE, version=pip.current_version
    ).first()


def pip_decide(
    *,
    actor,
    pip: Pip,
    outcome: str,
    decision: str,
    typed_name: str,
    consequence: str = "",
    new_end_date: dt.date | None = None,
    meta: RequestMeta | None = None,
) -> Pip:
    """HR decides the outcome of a plan its final review referred to HR: close it as
    successful, extend it (an amendment with the new end date) or close it as unsuccessful with
    the consequence. HR signs the decision off with their typed full name, checked here and
    recorded in the audit trail. Refused to whoever holds the plan, wrote its version, signed it
    as manager or recorded its review."""
    errors = {}
    if outcome not in Outcome.values:
        errors["outcome"] = gettext("Choose the outcome.")
    if not decision.strip():
        errors["decision"] = gettext("Record HR's decision and its reasons.")
    if outcome == Outcome.UNSUCCESSFUL and not consequence.strip():
        errors["consequence"] = gettext("Record the consequence.")
    if not rules.full_name_matches(typed_name, actor):
        errors["typed_name"] = rules.typed_name_message(actor)
    if errors:
        raise ValidationError(errors)
    limits.check(
        {
            "decision": (decision.strip(), limits.MEDIUM_TEXT),
            "consequence": (consequence.strip(), limits.MEDIUM_TEXT),
        }
    )
    with transaction.atomic():
        pip = lock(pip)
        require(rules.is_hr(actor), gettext("Only HR decides the outcome."))
        require_state(pip, rules.OUTCOME_DECIDABLE, gettext("decide on"))
        review = awaiting_hr_decision(pip)
        if review is None:
            raise TransitionError(gettext("The final review has not referred the plan to HR."))
        conflict = rules.hr_conflict(actor, pip)
        require(not conflict, conflict)
        if outcome == Outcome.EXTENDED:
            _check_extension(pip, new_end_date)
        review.hr_comments = decision.strip()
        review.save(update_fields=["hr_comments"])
        signoff = {
            "outcome": outcome,
            "typed_name": " ".join(typed_name.split()),
            "decided_by_hr": True,
            "proposed_outcome": review.outcome,
        }
        now = timezone.now()
        if outcome == Outcome.SUCCESSFUL:
            transition(
                pip,
                actor=actor,
                to=Status.CLOSED_SUCCESSFUL,
                action=AuditAction.CLOSED,
                meta=meta,
                comment=decision.strip(),
                changes=signoff,
                outcome=outcome,
                hr_decision=decision.strip(),
                closed_at=now,
            )
        elif outcome == Outcome.EXTENDED:
            transition(
                pip,
                actor=actor,
                to=Status.EXTENDED,
                action=AuditAction.EXTENDED,
                meta=meta,
                comment=decision.strip(),
                changes={**signoff, "new_end_date": new_end_date.isoformat()},
                hr_decision=decision.strip(),
            )
            create_amendment(
                actor=actor,
                pip=pip,
                meta=meta,
                new_end_date=new_end_date,
                change_summary=_extension_summary(
                    pip,
                    new_end_date,
                    decision,
                    by_hr=True,
                ),
            )
        else:
            transition(
                pip,
                actor=actor,
                to=Status.CLOSED_UNSUCCESSFUL,
                action=AuditAction.CLOSED,
                meta=meta,
                comment=decision.strip(),
                changes=signoff,
                outcome=Outcome.UNSUCCESSFUL,
                hr_decision=decision.strip(),
                consequence=consequence.strip(),
                closed_at=now,
            )
    return pip
