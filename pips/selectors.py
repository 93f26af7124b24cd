"""The reads that pages need, each with its select_related/prefetch_related so a page runs a
constant number of queries whatever the data size."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from pips.models import (
    AuditEvent,
    CheckIn,
    Pip,
    PipVersion,
    Review,
    ScheduleItem,
    Signature,
    Status,
)


def pips_visible(user) -> QuerySet[Pip]:
    return Pip.objects.visible_to(user).with_related()


def pip_for_user(user, pk: int) -> Pip:
    """The access helper for plans: 404 for a plan the user may not see."""
    return get_object_or_404(pips_visible(user), pk=pk)


def version_with_sections(version_pk: int) -> PipVersion:
    return (
        PipVersion.objects.select_related("pip")
        .prefetch_related(
            "reasons__kpi",
            "expectations__kpi",
            "actions__sessions",
            Prefetch("signatures", queryset=Signature.objects.select_related("signer", "witness")),
        )
        .get(pk=version_pk)
    )


def pip_detail(user, pk: int) -> Pip:
    """A plan with everything its page shows, in a fixed number of queries."""
    pip = get_object_or_404(
        pips_visible(user).prefetch_related(
            Prefetch("versions", queryset=PipVersion.objects.order_by("number")),
            Prefetch(
                "events",
                queryset=AuditEvent.objects.select_related("actor").exclude(
                    action__in=["viewed", "downloaded"]
                ),
            ),
            Prefetch("checkins", queryset=CheckIn.objects.select_related("recorded_by")),
            Prefetch("reviews", queryset=Review.objects.select_related("completed_by")),
            Prefetch(
                "schedule",
                queryset=ScheduleItem.objects.filter(cancelled_at__isnull=True),
            ),
        ),
        pk=pk,
    )
    return pip


def home_plans(user) -> QuerySet[Pip]:
    return pips_visible(user).order_by("status", "-updated_at")


def approval_queue(user) -> QuerySet[Pip]:
    """HR's queue: plans waiting for a decision, oldest first."""
    return pips_visible(user).filter(status=Status.PENDING_HR).order_by("submitted_at")


def status_counts(queryset: QuerySet[Pip]) -> dict[str, int]:
    return dict(queryset.order_by().values_list("status").annotate(n=Count("id")))


def amendments_pending_hr(user) -> QuerySet[Pip]:
    return pips_visible(user).filter(Q(versions__state="pending_hr") & Q(versions__number__gt=1))
