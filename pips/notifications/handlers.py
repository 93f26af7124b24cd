"""What each kind of audit event tells people, by e-mail and in the app. One handler per event
action; `deliver` runs a handler once per event, however often it is called."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from pips import audit, languages, roles, rules, snapshots
from pips.audit import AuditAction
from pips.models import (
    AuditEvent,
    CheckIn,
    CheckInActionUpdate,
    Delivery,
    Pip,
    Review,
    ReviewItem,
    ScheduleItem,
    Signature,
    SignerRole,
    Status,
    VersionState,
)
from pips.notifications import emails
from pips.notifications.meetings import (
    MEETINGS,
    HrUsers,
    day_text,
    display_name,
    meeting_invitation,
    plan_url,
    team_zone,
    when_text,
)
from pipsystem import ics, l10n

Handler = Callable[[AuditEvent], None]
HANDLERS: dict[AuditAction, Handler] = {}


def handles(*actions: AuditAction | str) -> Callable[[Handler], Handler]:
    """Register a handler for audit actions; a name that is not an action fails here, at
    import, instead of never matching."""
    checked = [AuditAction(action) for action in actions]

    def register(func: Handler) -> Handler:
        for action in checked:
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


@handles(AuditAction.ISSUED)
def _issued(event: AuditEvent) -> None:
    pip = event.pip
    url = emails.absolute(pip.get_absolute_url())
    addresses, users = employee_recipients(event)
    emails.send(
        "pip-issued",
        addresses,
        {"pip": pip, "version": event.version or pip.current_version, "url": url},
        language=_employee_language(pip),
    )
    emails.notify(
        users,
        pip=pip,
        url=pip.get_absolute_url(),
        text=lambda: (
            _("Your plan %(reference)s is ready to read and sign.") % {"reference": pip.reference}
        ),
    )


@handles(AuditAction.SIGNED)
def _signed(event: AuditEvent) -> None:
    """The employee gets a written summary of what they signed, with a link to their copy.
    The manager's signature on an amended version is what lets the employee sign it: they are
    told it is ready."""
    if event.changes.get("role") == SignerRole.MANAGER:
        _amended_version_signable(event)
        return
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
    _employee_signed_notice(event, signature)
    addresses, _ = employee_recipients(event)
    context = {
        "pip": pip,
        "version": version,
        "signature": signature,
        "url": emails.absolute(reverse("pips:version", args=[pip.pk, version.number])),
        "pdf_url": emails.absolute(reverse("pips:version_pdf", args=[pip.pk, version.number])),
    }
    emails.send("signed", addresses, context, language=_employee_language(pip))


@handles(AuditAction.MIDPOINT_REVIEW_OPENED, AuditAction.FINAL_REVIEW_OPENED)
def _review_opened(event: AuditEvent) -> None:
    """The midpoint or final review is open: the supervisor and HR are told, by e-mail with the
    meeting's invitation and in the app."""
    pip = event.pip
    kind = Review.Kind.MIDPOINT if event.action.startswith("midpoint") else Review.Kind.FINAL
    version = pip.current_version
    due_on = version.midpoint_date if kind == Review.Kind.MIDPOINT else version.final_review_date
    item = (
        ScheduleItem.objects.filter(pip=pip, kind=kind, due_on=due_on, cancelled_at__isnull=True)
        .select_related("pip__agent__team", "pip__agent__user", "pip__supervisor")
        .first()
    )
    hr = HrUsers().for_plan(pip)
    label = MEETINGS[kind][0]
    zone = team_zone(pip)
    url = plan_url(pip, "pips:reviews")
    recipients = list(dict.fromkeys([pip.supervisor, *hr]))

    def when() -> str:
        return when_text(item.due_at, zone) if item else day_text(due_on)

    invitations: dict[str, list] = {}  # one invitation per language, written in it
    for user in recipients:
        language = languages.language_of(user)
        with translation.override(language):
            if item and language not in invitations:
                invitations[language] = [ics.attachment([meeting_invitation(item, pip, hr)])]
            written_when = when()
        emails.send(
            "review-opened",
            [user.email],
            {
                "pip": pip,
                "recipient_name": display_name(user),
                "agent_name": pip.agent.full_name,
                "supervisor_name": display_name(pip.supervisor),
                "meeting": label,
                "when": written_when,
                "url": emails.absolute(url),
            },
            attachments=invitations.get(language, []),
            language=language,
        )
    emails.notify(
        recipients,
        pip=pip,
        url=url,
        text=lambda: (
            _("The %(meeting)s of %(reference)s (%(agent)s) is open: %(when)s.")
            % {
                "meeting": label,
                "reference": pip.reference,
                "agent": pip.agent.full_name,
                "when": when(),
            }
        ),
    )


