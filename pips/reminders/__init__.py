"""The reminder sweep (`sweep`): what the schedule says is due, found from the database, claimed
once and sent in chunks; and the reviews it opens on their day."""

from __future__ import annotations

from pips.reminders.sweep import (
    LEASE,
    SendReport,
    SweepReport,
    due_work,
    kpi_window,
    open_due_review,
    reclaim,
    record,
    review_opened_notify,
    send_claimed,
    sweep,
    week_numbers,
)

__all__ = [
    "LEASE",
    "SendReport",
    "SweepReport",
    "due_work",
    "kpi_window",
    "open_due_review",
    "reclaim",
    "record",
    "review_opened_notify",
    "send_claimed",
    "sweep",
    "week_numbers",
]
