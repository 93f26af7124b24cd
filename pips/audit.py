"""The audit actions: what an audit event says happened. The values are the strings stored in
`AuditEvent.action`; services write them, notification handlers and pages read them, and a
misspelt name fails at import instead of silently matching nothing.

And the hash chain over the events: each event carries the hash of the one written before it
(`prev_hash`) and its own (`event_hash`: the SHA-256 of the previous hash and of everything the
event records). `append` is the one place an event is written; `manage.py verify_audit_chain`
walks the chain and reports any event changed and any gap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from pips.models import AuditEvent


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
    AuditAction.REASSIGNED: gettext_lazy("Moved to another supervisor"),
    AuditAction.EMPLOYMENT_ENDED: gettext_lazy("Ended: employment ended"),
}


# --- the hash chain ----------------------------------------------------------------------------

#: The previous hash of the first event.
GENESIS = "0" * 64
#: The advisory lock that orders the writers of audit events (PostgreSQL; on SQLite writes are
#: serialised by the database). Held until the writer's transaction ends.
CHAIN_LOCK = 0x70697073_61756469  # "pipsaudi"


def _canonical_json(value: object) -> object:
    """A JSON value as it reads back from the database: jsonb stores numbers as numeric, so an
    integral float (1e20) comes back as an integer; keys are sorted when dumped."""
    if isinstance(value, dict):
        return {str(key): _canonical_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_json(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _canonical_ip(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return str(value)


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    """The hash of `event` chained to `prev_hash`. Part of every stored hash: never change what
    goes into it or how."""
    record = [
        prev_hash,
        event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        event.pip_id,
        event.version_id,
        event.actor_id,
        str(event.action),
        event.from_status,
        event.to_status,
        event.comment,
        _canonical_json(json.loads(json.dumps(event.changes or {}))),
        _canonical_ip(event.ip_address),
        event.user_agent,
    ]
    text = json.dumps(record, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def append(event: AuditEvent) -> AuditEvent:
    """Write a new audit event at the end of the chain. Concurrent writers take turns: each
    holds the chain's lock from here until its transaction ends, so the next one links to the
    event this one wrote (and ids follow the chain's order)."""
    from pips.models import AuditEvent

    if event.pk is not None:
        raise PermissionError("The audit trail is append-only.")
    # In a transaction of its own when the caller has none, so the lock lasts until the insert
    # is committed either way; inside the caller's, without a savepoint (nothing to undo here).
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        last = AuditEvent.objects.order_by("-pk").values_list("event_hash", flat=True).first()
        event.prev_hash = last or GENESIS
        event.event_hash = event_hash(event, event.prev_hash)
        event.save(force_insert=True)
    return event
