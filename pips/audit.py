"""The audit actions: what an audit event says happened. The values are the strings stored in
`AuditEvent.action`; services write them, notification handlers and pages read them, and a
misspelt name fails at import instead of silently matching nothing."""

from __future__ import annotations

from enum import StrEnum


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
    REASSIGNED = "reassigned"
    EMPLOYMENT_ENDED = "employment_ended"


# How the audit trail names each action (the plan's history page, the PDF's audit page).
AUDIT_LABELS: dict[AuditAction, str] = {
    AuditAction.CREATED: "Draft created",
    AuditAction.EDITED: "Draft edited",
    AuditAction.SUBMITTED: "Submitted to HR",
    AuditAction.RETURNED: "Returned by HR",
    AuditAction.APPROVED: "Approved by HR",
    AuditAction.ISSUED: "Issued to the employee",
    AuditAction.SIGNED: "Signed",
    AuditAction.REFUSAL_RECORDED: "Refusal to sign recorded",
    AuditAction.ACTIVATED: "Plan active: all signatures present",
    AuditAction.AMENDMENT_STARTED: "Amendment started",
    AuditAction.AMENDMENT_SUBMITTED: "Amendment submitted to HR",
    AuditAction.AMENDMENT_RETURNED: "Amendment returned by HR",
    AuditAction.AMENDMENT_APPROVED: "Amendment approved",
    AuditAction.AMENDMENT_ACKNOWLEDGED: "Amendment acknowledged",
    AuditAction.CHECKIN_RECORDED: "Check-in recorded",
    AuditAction.CHECKIN_MISSED: "Check-in missed",
    AuditAction.CHECKIN_COMMENTED: "Employee commented on a check-in",
    AuditAction.MIDPOINT_REVIEW_OPENED: "Midpoint review opened",
    AuditAction.MIDPOINT_RECORDED: "Midpoint review recorded",
    AuditAction.FINAL_REVIEW_OPENED: "Final review opened",
    AuditAction.REFERRED_TO_HR: "Final review: referred to HR",
    AuditAction.EXTENDED: "Extended",
    AuditAction.CLOSED: "Closed",
    AuditAction.CANCELLED: "Cancelled",
    AuditAction.VIEWED: "Viewed",
    AuditAction.DOWNLOADED: "PDF downloaded",
    AuditAction.REASSIGNED: "Moved to another supervisor",
    AuditAction.EMPLOYMENT_ENDED: "Ended: employment ended",
}
