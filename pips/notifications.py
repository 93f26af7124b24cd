"""What each kind of audit event tells people, by e-mail and in the app. One handler per event
action; `deliver` runs a handler once per event, however often it is called."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.urls import reverse

from pips import emails, snapshots
from pips.models import (
    AuditEvent,
    CheckIn,
    CheckInActionUpdate,
    Delivery,
    Pip,
    Review,
    ReviewItem,
    Signature,
    SignerRole,
    Status,
)

Handler = Callable[[AuditEvent], None]
HANDLERS: dict[str, Handler] = {}


def handles(*actions: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for action in actions:
            HANDLERS[action] = func
        return func

    return register


def wants_delivery(action: str) -> bool:
    return action in HANDLERS


def deliver(event_id: int) -> bool:
    """Run the event's handler once. Returns whether this call delivered it."""
    event = (
        AuditEvent.objects.select_related(
            "pip",
            "pip__agent",
            "pip__agent__user",
            "pip__supervisor",
            "pip__current_version",
            "actor",
            "version",
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None or event.action not in HANDLERS:
        return False
    try:
        with transaction.atomic():
            Delivery.objects.create(event=event)
            HANDLERS[event.action](event)
    except IntegrityError:
        return False
    return True


@handles("issued")
def _issued(event: AuditEvent) -> None:
    pip = event.pip
    url = emails.absolute(pip.get_absolute_url())
    agent_user = pip.agent.user
    emails.send(
        "pip-issued",
        [pip.agent.email or (agent_user.email if agent_user else "")],
        {"pip": pip, "version": event.version or pip.current_version, "url": url},
    )
    if agent_user:
        emails.notify(
            [agent_user],
            pip=pip,
            url=pip.get_absolute_url(),
            text=f"Your plan {pip.reference} is ready to read and sign.",
        )


@handles("signed")
def _signed(event: AuditEvent) -> None:
    """The employee gets a written summary of what they signed, with a link to their copy."""
    if event.changes.get("role") != SignerRole.AGENT:
        return
    pip = event.pip
    version = event.version or pip.current_version
    signature = (
        Signature.objects.filter(version=version, role=SignerRole.AGENT)
        .select_related("signer")
        .first()
    )
    if signature is None:
        return
    addresses, _ = _employee(pip)
    context = {
        "pip": pip,
        "version": version,
        "signature": signature,
        "url": emails.absolute(reverse("pips:version", args=[pip.pk, version.number])),
        "pdf_url": emails.absolute(reverse("pips:version_pdf", args=[pip.pk, version.number])),
    }
    emails.send("signed", addresses, context)


@handles("midpoint_review_opened", "final_review_opened")
def _review_opened(event: AuditEvent) -> None:
    # The schedule's module builds meeting e-mails and invitations; it is imported here, late,
    # because the task module imports both.
    from pips import scheduling

    scheduling.review_opened_notify(event)


# --- Check-ins, reviews and outcomes: a written summary to the employee after each ----------


def _employee(pip: Pip) -> tuple[list[str], list]:
    """The employee's address and account (an agent may not have an account yet)."""
    user = pip.agent.user
    return [pip.agent.email or (user.email if user else "")], [user] if user else []


def _last_done_review(pip: Pip, kind: str) -> Review | None:
    items = ReviewItem.objects.select_related("expectation__kpi").order_by(
        "expectation__position", "expectation_id"
    )
    return (
        Review.objects.filter(pip=pip, kind=kind, state=Review.State.DONE)
        .select_related("version", "completed_by")
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("-completed_at", "-id")
        .first()
    )


@handles("checkin_recorded", "checkin_missed")
def _checkin_summary(event: AuditEvent) -> None:
    pip = event.pip
    checkins = CheckIn.objects.filter(pip=pip).prefetch_related(
        Prefetch(
            "action_updates",
            queryset=CheckInActionUpdate.objects.select_related("action_item").order_by(
                "action_item__position", "action_item_id"
            ),
        ),
        "sessions__action_item",
    )
    if "checkin" in event.changes:
        checkin = checkins.filter(pk=event.changes["checkin"]).first()
    else:
        checkin = checkins.filter(
            state=CheckIn.State.MISSED, scheduled_for=event.changes.get("scheduled_for")
        ).first()
    if checkin is None:
        return
    url = reverse("pips:checkin", args=[pip.pk, checkin.pk])
    addresses, users = _employee(pip)
    context = {
        "pip": pip,
        "checkin": checkin,
        "window": snapshots.snapshot_window(checkin.kpi_snapshot),
        "url": emails.absolute(url),
    }
    emails.send("checkin-summary", addresses, context)
    if checkin.state == CheckIn.State.MISSED:
        text = f"Your check-in of {checkin.scheduled_for:%d %b %Y} did not take place."
    else:
        text = f"The summary of your check-in on {checkin.held_on:%d %b %Y} is ready."
    emails.notify(users, pip=pip, url=url, text=f"{pip.reference}: {text}")


@handles("midpoint_recorded", "referred_to_hr")
def _review_summary(event: AuditEvent) -> None:
    pip = event.pip
    referred = event.action == "referred_to_hr"
    review = _last_done_review(pip, Review.Kind.FINAL if referred else Review.Kind.MIDPOINT)
    if review is None:
        return
    url = reverse("pips:review", args=[pip.pk, review.pk])
    addresses, users = _employee(pip)
    context = {
        "pip": pip,
        "review": review,
        "rows": snapshots.recorded_rows(review),
        "referred": referred,
        "url": emails.absolute(url),
    }
    emails.send("review-summary", addresses, context)
    emails.notify(
        users,
        pip=pip,
        url=url,
        text=f"{pip.reference}: the summary of your {review.get_kind_display().lower()} is ready.",
    )
    if referred:
        # HR decides an unsuccessful plan: the HR representative who signed it is asked to.
        hr_users = [
            s.signer
            for s in Signature.objects.filter(
                version=review.version, role=SignerRole.HR, kind=Signature.Kind.SIGNED
            ).select_related("signer")
        ] or [pip.approved_by]
        emails.notify(
            hr_users,
            pip=pip,
            url=reverse("pips:hr_decide", args=[pip.pk]),
            text=f"{pip.reference}: the final review found the plan unsuccessful; "
            "HR's decision is needed.",
        )


@handles("closed", "extended")
def _outcome(event: AuditEvent) -> None:
    pip = event.pip
    review = _last_done_review(pip, Review.Kind.FINAL)
    if event.action == "extended":
        outcome = "extended"
    elif event.to_status == Status.CLOSED_SUCCESSFUL:
        outcome = "successful"
    else:
        outcome = "unsuccessful"
    url = pip.get_absolute_url()
    addresses, users = _employee(pip)
    emails.send(
        "outcome",
        addresses,
        {
            "pip": pip,
            "review": review,
            "rows": snapshots.recorded_rows(review) if review else [],
            "outcome": outcome,
            "version": event.version or pip.current_version,
            "decision": event.comment,
            "url": emails.absolute(url),
        },
    )
    text = {
        "successful": "Congratulations: your plan is closed as successful.",
        "extended": "your plan is extended; you will be asked to sign the amended plan.",
        "unsuccessful": "HR has recorded the outcome of your plan.",
    }[outcome]
    emails.notify(users, pip=pip, url=url, text=f"{pip.reference}: {text}")
    if outcome == "unsuccessful":
        emails.notify(
            [pip.supervisor],
            pip=pip,
            url=url,
            text=f"{pip.reference}: HR has decided the outcome and closed the plan.",
        )