# --- Check-ins, reviews and outcomes: a written summary to the employee after each ----------


def employee_recipients(event: AuditEvent) -> tuple[list[str], list]:
    """The employee's address and account for what an event tells them, or nobody when the
    event is not theirs to see (`pips.audit.AUDIENCE`): the one check every notice to the
    employee goes through, whatever its handler."""
    pip = event.pip
    if not audit.employee_sees(event, issued_at=pip.issued_at):
        return [], []
    return _employee(pip)


def _employee_language(pip: Pip) -> str:
    """The language of the e-mails to the employee: theirs (pips.languages)."""
    return languages.language_of_employee(pip.agent)


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


@handles(AuditAction.CHECKIN_RECORDED, AuditAction.CHECKIN_MISSED)
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
    addresses, users = employee_recipients(event)
    context = {
        "pip": pip,
        "checkin": checkin,
        "window": snapshots.snapshot_window(checkin.kpi_snapshot),
        "url": emails.absolute(url),
    }
    emails.send("checkin-summary", addresses, context, language=_employee_language(pip))

    def text() -> str:
        if checkin.state == CheckIn.State.MISSED:
            said = _("Your check-in of %(date)s did not take place.") % {
                "date": l10n.date(checkin.scheduled_for)
            }
        else:
            said = _("The summary of your check-in on %(date)s is ready.") % {
                "date": l10n.date(checkin.held_on)
            }
        return f"{pip.reference}: {said}"

    emails.notify(users, pip=pip, url=url, text=text)


@handles(AuditAction.MIDPOINT_RECORDED, AuditAction.REFERRED_TO_HR)
def _review_summary(event: AuditEvent) -> None:
    pip = event.pip
    referred = event.action == AuditAction.REFERRED_TO_HR
    review = _last_done_review(pip, Review.Kind.FINAL if referred else Review.Kind.MIDPOINT)
    if review is None:
        return
    url = reverse("pips:review", args=[pip.pk, review.pk])
    addresses, users = employee_recipients(event)
    context = {
        "pip": pip,
        "review": review,
        "rows": snapshots.recorded_rows(review),
        "referred": referred,
        "url": emails.absolute(url),
    }
    emails.send("review-summary", addresses, context, language=_employee_language(pip))
    emails.notify(
        users,
        pip=pip,
        url=url,
        text=lambda: (
            _("%(reference)s: the summary of your %(review)s is ready.")
            % {"reference": pip.reference, "review": str(review.get_kind_display()).lower()}
        ),
    )
    if referred:
        # HR decides: the HR representative who signed the plan is asked to (or who approved
        # it), unless separation of duties bars them; then every HR user who may.
        hr_users = [
            s.signer
            for s in Signature.objects.filter(
                version=review.version, role=SignerRole.HR, kind=Signature.Kind.SIGNED
            ).select_related("signer")
        ] or [pip.approved_by]
        hr_users = [u for u in hr_users if u and rules.may_act_as_hr(u, pip)] or _hr_deciders(pip)
        successful = review.outcome == "successful"

        def hr_text() -> str:
            if successful:
                said = _(
                    "%(reference)s: the final review proposes closing the plan as successful "
                    "although targets are not met; HR's decision is needed."
                )
            else:
                said = _(
                    "%(reference)s: the final review found the plan unsuccessful; "
                    "HR's decision is needed."
                )
            return said % {"reference": pip.reference}

        emails.notify(hr_users, pip=pip, url=reverse("pips:hr_decide", args=[pip.pk]), text=hr_text)


