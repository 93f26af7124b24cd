"""Check-ins, the midpoint and final reviews, HR's decision on an unsuccessful plan and
cancelling a plan.

Each view loads the plan through an access helper (404 for what the user may not see, 403 for
what they may see but not do), hands the cleaned form data to a service and redirects after a
successful POST. The numbers beside each target come from `pips.snapshots`.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pips import rules, selectors, services, snapshots
from pips.forms.reviews import (
    ActionUpdateForm,
    AgentCommentForm,
    CancelForm,
    CheckInForm,
    MissedCheckInForm,
    OutcomeDecisionForm,
    ReviewForm,
    ReviewItemForm,
    ReviewOpenForm,
    add_service_error,
)
from pips.models import (
    CheckIn,
    CheckInActionUpdate,
    Outcome,
    Pip,
    Review,
    ReviewItem,
    ScheduleItem,
)
from pips.views.common import flash_error, request_meta


def _date_param(request: HttpRequest) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return None


def _refuse_unless_running(request: HttpRequest, pip: Pip, doing: str) -> HttpResponse | None:
    if pip.status in rules.RECORDABLE:
        return None
    messages.error(
        request,
        _("You cannot %(doing)s a plan that is %(status)s.")
        % {"doing": doing, "status": str(pip.get_status_display()).lower()},
    )
    return redirect(pip)


# --- check-ins ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def checkin_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a check-in: a scheduled one (?date=YYYY-MM-DD) or an extra one (?date=extra)."""
    pip = selectors.pip_for_recorder(request.user, pk)
    refused = _refuse_unless_running(request, pip, _("record a check-in on"))
    if refused:
        return refused
    version = selectors.version_with_sections(pip.current_version_id)
    today = timezone.localdate()
    pending = snapshots.pending_checkin_dates(pip)
    wanted = _date_param(request)
    scheduled = wanted if wanted in pending else None
    initial_day = scheduled if scheduled and scheduled <= today else today
    initial_day = max(initial_day, version.period_start)
    if "date" not in request.GET:
        # From the plan page: most likely the latest scheduled check-in that has come due.
        scheduled = next((day for day in reversed(pending) if day <= today), None)
    form_kwargs = {"pending": pending, "period_start": version.period_start, "today": today}
    # Sessions can be ticked for the days since the last check-in held, up to today (at most
    # the last two weeks: an earlier day is typed in).
    session_start, _end = snapshots.checkin_window(pip, version, today)
    session_start = max(session_start, today - dt.timedelta(days=13))
    data = request.POST if request.method == "POST" else None
    rows = [
        ActionUpdateForm(data, action=a, days=snapshots.session_days(a, session_start, today))
        for a in version.actions.all()
    ]
    if request.method == "POST":
        form = CheckInForm(request.POST, **form_kwargs)
        rows_valid = all([row.is_valid() for row in rows])
        if form.is_valid() and rows_valid:
            data = form.cleaned_data
            start, end = snapshots.checkin_window(pip, version, data["held_on"])
            snapshot = snapshots.checkin_snapshot(pip=pip, version=version, start=start, end=end)
            checkin_input = services.CheckInInput(
                held_on=data["held_on"],
                scheduled_for=data["scheduled_for"],
                attendees=data["attendees"],
                notes=data["notes"],
                coaching_done=data["coaching_done"],
                next_steps=data["next_steps"],
                snapshot_note=data["snapshot_note"],
                action_statuses={row.action.pk: row.cleaned_data["status"] for row in rows},
                sessions_held={
                    row.action.pk: row.session_dates() for row in rows if row.session_dates()
                },
            )
            try:
                checkin = services.checkin_record(
                    actor=request.user,
                    pip=pip,
                    data=checkin_input,
                    snapshot=snapshot,
                    meta=request_meta(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request, _("Check-in recorded. The employee receives a written summary.")
                )
                return redirect("pips:checkin", pip.pk, checkin.pk)
        scheduled = form.cleaned_data.get("scheduled_for")
        snapshot_day = form.cleaned_data.get("held_on") or initial_day
    else:
        attendees = _("%(supervisor)s (Supervisor), %(employee)s (Employee)") % {
            "supervisor": request.user.get_full_name(),
            "employee": version.employee_name,
        }
        form = CheckInForm(
            initial={
                "scheduled_for": scheduled.isoformat() if scheduled else "",
                "held_on": initial_day,
                "attendees": attendees,
            },
            **form_kwargs,
        )
        snapshot_day = initial_day
    start, end = snapshots.checkin_window(pip, version, snapshot_day)
    return render(
        request,
        "pips/reviews/checkin_form.html",
        {
            "pip": pip,
            "version": version,
            "form": form,
            "rows": rows,
            "scheduled": scheduled,
            "snapshot": snapshots.checkin_snapshot(pip=pip, version=version, start=start, end=end),
            "window": (start, end),
            "live": True,
            "can_miss": any(day <= today for day in pending),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def checkin_missed(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that a scheduled check-in did not take place, and why."""
    pip = selectors.pip_for_recorder(request.user, pk)
    refused = _refuse_unless_running(request, pip, _("record a check-in on"))
    if refused:
        return refused
    today = timezone.localdate()
    missable = [day for day in snapshots.pending_checkin_dates(pip) if day <= today]
    if not missable:
        messages.info(request, _("No scheduled check-in has come due without being recorded."))
        return redirect("pips:reviews", pip.pk)
    if request.method == "POST":
        form = MissedCheckInForm(request.POST, missable=missable)
        if form.is_valid():
            try:
                services.checkin_missed(
                    actor=request.user,
                    pip=pip,
                    scheduled_for=form.cleaned_data["scheduled_for"],
                    reason=form.cleaned_data["missed_reason"],
                    meta=request_meta(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request, _("The missed check-in is recorded; the employee has been told.")
                )
                return redirect("pips:reviews", pip.pk)
    else:
        wanted = _date_param(request)
        initial = {"scheduled_for": wanted.isoformat()} if wanted in missable else {}
        form = MissedCheckInForm(initial=initial, missable=missable)
    return render(request, "pips/reviews/checkin_missed.html", {"pip": pip, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def checkin_detail(request: HttpRequest, pk: int, checkin_id: int) -> HttpResponse:
    """One check-in as recorded. The employee may add a comment to it, once."""
    pip = selectors.pip_for_user(request.user, pk)
    checkin = get_object_or_404(
        CheckIn.objects.filter(pip=pip)
        .select_related("recorded_by", "on_behalf_of", "version")
        .prefetch_related(
            Prefetch(
                "action_updates",
                queryset=CheckInActionUpdate.objects.select_related("action_item").order_by(
                    "action_item__position", "action_item_id"
                ),
            ),
            "sessions__action_item",
        ),
        pk=checkin_id,
    )
    is_employee = rules.is_plan_employee(request.user, pip)
    form = None
    if request.method == "POST":
        if not is_employee:
            raise PermissionDenied(_("Only the employee can comment on a check-in."))
        form = AgentCommentForm(request.POST)
        if form.is_valid():
            try:
                services.checkin_agent_comment(
                    actor=request.user,
                    checkin=checkin,
                    comment=form.cleaned_data["agent_comment"],
                    meta=request_meta(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Your comment is added to the check-in."))
                return redirect("pips:checkin", pip.pk, checkin.pk)
    elif is_employee and not checkin.agent_comment:
        form = AgentCommentForm()
    return render(
        request,
        "pips/reviews/checkin_detail.html",
        {
            "pip": pip,
            "checkin": checkin,
            "form": form,
            "window": snapshots.snapshot_window(checkin.kpi_snapshot),
        },
    )


# --- the reviews page --------------------------------------------------------------------------


def _schedule_rows(pip: Pip, *, can_record: bool, can_open: bool, today: dt.date) -> list[dict]:
    """The plan's dated steps, each with what has happened and what can be done now."""
    checkins = {c.scheduled_for: c for c in pip.checkins.all() if c.scheduled_for}
    reviews = {(r.kind, r.due_on): r for r in pip.reviews.all()}
    rows = []
    for item in pip.schedule.all():
        row = {"item": item, "record": None, "missed": None, "open": False, "link": None}
        row["overdue"] = item.done_at is None and item.due_on < today
        row["today"] = item.done_at is None and item.due_on == today
        if item.kind == ScheduleItem.Kind.CHECKIN:
            checkin = checkins.get(item.due_on)
            if checkin:
                row["link"] = reverse("pips:checkin", args=[pip.pk, checkin.pk])
                row["state"] = checkin.get_state_display()
                row["overdue"] = False
            elif item.done_at is None and can_record:
                query = f"?date={item.due_on.isoformat()}"
                row["record"] = reverse("pips:checkin_new", args=[pip.pk]) + query
                if item.due_on <= today:
                    row["missed"] = reverse("pips:checkin_missed", args=[pip.pk]) + query
        else:
            review = reviews.get((item.kind, item.due_on))
            if review:
                row["link"] = reverse("pips:review", args=[pip.pk, review.pk])
                row["state"] = review.get_state_display()
                row["overdue"] = row["overdue"] and review.state == Review.State.OPEN
            elif item.done_at is None and item.due_on <= today and can_open:
                row["open"] = True
        rows.append(row)
    return rows


@require_GET
@login_required
@never_cache
def reviews(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan's schedule, check-ins and reviews, with links to each."""
    pip = selectors.pip_detail(request.user, pk)
    today = timezone.localdate()
    rows = _schedule_rows(
        pip,
        can_record=rules.can_record_checkin(request.user, pip),
        can_open=rules.can_open_review(request.user, pip),
        today=today,
    )
    return render(
        request,
        "pips/reviews/list.html",
        {
            "pip": pip,
            "rows": rows,
            "checkins": list(pip.checkins.all()),
            "reviews": list(pip.reviews.all()),
            "can_record_checkin": rules.can_record_checkin(request.user, pip),
        },
    )


@require_POST
@login_required
def review_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a due midpoint or final review by hand (the schedule opens it on its day too)."""
    pip = selectors.pip_for_user(request.user, pk)
    if not (rules.is_hr(request.user) or rules.may_record_meetings(request.user, pip)):
        raise PermissionDenied(
            _("Only the plan's supervisor, their delegate or HR opens a review.")
        )
    form = ReviewOpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the midpoint or the final review."))
        return redirect("pips:reviews", pip.pk)
    try:
        review, _created = services.review_open(
            pip=pip, kind=form.cleaned_data["kind"], actor=request.user, meta=request_meta(request)
        )
    except ValidationError as error:
        flash_error(request, error)
        return redirect("pips:reviews", pip.pk)
    return redirect("pips:review", pip.pk, review.pk)


# --- one review --------------------------------------------------------------------------------


def _reviews_of(pip: Pip) -> QuerySet[Review]:
    """A plan's reviews with the reviewed version's expectations and the recorded items."""
    return (
        Review.objects.filter(pip=pip)
        .select_related("version", "completed_by")
        .prefetch_related(
            "version__expectations__kpi",
            Prefetch(
                "items",
                queryset=ReviewItem.objects.select_related("expectation__kpi").order_by(
                    "expectation__position", "expectation_id"
                ),
            ),
        )
    )


def _review_for(pip: Pip, review_id: int) -> Review:
    return get_object_or_404(_reviews_of(pip), pk=review_id)


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def review(request: HttpRequest, pk: int, review_id: int) -> HttpResponse:
    """Record the midpoint or final review (the plan's supervisor), or read it (anyone who may
    see the plan)."""
    pip = selectors.pip_for_user(request.user, pk)
    review = _review_for(pip, review_id)
    owner = rules.may_record_meetings(request.user, pip)
    if request.method == "POST" and not owner:
        raise PermissionDenied(_("Only the plan's supervisor records a review."))
    editable = rules.can_record_review(request.user, pip, review)
    if request.method == "POST" and not editable:
        messages.error(request, _("This review is not open for recording."))
        return redirect("pips:review", pip.pk, review.pk)
    context = {
        "pip": pip,
        "review": review,
        "editable": editable,
        "amend_url": reverse("pips:amend", args=[pip.pk]),
        "decide_url": reverse("pips:hr_decide", args=[pip.pk])
        if rules.can_decide_outcome(request.user, pip) and review.outcome == Outcome.UNSUCCESSFUL
        else None,
    }
    if not editable:
        context["recorded"] = snapshots.recorded_rows(review)
        return render(request, "pips/reviews/review.html", context)
    rows = snapshots.review_rows(pip=pip, review=review, today=timezone.localdate())
    data = request.POST if request.method == "POST" else None
    form = ReviewForm(data, kind=review.kind)
    item_forms = [ReviewItemForm(data, row=row, kind=review.kind) for row in rows]
    if request.method == "POST":
        items_valid = all([f.is_valid() for f in item_forms])
        if form.is_valid() and items_valid:
            items = [
                services.ReviewItemInput(
                    expectation_id=f.row.expectation.pk,
                    confirmed=f.cleaned_data["confirmed"],
                    evidence=f.cleaned_data["evidence"],
                    adjustment=f.cleaned_data.get("adjustment", ""),
                )
                for f in item_forms
            ]
            try:
                _record_review(request, review, form, items, rows)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                return redirect("pips:review", pip.pk, review.pk)
    context.update({"form": form, "item_forms": item_forms})
    return render(request, "pips/reviews/review.html", context)


def _record_review(request, review: Review, form: ReviewForm, items, rows) -> None:
    suggestions = snapshots.suggestions(rows)
    summary = form.cleaned_data["summary"]
    meta = request_meta(request)
    if review.kind == Review.Kind.MIDPOINT:
        services.midpoint_record(
            actor=request.user,
            review=review,
            items=items,
            summary=summary,
            suggestions=suggestions,
            meta=meta,
        )
        messages.success(request, _("Midpoint review recorded. The employee receives the summary."))
        return
    outcome = form.cleaned_data["outcome"]
    justification = form.cleaned_data.get("justification", "")
    services.final_record(
        actor=request.user,
        review=review,
        items=items,
        outcome=outcome,
        summary=summary,
        suggestions=suggestions,
        new_end_date=form.cleaned_data["new_end_date"],
        justification=justification,
        meta=meta,
    )
    if outcome == Outcome.SUCCESSFUL and Review.objects.get(pk=review.pk).justification:
        messages.success(
            request,
            _(
                "Final review recorded. A successful outcome with targets not met goes to HR, "
                "who decides before it takes effect."
            ),
        )
        return
    messages.success(
        request,
        {
            Outcome.SUCCESSFUL: _("Final review recorded: the plan is closed as successful."),
            Outcome.EXTENDED: _(
                "Final review recorded: the plan is extended. The extension is an amendment; "
                "submit it to HR from the plan page."
            ),
            Outcome.UNSUCCESSFUL: _("Final review recorded: the plan goes to HR for the decision."),
        }[outcome],
    )


# --- HR ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def hr_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """HR decides the outcome of a plan its final review referred to HR (unsuccessful, or
    successful with targets not met): close it as successful, extend it or close it as
    unsuccessful, with the reasons, signed off with HR's typed name."""
    pip = selectors.pip_for_hr(request.user, pk)
    waiting = services.awaiting_hr_decision(pip)
    final = _reviews_of(pip).filter(pk=waiting.pk).first() if waiting else None
    if final is None:
        messages.error(request, _("This plan is not waiting for HR's decision."))
        return redirect(pip)
    conflict = rules.hr_conflict(request.user, pip)
    if conflict:
        raise PermissionDenied(conflict)
    if request.method == "POST":
        form = OutcomeDecisionForm(
            request.POST, user=request.user, language=pip.current_version.language
        )
        if form.is_valid():
            try:
                services.pip_decide(
                    actor=request.user,
                    pip=pip,
                    outcome=form.cleaned_data["outcome"],
                    decision=form.cleaned_data["decision"],
                    consequence=form.cleaned_data["consequence"],
                    typed_name=form.cleaned_data["typed_name"],
                    new_end_date=form.cleaned_data["new_end_date"],
                    meta=request_meta(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("HR's decision is recorded."))
                return redirect(pip)
    else:
        form = OutcomeDecisionForm(
            initial={
                "outcome": final.outcome,
                "consequence": pip.current_version.outcome_failure
                if final.outcome == Outcome.UNSUCCESSFUL
                else "",
            },
            user=request.user,
            language=pip.current_version.language,
        )
    recorded = snapshots.recorded_rows(final)
    return render(
        request,
        "pips/reviews/decide.html",
        {
            "pip": pip,
            "review": final,
            "recorded": recorded,
            "form": form,
            "not_met": sum(1 for row in recorded if not row.item.confirmed),
            "judged": len(recorded),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """HR cancels a plan at any stage, with the reason. The plan is kept, not deleted."""
    pip = selectors.pip_for_hr(request.user, pk)
    if not pip.is_open():
        messages.error(
            request,
            _("This plan is already %(status)s.")
            % {"status": str(pip.get_status_display()).lower()},
        )
        return redirect(pip)
    if request.method == "POST":
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                services.pip_cancel(
                    actor=request.user,
                    pip=pip,
                    reason=form.cleaned_data["reason"],
                    meta=request_meta(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("The plan is cancelled."))
                return redirect(pip)
    else:
        form = CancelForm()
    return render(request, "pips/reviews/cancel.html", {"pip": pip, "form": form})
