"""The audit actions: what an audit event says happened. The values are the strings stored in
`AuditEvent.action`; services write them, notification handlers and pages read them, and a
misspelt name fails at import instead of silently matching nothing. Each action also has its
audience (`AUDIENCE`): who may read that entry of a plan's history, on pages, in e-mails and
notifications and in the PDF's audit certificate alike. The hash chain over the stored events
is `pips.audit_chain`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy


class AuditAction(StrEnum):
    CREATED = "created"
    EDITED = "edited"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    ISSUED = "issued"
    SIGNED = "signed"
    REFUSAL_RECORDED = "refusal_recorded"
    ACTIVATED = "activated"
    AMENDMENT_STARTED = "amendment_started"
    AMENDMENT_SUBMITTED = "amendment_submitted"
    AMENDMENT_RETURNED = "amendment_returned"
    AMENDMENT_APPROVED = "amendment_approved"
    AMENDMENT_ACKNOWLEDGED = "amendment_acknowledged"
    CHECKIN_RECORDED = "checkin_recorded"
    CHECKIN_MISSED = "checkin_missed"
    CHECKIN_COMMENTED = "checkin_commented"
    MIDPOINT_REVIEW_OPENED = "midpoint_review_opened"
    MIDPOINT_RECORDED = "midpoint_recorded"
    FINAL_REVIEW_OPENED = "final_review_opened"
    REFERRED_TO_HR = "referred_to_hr"
    EXTENDED = "extended"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    VIEWED = "viewed"
    DOWNLOADED = "downloaded"
    REPORT_EXPORTED = "report_exported"
    TEMPLATE_CREATED = "template_created"
    TEMPLATE_EDITED = "template_edited"
    TEMPLATE_DEACTIVATED = "template_deactivated"
    TEMPLATE_REACTIVATED = "template_reactivated"
    PAUSED = "paused"
    RESUMED = "resumed"
    REASSIGNED = "reassigned"
    EMPLOYMENT_ENDED = "employment_ended"
    DELEGATED = "delegated"
    DELEGATION_ENDED = "delegation_ended"


# Looking at a plan and downloading its PDF: on record, but not steps of the plan.
ACCESS_ACTIONS = (AuditAction.VIEWED, AuditAction.DOWNLOADED)

# The drafting between supervisor and HR, shown with the comments on the submission page.
SUBMISSION_ACTIONS = (
    AuditAction.CREATED,
    AuditAction.SUBMITTED,
    AuditAction.RETURNED,
    AuditAction.APPROVED,
    AuditAction.AMENDMENT_STARTED,
    AuditAction.AMENDMENT_SUBMITTED,
    AuditAction.AMENDMENT_RETURNED,
    AuditAction.AMENDMENT_APPROVED,
)

# How the audit trail names each action (the plan's history page, the PDF's audit page).
AUDIT_LABELS: dict[AuditAction, str] = {
    AuditAction.CREATED: gettext_lazy("Draft created"),
    AuditAction.EDITED: gettext_lazy("Draft edited"),
    AuditAction.SUBMITTED: gettext_lazy("Submitted to HR"),
    AuditAction.RETURNED: gettext_lazy("Returned by HR"),
    AuditAction.APPROVED: gettext_lazy("Approved by HR"),
    AuditAction.ISSUED: gettext_lazy("Issued to the employee"),
    AuditAction.SIGNED: gettext_lazy("Signed"),
    AuditAction.REFUSAL_RECORDED: gettext_lazy("Refusal to sign recorded"),
    AuditAction.ACTIVATED: gettext_lazy("Plan active: all signatures present"),
    AuditAction.AMENDMENT_STARTED: gettext_lazy("Amendment started"),
    AuditAction.AMENDMENT_SUBMITTED: gettext_lazy("Amendment submitted to HR"),
    AuditAction.AMENDMENT_RETURNED: gettext_lazy("Amendment returned by HR"),
    AuditAction.AMENDMENT_APPROVED: gettext_lazy("Amendment approved"),
    AuditAction.AMENDMENT_ACKNOWLEDGED: gettext_lazy("Amendment acknowledged"),
    AuditAction.CHECKIN_RECORDED: gettext_lazy("Check-in recorded"),
    AuditAction.CHECKIN_MISSED: gettext_lazy("Check-in missed"),
    AuditAction.CHECKIN_COMMENTED: gettext_lazy("Employee commented on a check-in"),
    AuditAction.MIDPOINT_REVIEW_OPENED: gettext_lazy("Midpoint review opened"),
    AuditAction.MIDPOINT_RECORDED: gettext_lazy("Midpoint review recorded"),
    AuditAction.FINAL_REVIEW_OPENED: gettext_lazy("Final review opened"),
    AuditAction.REFERRED_TO_HR: gettext_lazy("Final review: referred to HR"),
    AuditAction.EXTENDED: gettext_lazy("Extended"),
    AuditAction.CLOSED: gettext_lazy("Closed"),
    AuditAction.CANCELLED: gettext_lazy("Cancelled"),
    AuditAction.VIEWED: gettext_lazy("Viewed"),
    AuditAction.DOWNLOADED: gettext_lazy("PDF downloaded"),
    AuditAction.PAUSED: gettext_lazy("Paused for leave"),
    AuditAction.RESUMED: gettext_lazy("Resumed after leave"),
    AuditAction.REASSIGNED: gettext_lazy("Reassigned to another supervisor"),
    AuditAction.EMPLOYMENT_ENDED: gettext_lazy("Ended: employment ended"),
    AuditAction.DELEGATED: gettext_lazy("Delegate named"),
    AuditAction.DELEGATION_ENDED: gettext_lazy("Cover ended"),
}

#: The names of the details an event stores (`AuditEvent.changes`), in the reader's language.
#: The stored keys are part of the hash chain and never change; a key not named here is shown
#: as stored, marked as the English identifier it is.
DETAIL_LABELS: dict[str, str] = {
    "agrees": gettext_lazy("agrees with the plan"),
    "checkin": gettext_lazy("check-in no."),
    "copied_from": gettext_lazy("copied from template no."),
    "consent_language": gettext_lazy("language of the consent"),
    "days": gettext_lazy("days paused"),
    "decided_by_hr": gettext_lazy("decided by HR"),
    "delegate": gettext_lazy("delegate"),
    "delegate_id": gettext_lazy("delegate's account no."),
    "delegation": gettext_lazy("cover no."),
    "end_on": gettext_lazy("until"),
    "ended_on": gettext_lazy("employment ended on"),
    "fields": gettext_lazy("fields changed"),
    "filters": gettext_lazy("filters"),
    "from": gettext_lazy("from supervisor"),
    "from_id": gettext_lazy("from supervisor's account no."),
    "from_version": gettext_lazy("from version"),
    "held_on": gettext_lazy("held on"),
    "judged": gettext_lazy("expectations judged"),
    "kind": gettext_lazy("kind of leave"),
    "new_end_date": gettext_lazy("new end date"),
    "not_met": gettext_lazy("expectations not met"),
    "on_behalf_of": gettext_lazy("on behalf of"),
    "outcome": gettext_lazy("outcome"),
    "proposed_outcome": gettext_lazy("proposed outcome"),
    "resume_on": gettext_lazy("resumes on"),
    "role": gettext_lazy("role"),
    "scheduled_for": gettext_lazy("scheduled for"),
    "sha256": "SHA-256",
    "start_on": gettext_lazy("from"),
    "template": gettext_lazy("template"),
    "template_id": gettext_lazy("template no."),
    "to": gettext_lazy("to supervisor"),
    "to_id": gettext_lazy("to supervisor's account no."),
    "to_version": gettext_lazy("to version"),
    "typed_name": gettext_lazy("typed name"),
    "witness": gettext_lazy("witness"),
}


class Audience(StrEnum):
    """Who sees an entry of a plan's history. The supervisor and HR see every entry whole."""

    #: The employee sees the entry and its note, from the plan's issue on.
    EVERYONE = "everyone"
    #: The employee sees that it happened, not the note (HR's note to the supervisor, say).
    EMPLOYEE_WITHOUT_NOTE = "employee_without_note"
    #: The supervisor and HR only: the drafting between them, internal steps, page views.
    STAFF = "staff"


