"""The reminder sweep (`sweep`): what the schedule says is due, found from the database, claimed
once and sent in chunks; and the reviews due to open on their day."""

from __future__ import annotations

from pips.reminders.sweep import (
    LEASE,
    REVIEW_KINDS,
    SendReport,
    SweepReport,
    due_work,
    reclaim,
    record,
    reminder_window,
    send_claimed,
    sweep,
    week_numbers,
)

__all__ = [
    "LEASE",
    "REVIEW_KINDS",
    "SendReport",
    "SweepReport",
    "due_work",
    "reminder_window",
    "reclaim",
    "record",
    "send_claimed",
    "sweep",
    "week_numbers",
]
