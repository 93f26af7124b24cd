"""Every write that matters to a plan or a template, a module per lifecycle family (plans,
signatures, amendments, reviews, schedule, templates). Each function is keyword-only, runs in
one transaction, locks the plan it changes, refuses what `pips.rules` or the plan's state does
not allow, writes its audit events and saves with update_fields. No view, form or task sets a
status. The public functions and inputs are re-exported here: `services.pip_submit(...)`."""

from __future__ import annotations

from pips.inputs import (
    CONSENT_TEXT,
    NO_META,
    CheckInInput,
    RequestMeta,
    ReviewItemInput,
    SignatureInput,
)
from pips.rules import full_name_matches
from pips.services.amendments import amendment_decide, amendment_start, amendment_submit
from pips.services.common import TransitionError, add_working_days
from pips.services.plans import (
    content_from_template,
    fill_baselines,
    pip_approve,
    pip_cancel,
    pip_create,
    pip_issue,
    pip_return,
    pip_submit,
    pip_update_draft,
    pip_viewed,
    report_exported,
    validate_content,
)
from pips.services.reviews import (
    checkin_agent_comment,
    checkin_missed,
    checkin_record,
    final_record,
    midpoint_record,
    pip_decide_unsuccessful,
    review_open,
)
from pips.services.schedule import checkin_dates, schedule_write
from pips.services.signatures import refusal_record, signature_add
from pips.services.templates import (
    template_content,
    template_copy,
    template_set_active,
    template_update,
    validate_template,
)

__all__ = [
    "CONSENT_TEXT",
    "NO_META",
    "CheckInInput",
    "RequestMeta",
    "ReviewItemInput",
    "SignatureInput",
    "TransitionError",
    "add_working_days",
    "amendment_decide",
    "amendment_start",
    "amendment_submit",
    "checkin_agent_comment",
    "checkin_dates",
    "checkin_missed",
    "checkin_record",
    "content_from_template",
    "fill_baselines",
    "final_record",
    "full_name_matches",
    "midpoint_record",
    "pip_approve",
    "pip_cancel",
    "pip_create",
    "pip_decide_unsuccessful",
    "pip_issue",
    "pip_return",
    "pip_submit",
    "pip_update_draft",
    "pip_viewed",
    "refusal_record",
    "report_exported",
    "review_open",
    "schedule_write",
    "signature_add",
    "template_content",
    "template_copy",
    "template_set_active",
    "template_update",
    "validate_content",
    "validate_template",
]