#: One audience per kind of entry, applied alike to the plan page, e-mails, in-app notifications
#: and the PDF's audit certificate. An action not listed here is the staff's only.
AUDIENCE: dict[AuditAction, Audience] = {
    AuditAction.CREATED: Audience.STAFF,
    AuditAction.EDITED: Audience.STAFF,
    AuditAction.SUBMITTED: Audience.STAFF,
    AuditAction.RETURNED: Audience.STAFF,
    AuditAction.APPROVED: Audience.STAFF,
    AuditAction.ISSUED: Audience.EVERYONE,
    AuditAction.SIGNED: Audience.EVERYONE,
    AuditAction.REFUSAL_RECORDED: Audience.EVERYONE,
    AuditAction.ACTIVATED: Audience.EVERYONE,
    AuditAction.AMENDMENT_STARTED: Audience.STAFF,
    AuditAction.AMENDMENT_SUBMITTED: Audience.STAFF,
    AuditAction.AMENDMENT_RETURNED: Audience.STAFF,
    AuditAction.AMENDMENT_APPROVED: Audience.EMPLOYEE_WITHOUT_NOTE,
    AuditAction.AMENDMENT_ACKNOWLEDGED: Audience.EVERYONE,
    AuditAction.CHECKIN_RECORDED: Audience.EVERYONE,
    AuditAction.CHECKIN_MISSED: Audience.EVERYONE,
    AuditAction.CHECKIN_COMMENTED: Audience.EVERYONE,
    AuditAction.MIDPOINT_REVIEW_OPENED: Audience.EVERYONE,
    AuditAction.MIDPOINT_RECORDED: Audience.EVERYONE,
    AuditAction.FINAL_REVIEW_OPENED: Audience.EVERYONE,
    AuditAction.REFERRED_TO_HR: Audience.EVERYONE,
    AuditAction.EXTENDED: Audience.EVERYONE,
    AuditAction.CLOSED: Audience.EVERYONE,
    AuditAction.CANCELLED: Audience.EVERYONE,
    AuditAction.PAUSED: Audience.EVERYONE,
    AuditAction.RESUMED: Audience.EVERYONE,
    AuditAction.REASSIGNED: Audience.EMPLOYEE_WITHOUT_NOTE,
    AuditAction.EMPLOYMENT_ENDED: Audience.EVERYONE,
    AuditAction.DELEGATED: Audience.STAFF,
    AuditAction.DELEGATION_ENDED: Audience.STAFF,
    AuditAction.VIEWED: Audience.STAFF,
    AuditAction.DOWNLOADED: Audience.STAFF,
}