@handles(AuditAction.CLOSED, AuditAction.EXTENDED)
def _outcome(event: AuditEvent) -> None:
    pip = event.pip
    review = _last_done_review(pip, Review.Kind.FINAL)
    if event.action == AuditAction.EXTENDED:
        outcome = "extended"
    elif event.to_status == Status.CLOSED_SUCCESSFUL:
        outcome = "successful"
    else:
        outcome = "unsuccessful"
    url = pip.get_absolute_url()
    addresses, users = employee_recipients(event)
    rows = snapshots.recorded_rows(review) if review else []
    not_met = sum(1 for row in rows if not row.item.confirmed)
    emails.send(
        "outcome",
        addresses,
        {
            "pip": pip,
            "review": review,
            "rows": rows,
            "not_met": not_met,
            "judged": len(rows),
            "outcome": outcome,
            "version": event.version or pip.current_version,
            "decision": event.comment,
            "url": emails.absolute(url),
        },
        language=_employee_language(pip),
    )

    def text() -> str:
        said = {
            "successful": _("your plan is closed as successful.")
            if not_met
            else _("Congratulations: your plan is closed as successful."),
            "extended": _("your plan is extended; you will be asked to sign the amended plan."),
            "unsuccessful": _("HR has recorded the outcome of your plan."),
        }[outcome]
        return f"{pip.reference}: {said}"

    emails.notify(users, pip=pip, url=url, text=text)
    if outcome == "unsuccessful":
        emails.notify(
            [pip.supervisor],
            pip=pip,
            url=url,
            text=lambda: (
                _("%(reference)s: HR has decided the outcome and closed the plan.")
                % {"reference": pip.reference}
            ),
        )


# --- HR's review of plans and amendments ------------------------------------------------------
# Each notice checks, when it is delivered, that the step it speaks of is still the plan's
# current one: the sweep may deliver an event late, and a notice of a step already overtaken
# (a submission HR has already decided, say) would only mislead.


def _name(user) -> str:
    if user is None:
        return _("HR")
    return user.get_full_name() or user.get_username()


def _excerpt(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _hr_reviewers(pip: Pip, actor) -> list:
    """Every active HR user but the plan's supervisor and whoever submitted it."""
    excluded = [pk for pk in (pip.supervisor_id, actor.pk if actor else None) if pk]
    return list(
        get_user_model()
        .objects.filter(groups__name=roles.HR, is_active=True)
        .exclude(pk__in=excluded)
        .distinct()
        .order_by("pk")
    )


@handles(AuditAction.SUBMITTED, AuditAction.AMENDMENT_SUBMITTED)
def _submitted(event: AuditEvent) -> None:
    """HR is asked to review a plan, or an amendment, that a supervisor submitted."""
    pip = event.pip
    version = event.version or pip.current_version
    agent_name = pip.agent.full_name
    amendment = event.action == AuditAction.AMENDMENT_SUBMITTED
    if amendment:
        if version.state != VersionState.PENDING_HR:
            return
        url = reverse("pips:amendment", args=[pip.pk])
    else:
        if pip.status != Status.PENDING_HR:
            return
        url = reverse("pips:hr_review", args=[pip.pk])

    def text() -> str:
        if amendment:
            return _(
                "An amendment to %(reference)s for %(agent)s (version %(number)s) waits for "
                "your review."
            ) % {"reference": pip.reference, "agent": agent_name, "number": version.number}
        return _("%(reference)s for %(agent)s waits for your review.") % {
            "reference": pip.reference,
            "agent": agent_name,
        }

    reviewers = _hr_reviewers(pip, event.actor)
    for user in reviewers:
        language = languages.language_of(user)
        with translation.override(language):
            submitted_by = _name(event.actor or pip.supervisor)
            recipient_name = _name(user)
        emails.send(
            "hr-review-waiting",
            [user.email],
            {
                "pip": pip,
                "version": version,
                "amendment": amendment,
                "recipient_name": recipient_name,
                "agent_name": agent_name,
                "submitted_by": submitted_by,
                "url": emails.absolute(url),
            },
            language=language,
        )
    emails.notify(reviewers, pip=pip, url=url, text=text)


@handles(AuditAction.RETURNED, AuditAction.AMENDMENT_RETURNED)
def _returned(event: AuditEvent) -> None:
    """The supervisor is told that HR returned the draft, with HR's comments."""
    pip = event.pip
    version = event.version or pip.current_version
    amendment = event.action == AuditAction.AMENDMENT_RETURNED
    if amendment and version.state != VersionState.DRAFT:
        return
    if not amendment and pip.status != Status.DRAFT:
        return
    url = reverse("pips:edit", args=[pip.pk])
    supervisor = pip.supervisor
    language = languages.language_of(supervisor)
    with translation.override(language):
        hr_name = _name(event.actor)
    emails.send(
        "hr-returned",
        [supervisor.email],
        {
            "pip": pip,
            "version": version,
            "amendment": amendment,
            "recipient_name": _name(supervisor),
            "agent_name": pip.agent.full_name,
            "hr_name": hr_name,
            "comment": event.comment,
            "url": emails.absolute(url),
        },
        language=language,
    )

    def text() -> str:
        values = {
            "reference": pip.reference,
            "agent": pip.agent.full_name,
            "hr": _name(event.actor),
            "comment": _excerpt(event.comment),
        }
        if amendment:
            return (
                _(
                    "The amendment to %(reference)s for %(agent)s was returned by %(hr)s: "
                    "%(comment)s"
                )
                % values
            )
        return _("%(reference)s for %(agent)s was returned by %(hr)s: %(comment)s") % values

    emails.notify([supervisor], pip=pip, url=url, text=text)


@handles(AuditAction.APPROVED)
def _approved(event: AuditEvent) -> None:
    """The supervisor is told the plan is approved: next, the meeting and the issue."""
    pip = event.pip
    if pip.status != Status.APPROVED:
        return
    url = pip.get_absolute_url()
    supervisor = pip.supervisor
    agent_name = pip.agent.full_name
    language = languages.language_of(supervisor)
    with translation.override(language):
        hr_name = _name(event.actor)
    emails.send(
        "hr-approved",
        [supervisor.email],
        {
            "pip": pip,
            "recipient_name": _name(supervisor),
            "agent_name": agent_name,
            "hr_name": hr_name,
            "comment": event.comment,
            "url": emails.absolute(url),
        },
        language=language,
    )
    emails.notify(
        [supervisor],
        pip=pip,
        url=url,
        text=lambda: (
            _(
                "%(reference)s for %(agent)s is approved by %(hr)s: hold the meeting with "
                "%(agent)s, then issue the plan."
            )
            % {"reference": pip.reference, "agent": agent_name, "hr": _name(event.actor)}
        ),
    )


def _amended_version_notice(event: AuditEvent, version, *, ready: bool) -> None:
    """The employee hears of an amended version in force: once HR approved it (they can read
    it; the manager signs first) and once the manager signed it (they can sign it)."""
    pip = event.pip
    url = reverse("pips:sign", args=[pip.pk])
    addresses, users = employee_recipients(event)
    emails.send(
        "pip-amended",
        addresses,
        {
            "pip": pip,
            "version": version,
            "ready": ready,
            "url": emails.absolute(url),
            "changes_url": emails.absolute(
                reverse("pips:version_changes", args=[pip.pk, version.number])
            ),
        },
        language=_employee_language(pip),
    )

    def text() -> str:
        if ready:
            return _(
                "%(reference)s: version %(number)s of your plan is ready to read and sign."
            ) % {
                "reference": pip.reference,
                "number": version.number,
            }
        return _(
            "%(reference)s: version %(number)s of your plan is approved. You can read it now "
            "and sign it once your manager has."
        ) % {"reference": pip.reference, "number": version.number}

    emails.notify(users, pip=pip, url=url, text=text)


@handles(AuditAction.AMENDMENT_APPROVED)
def _amendment_approved(event: AuditEvent) -> None:
    """HR approved an amendment: it is in force and everyone signs it again, the manager first.
    The employee is told what changed; the supervisor, that their signature comes first."""
    pip = event.pip
    version = event.version
    if version is None or version.pk != pip.current_version_id:
        return
    manager_signed = Signature.objects.filter(version=version, role=SignerRole.MANAGER).exists()
    _amended_version_notice(event, version, ready=manager_signed)
    if manager_signed:
        return
    emails.notify(
        [pip.supervisor],
        pip=pip,
        url=reverse("pips:sign", args=[pip.pk]),
        text=lambda: (
            _(
                "%(reference)s: %(hr)s approved version %(number)s for %(agent)s. Sign it as "
                "manager; then %(agent)s can sign it."
            )
            % {
                "reference": pip.reference,
                "hr": _name(event.actor),
                "number": version.number,
                "agent": pip.agent.full_name,
            }
        ),
    )


def _amended_version_signable(event: AuditEvent) -> None:
    """The manager signed an amended version in force: the employee can sign it now. (Version 1
    is signed by the manager as it is issued; the "issued" notice covers it.)"""
    pip = event.pip
    version = event.version
    if version is None or version.number < 2 or version.pk != pip.current_version_id:
        return
    if Signature.objects.filter(version=version, role=SignerRole.AGENT).exists():
        return
    _amended_version_notice(event, version, ready=True)


# --- The employee signed: HR countersigns next --------------------------------------------------


def _hr_deciders(pip: Pip) -> list:
    """Every active HR user who may act as HR on the plan (separation of duties)."""
    users = (
        get_user_model()
        .objects.filter(groups__name=roles.HR, is_active=True)
        .distinct()
        .order_by("pk")
    )
    return [u for u in users if rules.may_act_as_hr(u, pip)]


def _countersigners(pip: Pip) -> list:
    """Who is told that HR's countersignature is next: the HR representative who approved the
    plan when they still may act as HR on it, else every HR user who may."""
    approver = pip.approved_by
    if approver is not None and approver.is_active and rules.may_act_as_hr(approver, pip):
        return [approver]
    return _hr_deciders(pip)


def _employee_signed_notice(event: AuditEvent, signature: Signature) -> None:
    """The employee signed (or a refusal was recorded): HR, whose countersignature is next, and
    the supervisor are told, by e-mail and in the app; a disagreement, with its comment."""
    pip = event.pip
    version = event.version or pip.current_version
    disagrees = signature.agrees is False
    refused = signature.kind == Signature.Kind.REFUSED
    agent_name = pip.agent.full_name
    hr = _countersigners(pip)
    recipients = [(user, True) for user in hr]
    if pip.supervisor_id not in {u.pk for u in hr} and event.actor_id != pip.supervisor_id:
        recipients.append((pip.supervisor, False))
    for user, for_hr in recipients:
        url = reverse("pips:sign", args=[pip.pk]) if for_hr else pip.get_absolute_url()
        language = languages.language_of(user)
        emails.send(
            "employee-signed",
            [user.email],
            {
                "pip": pip,
                "version": version,
                "signature": signature,
                "disagrees": disagrees,
                "refused": refused,
                "for_hr": for_hr,
                "agent_name": agent_name,
                "recipient_name": _name(user),
                "url": emails.absolute(url),
            },
            language=language,
        )
        emails.notify(
            [user],
            pip=pip,
            url=url,
            text=_signed_text(pip.reference, agent_name, signature, for_hr=for_hr),
        )


def _signed_text(reference: str, agent_name: str, signature: Signature, *, for_hr: bool):
    """What the in-app notice of the employee's signature says, written when it is stored
    (in its reader's language)."""
    values = {
        "reference": reference,
        "agent": agent_name,
        "comment": _excerpt(signature.comments),
    }

    def text() -> str:
        if signature.kind == Signature.Kind.REFUSED:
            if for_hr:
                said = _(
                    "%(reference)s: %(agent)s refused to sign (witnessed); HR countersigns next."
                )
            else:
                said = _("%(reference)s: %(agent)s refused to sign (witnessed).")
        elif signature.agrees is False:
            if for_hr:
                said = _(
                    "%(reference)s: %(agent)s signed and disagrees: %(comment)s; HR countersigns "
                    "next."
                )
            else:
                said = _("%(reference)s: %(agent)s signed and disagrees: %(comment)s.")
        elif for_hr:
            said = _("%(reference)s: %(agent)s signed the acknowledgment; HR countersigns next.")
        else:
            said = _("%(reference)s: %(agent)s signed the acknowledgment.")
        return said % values

    return text


@handles("refusal_recorded")
def _refusal_recorded(event: AuditEvent) -> None:
    pip = event.pip
    version = event.version or pip.current_version
    signature = Signature.objects.filter(version=version, role=SignerRole.AGENT).first()
    if signature is not None:
        _employee_signed_notice(event, signature)