def audience_of(action: str) -> Audience:
    try:
        return AUDIENCE.get(AuditAction(action), Audience.STAFF)
    except ValueError:
        return Audience.STAFF


def employee_sees(event, *, issued_at) -> bool:
    """Whether the plan's employee may see this entry: a kind meant for them, from the plan's
    issue on (nothing of the drafting before it)."""
    if issued_at is None or event.at < issued_at:
        return False
    return audience_of(event.action) != Audience.STAFF


def employee_sees_note(event, *, issued_at) -> bool:
    return employee_sees(event, issued_at=issued_at) and (
        audience_of(event.action) == Audience.EVERYONE
    )


@dataclass(frozen=True)
class Entry:
    """An entry of a plan's history as one reader may see it."""

    event: object
    label: str
    comment: str
    on_behalf_of: str = ""


def entries(events, *, issued_at, whole: bool) -> list[Entry]:
    """The entries a reader sees: all of them for the supervisor and HR (`whole`), the
    employee's audience otherwise, each with its note only where the rule allows it."""
    shown = []
    for event in events:
        if not whole and not employee_sees(event, issued_at=issued_at):
            continue
        note = event.comment if whole or employee_sees_note(event, issued_at=issued_at) else ""
        changes = event.changes if isinstance(event.changes, dict) else {}
        shown.append(
            Entry(
                event=event,
                label=event.label,
                comment=note,
                on_behalf_of=str(changes.get("on_behalf_of") or ""),
            )
        )
    return shown
